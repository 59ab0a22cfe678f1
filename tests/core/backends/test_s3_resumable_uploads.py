"""Resumable uploads against moto and rclone serve s3: resume after a crash sending only the missing parts, a held
part that does not match, cancel without orphans, a changed file, and the UploadStrategy around them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sdgui.core import errors
from sdgui.core.backends.base import BLAKE3_KEY
from sdgui.core.backends.factory import BackendCache
from sdgui.core.backends.resumable_uploads import choose_part_size
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.context import CopyContext, CopyItem, FileProgress, resume_id
from sdgui.core.copy.upload import UploadStrategy
from sdgui.core.copy.upload.resumable import ResumeToken, resumable_upload, supports_resumable_upload
from sdgui.core.copy.verify import hash_bytes
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume, read_object
from tests.core.backends.multipart_support import (
    PART,
    SIZE,
    CountingClient,
    Crash,
    head_metadata,
    metadata_for,
    multipart_client,
    volume,
)
from tests.servers import S3Server

# -- resumable uploads ---------------------------------------------------------------------------------------


def test_a_crashed_upload_resumes_sending_only_the_missing_parts(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    metadata = metadata_for(big_file)
    tokens: list[dict[str, Any]] = []
    first = CountingClient(client, crash_after=2)
    with pytest.raises(Crash):
        resumable_upload(
            first, "up/big.bin", big_file, part_size=PART, concurrency=1, metadata=metadata, on_part_done=tokens.append
        )
    assert first.uploaded == [1, 2]
    assert [sorted(t["parts"]) for t in tokens] == [[], ["1"], ["1", "2"]]  # the upload id is kept before any part
    assert len(s3_server.open_multipart_uploads(bucket)) == 1  # left open for the resume

    # A new process: a new client, only the token survived.
    client.close()
    again = CountingClient(multipart_client(volume(s3_server, bucket), s3_server.secret_access_key))
    progressed: list[int] = []
    kept: list[int] = []
    etag = resumable_upload(
        again,
        "up/big.bin",
        big_file,
        part_size=8 * MiB,  # ignored: the token's part size wins
        concurrency=3,
        metadata=metadata,
        resume_token=tokens[-1],
        progress=progressed.append,
        resumed=kept.append,
    )
    again.inner.close()
    assert sorted(again.uploaded) == [3, 4, 5]
    assert sum(kept) == 2 * PART  # parts 1 and 2, proved and kept
    assert sum(progressed) + sum(kept) == SIZE
    assert etag
    assert read_object(s3_server, bucket, "up/big.bin") == big_file.read_bytes()
    assert head_metadata(s3_server, bucket, "up/big.bin") == metadata
    assert s3_server.open_multipart_uploads(bucket) == []


def test_parts_the_token_missed_are_found_on_the_server(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    """A crash between a part's upload and the journal's write: the server's list, not the token, counts."""
    metadata = metadata_for(big_file)
    tokens: list[dict[str, Any]] = []
    with pytest.raises(Crash):
        resumable_upload(
            CountingClient(client, crash_after=3),
            "big.bin",
            big_file,
            part_size=PART,
            concurrency=1,
            metadata=metadata,
            on_part_done=tokens.append,
        )
    stale_token = tokens[1]  # knows of part 1 only
    again = CountingClient(client)
    resumable_upload(
        again, "big.bin", big_file, part_size=PART, concurrency=2, metadata=metadata, resume_token=stale_token
    )
    assert sorted(again.uploaded) == [4, 5]
    assert read_object(s3_server, bucket, "big.bin") == big_file.read_bytes()


def test_an_upload_an_earlier_version_began_with_sha256_parts_resumes(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    """Before CRC64NVME, uploads carried SHA-256 part checksums: a journal's token from then still resumes, proving
    the held parts by their SHA-256 and completing with it."""
    if s3_server.name == "rclone":
        pytest.skip("rclone serve s3 has no flexible checksums: its uploads were and are Content-MD5 ones")
    metadata = metadata_for(big_file)
    answer = s3_server.client().create_multipart_upload(
        Bucket=bucket, Key="old.bin", Metadata=metadata, ChecksumAlgorithm="SHA256"
    )
    data = big_file.read_bytes()
    held = [client.upload_part("old.bin", answer["UploadId"], n, data[(n - 1) * PART : n * PART], checksum="sha256")
            for n in (1, 2)]  # fmt: skip
    token = ResumeToken("old.bin", answer["UploadId"], "sha256", PART, SIZE, metadata, {p.number: p.etag for p in held})
    again = CountingClient(client)
    resumable_upload(
        again, "old.bin", big_file, part_size=PART, concurrency=2, metadata=metadata, resume_token=token.to_json()
    )
    assert sorted(again.uploaded) == [3, 4, 5]
    assert read_object(s3_server, bucket, "old.bin") == data


def test_a_held_part_that_does_not_match_the_file_starts_the_upload_over(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    """Parts are proved by their MD5 ETag; a part that differs cannot simply be sent again (rclone serve s3
    refuses to replace a part with 501 NotImplemented), so the upload starts over and the old one is aborted."""
    metadata = {"origin": "test"}  # no blake3: only the per-part proof guards the content here
    tokens: list[dict[str, Any]] = []
    with pytest.raises(Crash):
        resumable_upload(
            CountingClient(client, crash_after=3),
            "f.bin",
            big_file,
            part_size=PART,
            concurrency=1,
            metadata=metadata,
            on_part_done=tokens.append,
        )
    data = bytearray(big_file.read_bytes())
    data[PART + 10] ^= 0xFF  # part 2 changes, same size
    big_file.write_bytes(bytes(data))
    again = CountingClient(client)
    resumable_upload(
        again, "f.bin", big_file, part_size=PART, concurrency=2, metadata=metadata, resume_token=tokens[-1]
    )
    assert sorted(again.uploaded) == [1, 2, 3, 4, 5]
    assert read_object(s3_server, bucket, "f.bin") == bytes(data)
    assert s3_server.open_multipart_uploads(bucket) == []


def test_cancel_aborts_the_upload(client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path) -> None:
    done: list[dict[str, Any]] = []

    def cancel_after_two_parts() -> None:
        if len(done) >= 3:
            raise errors.CancelledError("cancelled by the user")

    with pytest.raises(errors.CancelledError):
        resumable_upload(
            client,
            "c.bin",
            big_file,
            part_size=PART,
            concurrency=1,
            metadata=metadata_for(big_file),
            on_part_done=done.append,
            cancel_check=cancel_after_two_parts,
        )
    assert s3_server.open_multipart_uploads(bucket) == []
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_file_that_changed_is_not_completed(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    metadata = {BLAKE3_KEY: hash_bytes(b"something else")}
    with pytest.raises(errors.ChecksumMismatchError):
        resumable_upload(client, "x.bin", big_file, part_size=PART, concurrency=2, metadata=metadata)
    assert s3_server.open_multipart_uploads(bucket) == []
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_token_for_another_version_of_the_file_starts_over(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    tokens: list[dict[str, Any]] = []
    with pytest.raises(Crash):
        resumable_upload(
            CountingClient(client, crash_after=1),
            "v.bin",
            big_file,
            part_size=PART,
            concurrency=1,
            metadata=metadata_for(big_file),
            on_part_done=tokens.append,
        )
    old_id = tokens[-1]["upload_id"]
    big_file.write_bytes(os.urandom(SIZE - 1))
    again = CountingClient(client)
    resumable_upload(
        again,
        "v.bin",
        big_file,
        part_size=PART,
        concurrency=2,
        metadata=metadata_for(big_file),
        resume_token=tokens[-1],
    )
    assert sorted(again.uploaded) == [1, 2, 3, 4, 5]
    assert old_id not in {uid for _, uid in s3_server.open_multipart_uploads(bucket)}
    assert s3_server.open_multipart_uploads(bucket) == []
    assert read_object(s3_server, bucket, "v.bin") == big_file.read_bytes()


def test_a_token_whose_upload_is_gone_starts_over(
    client: S3MultipartClient, s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    metadata = metadata_for(big_file)
    token = ResumeToken("g.bin", "no-such-upload-id", "md5", PART, SIZE, metadata, {1: "x"}).to_json()
    again = CountingClient(client)
    resumable_upload(again, "g.bin", big_file, part_size=PART, concurrency=2, metadata=metadata, resume_token=token)
    assert sorted(again.uploaded) == [1, 2, 3, 4, 5]
    assert read_object(s3_server, bucket, "g.bin") == big_file.read_bytes()


def test_tokens_round_trip_and_part_sizes_respect_s3_limits() -> None:
    token = ResumeToken("k", "id", "sha256", PART, SIZE, {"a": "b"}, {2: "e2", 1: "e1"})
    assert ResumeToken.from_json(token.to_json()) == token
    assert ResumeToken.from_json({"version": 99}) is None
    assert ResumeToken.from_json({"version": 1, "checksum": "md5"}) is None
    assert choose_part_size(100, 1 * MiB) == 5 * MiB
    assert choose_part_size(200 * 1024**3, 8 * MiB) == 21 * MiB  # 10,000 parts at most


# -- through UploadStrategy ----------------------------------------------------------------------------------


class MemoryTokens:
    """A ResumeTokens store in a dict (the job journal provides the real one)."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.puts = 0

    def get(self, file_id: str) -> dict[str, Any] | None:
        return self.tokens.get(file_id)

    def put(self, file_id: str, token: dict[str, Any]) -> None:
        self.puts += 1
        self.tokens[file_id] = token

    def clear(self, file_id: str) -> None:
        self.tokens.pop(file_id, None)


def test_upload_strategy_uses_the_resume_store_for_large_files(
    s3_server: S3Server, bucket: str, big_file: Path
) -> None:
    add_volume(s3_server, bucket)
    settings = TransferSettings(upload_chunk_size=PART, multipart_threshold=PART)
    backends = BackendCache(VolumeRegistry(), settings=settings)
    try:
        dst = backends.get("cloud")
        assert supports_resumable_upload(dst)
        src = backends.get(None)
        item = CopyItem(src, str(big_file).lstrip("/"), dst, "via/strategy.bin", SIZE)
        store = MemoryTokens()
        ctx = CopyContext(settings=settings, cancel=CancelToken(), resume_tokens=store)
        seen: list[int] = []
        outcome = UploadStrategy().copy_file(ctx, item, FileProgress(SIZE, seen.append))
        assert store.puts == 6 and store.tokens == {}  # one per part and one at the start; cleared at the end
        assert resume_id(item) == f"{big_file} -> cloud:via/strategy.bin"
        assert outcome.size == SIZE and outcome.verified == "provider-checked"
        entry = dst.stat("via/strategy.bin")
        assert entry.blake3 == outcome.blake3 == hash_bytes(big_file.read_bytes())
        assert entry.size == SIZE
        assert sum(seen) == SIZE - 1  # the job confirms the last byte
    finally:
        backends.close()
    assert s3_server.open_multipart_uploads(bucket) == []


def test_upload_strategy_resumes_from_the_store_after_a_crash(
    s3_server: S3Server, bucket: str, big_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_volume(s3_server, bucket)
    settings = TransferSettings(upload_chunk_size=PART, multipart_threshold=PART, upload_concurrency=1)
    real = S3MultipartClient.upload_part
    sent: list[int] = []
    crash_after: list[int | None] = [2]

    def counting(self: S3MultipartClient, key: str, upload_id: str, number: int, data: Any, **kw: Any) -> Any:
        if crash_after[0] is not None and len(sent) >= crash_after[0]:
            raise Crash("killed")
        sent.append(number)
        return real(self, key, upload_id, number, data, **kw)

    monkeypatch.setattr(S3MultipartClient, "upload_part", counting)
    store = MemoryTokens()
    for attempt in range(2):
        backends = BackendCache(VolumeRegistry(), settings=settings)
        try:
            item = CopyItem(backends.get(None), str(big_file).lstrip("/"), backends.get("cloud"), "r.bin", SIZE)
            ctx = CopyContext(settings=settings, cancel=CancelToken(), resume_tokens=store)
            if attempt == 0:
                with pytest.raises(Crash):
                    UploadStrategy().copy_file(ctx, item, FileProgress(SIZE, lambda n: None))
                assert sorted(store.tokens[resume_id(item)]["parts"]) == ["1", "2"]
                crash_after[0] = None
            else:
                outcome = UploadStrategy().copy_file(ctx, item, FileProgress(SIZE, lambda n: None))
                assert outcome.size == SIZE and store.tokens == {}
        finally:
            backends.close()
    assert sent == [1, 2, 3, 4, 5]  # parts 1 and 2 went once
    assert read_object(s3_server, bucket, "r.bin") == big_file.read_bytes()
    assert s3_server.open_multipart_uploads(bucket) == []


def test_upload_strategy_cancel_leaves_no_upload_and_no_token(s3_server: S3Server, bucket: str, big_file: Path) -> None:
    add_volume(s3_server, bucket)
    settings = TransferSettings(upload_chunk_size=PART, multipart_threshold=PART, upload_concurrency=1)
    backends = BackendCache(VolumeRegistry(), settings=settings)
    store = MemoryTokens()
    cancel = CancelToken()

    def cancel_on_second_part(delta: int) -> None:
        cancel.cancel()

    try:
        item = CopyItem(backends.get(None), str(big_file).lstrip("/"), backends.get("cloud"), "c.bin", SIZE)
        ctx = CopyContext(settings=settings, cancel=cancel, resume_tokens=store)
        with pytest.raises(errors.CancelledError):
            UploadStrategy().copy_file(ctx, item, FileProgress(SIZE, cancel_on_second_part))
    finally:
        backends.close()
    assert store.tokens == {} and store.puts >= 2
    assert s3_server.open_multipart_uploads(bucket) == []
