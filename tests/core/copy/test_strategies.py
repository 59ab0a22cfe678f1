"""Every strategy end to end against real S3 servers (moto and rclone serve s3): bytes, metadata, events."""

from __future__ import annotations

import os
from pathlib import Path

import obstore
import pytest
from blake3 import blake3
from obstore.store import S3Store

from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, read_object, run_copy, write_tree
from tests.servers import S3Server

SMALL_PARTS = TransferSettings(
    upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=2 * MiB, download_concurrency=4
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "src",
        {
            "a.txt": b"hello world\n",
            "empty.bin": b"",
            "sub/big.bin": os.urandom(12 * MiB + 12345),
            "sub/deeper/c.txt": b"c" * 1000,
        },
    )


def _metadata(server: S3Server, bucket: str, key: str) -> dict[str, str]:
    return {k.lower(): v for k, v in server.client().head_object(Bucket=bucket, Key=key)["Metadata"].items()}


def test_upload_then_download_round_trip(s3_server: S3Server, bucket: str, tree: Path, tmp_path: Path) -> None:
    add_volume(s3_server, bucket)
    os.utime(tree / "a.txt", (1_600_000_000.5, 1_600_000_000.5))

    up = run_copy([f"{tree}/"], "cloud:backup/", SMALL_PARTS)
    assert up.final.type == "job_finished", up.final
    started = up.of("job_started")[0]
    assert started.files == 4 and started.bytes_total == sum(  # type: ignore[attr-defined]
        p.stat().st_size for p in tree.rglob("*") if p.is_file()
    )
    assert started.strategy == "streaming upload"  # type: ignore[attr-defined]
    big = (tree / "sub/big.bin").read_bytes()
    assert read_object(s3_server, bucket, "backup/src/sub/big.bin") == big
    meta = _metadata(s3_server, bucket, "backup/src/sub/big.bin")
    assert meta[BLAKE3_KEY] == blake3(big).hexdigest()
    assert float(_metadata(s3_server, bucket, "backup/src/a.txt")[MTIME_KEY]) == pytest.approx(1_600_000_000.5)
    assert {e.verified for e in up.of("file_done")} == {"provider-checked"}  # type: ignore[attr-defined]

    down = run_copy(["cloud:backup/src/"], f"{tmp_path}/restored/", SMALL_PARTS)
    assert down.final.type == "job_finished", down.final
    assert down.of("job_started")[0].strategy == "streaming download"  # type: ignore[attr-defined]
    for path in tree.rglob("*"):
        if path.is_file():
            restored = tmp_path / "restored/src" / path.relative_to(tree)
            assert restored.read_bytes() == path.read_bytes()
    assert {e.verified for e in down.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    assert (tmp_path / "restored/src/a.txt").stat().st_mtime == pytest.approx(1_600_000_000.5)
    assert not list((tmp_path / "restored").rglob("*.part"))


@pytest.mark.parametrize("size", [8 * MiB, 40 * 1024], ids=["ranged", "one-get"])
def test_download_of_foreign_object_is_verified_by_its_md5_etag(
    s3_server: S3Server, bucket: str, tmp_path: Path, size: int
) -> None:
    """An object another tool wrote carries no sdgui blake3; its single-part ETag is the MD5 of its bytes."""
    add_volume(s3_server, bucket)
    data = os.urandom(size)
    s3_server.client().put_object(Bucket=bucket, Key="foreign.bin", Body=data)
    run = run_copy(["cloud:foreign.bin"], f"{tmp_path}/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check) == ("verified", "md5")  # type: ignore[attr-defined]
    assert done.blake3 == blake3(data).hexdigest()  # type: ignore[attr-defined]
    assert (tmp_path / "foreign.bin").read_bytes() == data


def test_tampered_object_fails_checksum_and_leaves_nothing(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    add_volume(s3_server, bucket)
    s3_server.client().put_object(
        Bucket=bucket, Key="bad.bin", Body=b"what arrived", Metadata={BLAKE3_KEY: blake3(b"what left").hexdigest()}
    )
    run = run_copy(["cloud:bad.bin"], f"{tmp_path}/out/", SMALL_PARTS)
    assert run.final.type == "job_failed"
    failed = run.of("file_failed")[0]
    assert failed.error == "checksum"  # type: ignore[attr-defined]
    assert not (tmp_path / "out/bad.bin").exists()
    assert not list(tmp_path.rglob("*.part"))


def test_server_side_copy_same_volume(s3_server: S3Server, bucket: str, tree: Path) -> None:
    add_volume(s3_server, bucket)
    assert run_copy([f"{tree}/"], "cloud:one/", SMALL_PARTS).final.type == "job_finished"
    run = run_copy(["cloud:one/src/"], "cloud:two/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert run.of("job_started")[0].strategy == "server-side copy"  # type: ignore[attr-defined]
    assert read_object(s3_server, bucket, "two/src/sub/big.bin") == (tree / "sub/big.bin").read_bytes()
    meta = _metadata(s3_server, bucket, "two/src/sub/big.bin")
    assert meta[BLAKE3_KEY] == blake3((tree / "sub/big.bin").read_bytes()).hexdigest()


def test_cross_volume_streaming_between_two_servers(
    moto_s3: S3Server, rclone_s3_b: S3Server, tree: Path, tmp_path: Path
) -> None:
    src_bucket, dst_bucket = moto_s3.new_bucket(), rclone_s3_b.new_bucket()
    add_volume(moto_s3, src_bucket, "alpha")
    add_volume(rclone_s3_b, dst_bucket, "beta")
    assert run_copy([f"{tree}/"], "alpha:", SMALL_PARTS).final.type == "job_finished"
    run = run_copy(["alpha:src/"], "beta:mirror/", SMALL_PARTS, verify="readback")
    assert run.final.type == "job_finished", run.final
    assert run.of("job_started")[0].strategy == "cross-volume streaming"  # type: ignore[attr-defined]
    assert {e.verified for e in run.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    big = (tree / "sub/big.bin").read_bytes()
    assert read_object(rclone_s3_b, dst_bucket, "mirror/src/sub/big.bin") == big
    assert _metadata(rclone_s3_b, dst_bucket, "mirror/src/sub/big.bin")[BLAKE3_KEY] == blake3(big).hexdigest()
    assert not list(tmp_path.rglob("*.part")), "streaming must not go through local disk"


def test_local_copy_is_verified_and_atomic(tree: Path, tmp_path: Path) -> None:
    run = run_copy([f"{tree}/"], f"{tmp_path}/copy/")
    assert run.final.type == "job_finished", run.final
    assert run.of("job_started")[0].strategy == "local copy"  # type: ignore[attr-defined]
    assert {e.verified for e in run.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    assert (tmp_path / "copy/src/sub/big.bin").read_bytes() == (tree / "sub/big.bin").read_bytes()


def test_progress_is_monotonic_and_honest(moto_s3: S3Server, tree: Path) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    run = run_copy([f"{tree}/sub/big.bin"], "cloud:big.bin", SMALL_PARTS)
    assert run.final.type == "job_finished"
    done_at = next(i for i, e in enumerate(run.events) if e.type == "file_done")
    progress = [(i, e) for i, e in enumerate(run.events) if e.type == "progress"]
    values = [e.bytes_done for _, e in progress]  # type: ignore[attr-defined]
    assert values == sorted(values), "progress went backwards"
    total = run.of("job_started")[0].bytes_total  # type: ignore[attr-defined]
    assert all(e.bytes_done < total for i, e in progress if i < done_at), "100 % before the server confirmed"  # type: ignore[attr-defined]
    assert values[-1] == total


def test_move_deletes_sources_only_after_copy(s3_server: S3Server, bucket: str, tree: Path, tmp_path: Path) -> None:
    add_volume(s3_server, bucket)
    run = run_copy([f"{tree}/"], "cloud:moved/", SMALL_PARTS, delete_after_copy=True)
    assert run.final.type == "job_finished", run.final
    assert not tree.exists()
    assert all(e.source_deleted for e in run.of("file_done"))  # type: ignore[attr-defined]
    assert read_object(s3_server, bucket, "moved/src/sub/deeper/c.txt") == b"c" * 1000


def test_failed_move_keeps_the_source(moto_s3: S3Server, tree: Path) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    moto_s3.client().put_object(Bucket=bucket, Key="moved/a.txt", Body=b"already here")
    run = run_copy([f"{tree}/a.txt"], "cloud:moved/", delete_after_copy=True, on_conflict="fail")
    assert run.final.type == "job_failed"
    assert (tree / "a.txt").read_bytes() == b"hello world\n"
    assert read_object(moto_s3, bucket, "moved/a.txt") == b"already here"


def test_a_multipart_download_is_verified_by_a_full_object_crc64nvme(seaweed_s3: S3Server, tmp_path: Path) -> None:
    """Another tool's multipart upload with a full-object CRC64NVME (as the AWS CLI writes them): its ETag (md5 of
    md5s, -N) proves nothing, HeadObject with ChecksumMode gives the CRC, and the download is proved by it."""
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    data = os.urandom(12 * MiB)
    store = S3Store(
        bucket,
        endpoint=seaweed_s3.endpoint,
        access_key_id=seaweed_s3.access_key_id,
        secret_access_key=seaweed_s3.secret_access_key,
        region="us-east-1",
        checksum_algorithm="crc64nvme",
        client_options={"allow_http": True},
    )
    obstore.put(store, "summed.bin", data, use_multipart=True, chunk_size=5 * MiB)
    assert "-" in seaweed_s3.client().head_object(Bucket=bucket, Key="summed.bin")["ETag"]
    run = run_copy(["cloud:summed.bin"], f"{tmp_path}/out/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check) == ("verified", "crc64nvme")  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "summed.bin").read_bytes() == data


def test_a_local_copy_keeps_empty_folders(tmp_path: Path) -> None:
    """As ``cp -r`` does: an empty folder (at any depth) is made at the destination; it is not a file."""
    write_tree(tmp_path / "src", {"a.txt": b"a", "full/b.txt": b"b"})
    (tmp_path / "src" / "empty").mkdir()
    (tmp_path / "src" / "full" / "deep" / "empty2").mkdir(parents=True)
    run = run_copy([f"{tmp_path}/src/"], f"{tmp_path}/dst/")
    assert run.final.type == "job_finished", run.final
    assert run.final.files_done == 2  # type: ignore[attr-defined]
    assert (tmp_path / "dst" / "src" / "empty").is_dir()
    assert (tmp_path / "dst" / "src" / "full" / "deep" / "empty2").is_dir()
    assert (tmp_path / "dst" / "src" / "full" / "b.txt").read_bytes() == b"b"


def test_an_upload_keeps_empty_folders_as_folder_markers(seaweed_s3: S3Server, tmp_path: Path) -> None:
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    write_tree(tmp_path / "src", {"a.txt": b"a"})
    (tmp_path / "src" / "empty").mkdir()
    run = run_copy([f"{tmp_path}/src/"], "cloud:up/")
    assert run.final.type == "job_finished", run.final
    listed = seaweed_s3.client().list_objects_v2(Bucket=bucket, Prefix="up/")
    assert sorted(item["Key"] for item in listed.get("Contents", [])) == ["up/src/a.txt", "up/src/empty/"]


def test_a_download_keeps_the_folders_markers_stand_for(seaweed_s3: S3Server, tmp_path: Path) -> None:
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    client = seaweed_s3.client()
    client.put_object(Bucket=bucket, Key="tree/a.txt", Body=b"a")
    client.put_object(Bucket=bucket, Key="tree/empty/", Body=b"")
    run = run_copy(["cloud:tree/"], f"{tmp_path}/out/")
    assert run.final.type == "job_finished", run.final
    assert run.final.files_done == 1  # type: ignore[attr-defined]
    assert (tmp_path / "out" / "tree" / "empty").is_dir()
    assert (tmp_path / "out" / "tree" / "a.txt").read_bytes() == b"a"


def test_metadata_names_are_read_whatever_their_case(rclone_s3: S3Server, tmp_path: Path) -> None:
    """rclone serve s3 hands back a multipart object's metadata as "Sdgui-Blake3" and "Mtime" (the resumable
    upload's CreateMultipartUpload sets them): the blake3 still proves the download and the mtime is restored."""
    bucket = rclone_s3.new_bucket()
    add_volume(rclone_s3, bucket)
    client = rclone_s3.client()
    data = os.urandom(8 * MiB)
    metadata = {BLAKE3_KEY: blake3(data).hexdigest(), MTIME_KEY: "1600000000.5"}
    upload = client.create_multipart_upload(Bucket=bucket, Key="mp.bin", Metadata=metadata)["UploadId"]
    part = client.upload_part(Bucket=bucket, Key="mp.bin", UploadId=upload, PartNumber=1, Body=data)
    client.complete_multipart_upload(
        Bucket=bucket,
        Key="mp.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert "Sdgui-Blake3" in client.head_object(Bucket=bucket, Key="mp.bin")["Metadata"]  # the quirk itself
    run = run_copy(["cloud:mp.bin"], f"{tmp_path}/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check) == ("verified", "blake3")  # type: ignore[attr-defined]
    assert (tmp_path / "mp.bin").stat().st_mtime == pytest.approx(1_600_000_000.5)


def test_keys_with_an_empty_segment_fail_one_by_one(moto_s3: S3Server, tmp_path: Path) -> None:
    """``a//b.txt`` is a legal S3 key (moto keeps it as AWS does; SeaweedFS folds it to a/b.txt) that obstore
    cannot name, so its listing stops there, and no file system can hold: each such file fails on its own, named,
    and the rest of the prefix is copied."""
    s3 = moto_s3
    bucket = s3.new_bucket()
    add_volume(s3, bucket)
    for key in ("dir/a//b.txt", "dir/ok.txt", "dir/x//y//z.txt", "dir/zz.txt"):
        s3.client().put_object(Bucket=bucket, Key=key, Body=key.encode())
    run = run_copy(["cloud:dir/"], f"{tmp_path}/out/")
    assert run.final.type == "job_failed"
    failed = {e.source: e.message for e in run.of("file_failed")}  # type: ignore[attr-defined]
    assert sorted(failed) == ["cloud:dir/a//b.txt", "cloud:dir/x//y//z.txt"]
    assert all("empty component" in message for message in failed.values())
    assert (tmp_path / "out" / "dir" / "ok.txt").read_bytes() == b"dir/ok.txt"
    assert (tmp_path / "out" / "dir" / "zz.txt").read_bytes() == b"dir/zz.txt"
