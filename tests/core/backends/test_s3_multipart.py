"""S3MultipartClient and resumable uploads against moto and rclone serve s3: open uploads, resume after a crash,
cancel without orphans, a changed file, and botocore's errors in sdgui's terms."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from sdgui.core import errors
from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY, NewUpload, UploadedPart
from sdgui.core.backends.botocore_errors import classify
from sdgui.core.backends.factory import BackendCache
from sdgui.core.backends.local import LocalBackend
from sdgui.core.backends.s3 import S3Config
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.context import CopyContext, CopyItem, FileProgress, resume_id
from sdgui.core.copy.upload import UploadStrategy
from sdgui.core.copy.upload.resumable import ResumeToken, choose_part_size, resumable_upload, supports_resumable_upload
from sdgui.core.copy.verify import hash_bytes
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from tests.copying import add_volume, read_object
from tests.servers import S3Server

PART = 5 * MiB
SIZE = 4 * PART + 12_345  # five parts, the last one short


class Crash(Exception):
    """Stands for the process dying: not an SdError, so nothing is cleaned up."""


class CountingClient:
    """Wraps S3MultipartClient, counting upload_part calls; can crash after some parts."""

    def __init__(self, inner: S3MultipartClient, crash_after: int | None = None) -> None:
        self.inner = inner
        self.crash_after = crash_after
        self.uploaded: list[int] = []
        self._lock = threading.Lock()

    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        return self.inner.start(key, metadata)

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        return self.inner.list_parts(key, upload_id)

    def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        *,
        checksum: Any = "md5",
        cancel_check: Callable[[], None] | None = None,
    ) -> UploadedPart:
        with self._lock:
            if self.crash_after is not None and len(self.uploaded) >= self.crash_after:
                raise Crash(f"crashed before part {number}")
            self.uploaded.append(number)
        return self.inner.upload_part(key, upload_id, number, data, checksum=checksum, cancel_check=cancel_check)

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart], metadata: Mapping[str, str]) -> str:
        return self.inner.complete(key, upload_id, parts, metadata)

    def abort(self, key: str, upload_id: str) -> None:
        self.inner.abort(key, upload_id)


def multipart_client(config: VolumeConfig, secret: str | None) -> S3MultipartClient:
    return S3MultipartClient(S3Config.from_volume(config, secret))


def volume(server: S3Server, bucket: str, *, prefix: str = "", name: str = "cloud") -> VolumeConfig:
    return VolumeConfig(
        name,
        "s3",
        bucket=bucket,
        endpoint=server.endpoint,
        access_key_id=server.access_key_id,
        allow_http=True,
        prefix=prefix,
    )


@pytest.fixture
def client(s3_server: S3Server, bucket: str) -> Iterator[S3MultipartClient]:
    multipart = multipart_client(volume(s3_server, bucket), s3_server.secret_access_key)
    yield multipart
    multipart.close()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(SIZE))
    return path


def metadata_for(path: Path) -> dict[str, str]:
    return {BLAKE3_KEY: hash_bytes(path.read_bytes()), MTIME_KEY: "1700000000.5"}


def head_metadata(server: S3Server, bucket: str, key: str) -> dict[str, str]:
    # rclone answers with canonicalised header names (Sdgui-Blake3); S3 metadata keys are case-insensitive.
    meta = server.client().head_object(Bucket=bucket, Key=key)["Metadata"]
    return {k.lower(): v for k, v in meta.items()}


# -- open uploads --------------------------------------------------------------------------------------------


def test_lists_and_aborts_open_uploads(client: S3MultipartClient, s3_server: S3Server, bucket: str) -> None:
    assert client.list_uploads() == []  # rclone says 404 NoSuchUpload here: that means none
    s3 = s3_server.client()
    ids = {s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]: key for key in ("a/one", "a/two", "b")}
    listed = client.list_uploads()
    assert {(u.key, u.upload_id) for u in listed} == {(key, uid) for uid, key in ids.items()}
    assert all(u.initiated is not None and u.initiated.tzinfo is not None for u in listed)
    assert {u.key for u in client.list_uploads("a/")} == {"a/one", "a/two"}

    first = next(u for u in listed if u.key == "b")
    client.abort(first.key, first.upload_id)
    client.abort(first.key, first.upload_id)  # already gone: not an error
    assert sorted(k for k, _ in s3_server.open_multipart_uploads(bucket)) == ["a/one", "a/two"]


def test_a_volume_prefix_is_added_and_stripped(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    inside = s3.create_multipart_upload(Bucket=bucket, Key="team/docs/x.iso")["UploadId"]
    s3.create_multipart_upload(Bucket=bucket, Key="other/y.iso")
    multipart = multipart_client(volume(s3_server, bucket, prefix="team"), s3_server.secret_access_key)
    try:
        assert [(u.key, u.upload_id) for u in multipart.list_uploads()] == [("docs/x.iso", inside)]
        multipart.abort("docs/x.iso", inside)
    finally:
        multipart.close()
    assert [k for k, _ in s3_server.open_multipart_uploads(bucket)] == ["other/y.iso"]


def test_sha256_part_checksums_where_the_server_has_them(client: S3MultipartClient, s3_server: S3Server) -> None:
    started = client.start("probe", {"k": "v"})
    try:
        # moto and SeaweedFS echo ChecksumAlgorithm; rclone serve s3 ignores it, so its parts rely on Content-MD5
        # (which it checks).
        assert started.checksum == ("md5" if s3_server.name == "rclone" else "sha256")
        part = client.upload_part("probe", started.upload_id, 1, b"abc", checksum=started.checksum)
        assert (part.sha256 is not None) == (started.checksum == "sha256")
        assert client.list_parts("probe", started.upload_id)[1].etag == part.etag
    finally:
        client.abort("probe", started.upload_id)


def test_a_part_damaged_on_the_way_is_refused(client: S3MultipartClient, s3_server: S3Server) -> None:
    if s3_server.name == "moto":
        pytest.skip("moto_server checks neither Content-MD5 nor x-amz-checksum-sha256")
    started = client.start("damaged", {})
    try:
        real = client.client.upload_part

        def corrupting(**request: Any) -> Any:
            return real(**{**request, "Body": b"X" + request["Body"][1:]})

        client.client.upload_part = corrupting  # botocore clients are plain objects: swap the call
        with pytest.raises(errors.ChecksumMismatchError):
            client.upload_part("damaged", started.upload_id, 1, b"abc" * 1000)
    finally:
        client.abort("damaged", started.upload_id)


def test_a_wrong_secret_is_a_credentials_error(s3_server: S3Server, bucket: str) -> None:
    if s3_server.name == "moto":
        pytest.skip("the test moto_server checks no signatures")
    multipart = multipart_client(volume(s3_server, bucket), "not-the-secret")
    try:
        with pytest.raises(errors.CredentialsError) as caught:
            multipart.list_uploads()
        assert "not-the-secret" not in str(caught.value)
        assert "cloud" in str(caught.value)
        with pytest.raises(errors.CredentialsError):
            multipart.start("x", {})
    finally:
        multipart.close()


def test_a_missing_bucket_is_not_found(s3_server: S3Server) -> None:
    if s3_server.name == "seaweedfs":
        pytest.skip("SeaweedFS creates a missing bucket on CreateMultipartUpload for an admin identity")
    multipart = multipart_client(volume(s3_server, "no-such-bucket-here"), s3_server.secret_access_key)
    try:
        with pytest.raises(errors.NotFoundError, match="bucket"):
            multipart.start("x", {})
    finally:
        multipart.close()


def test_only_s3_and_r2_volumes_have_a_multipart_client(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError):
        multipart_client(VolumeConfig("disk", "local", root=str(tmp_path)), None)
    with pytest.raises(errors.CredentialsError):
        multipart_client(VolumeConfig("c", "s3", bucket="b", access_key_id="AKID"), None)
    assert not supports_resumable_upload(LocalBackend(tmp_path, volume="disk"))


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("SignatureDoesNotMatch", 403, errors.CredentialsError),
        ("InvalidAccessKeyId", 403, errors.CredentialsError),
        ("AccessDenied", 403, errors.PermissionDeniedError),
        ("NoSuchBucket", 404, errors.NotFoundError),
        ("NoSuchUpload", 404, errors.NotFoundError),
        ("SlowDown", 503, errors.ThrottledError),
        ("ServiceUnavailable", 503, errors.ThrottledError),
        ("InternalError", 500, errors.ServiceError),
        ("BadDigest", 400, errors.ChecksumMismatchError),
        ("EntityTooSmall", 400, errors.SdError),
    ],
)
def test_client_errors_map_to_sdgui_errors(code: str, status: int, kind: type[errors.SdError]) -> None:
    exc = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")
    mapped = classify(exc, volume="vol", path="a/key")
    assert type(mapped) is kind
    assert mapped.where == "vol:a/key"


def test_connection_failures_are_network_errors() -> None:
    for exc in (EndpointConnectionError(endpoint_url="http://x"), ReadTimeoutError(endpoint_url="http://x")):
        assert isinstance(classify(exc, volume="vol", path=None), errors.NetworkError)


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
