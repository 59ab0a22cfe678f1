"""Multipart objects another tool wrote with per-part checksums (S3's composite checksums) are verified part by
part, on the servers that keep them (moto and SeaweedFS; rclone serve s3 keeps none)."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core.copy.checks import hash_all
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, put_multipart, run_copy
from tests.servers import S3Server

PART = 5 * MiB
RANGED = TransferSettings(multipart_threshold=6 * MiB, download_part_size=2 * MiB, download_concurrency=4)
ONE_GET = TransferSettings(multipart_threshold=64 * MiB)


@pytest.fixture(params=["moto", "seaweedfs"])
def checksum_server(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue({"moto": "moto_s3", "seaweedfs": "seaweed_s3"}[request.param])
    server.ensure_running()
    return server


@pytest.mark.parametrize("settings", [RANGED, ONE_GET], ids=["ranged", "one-get"])
@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_composite_checksum_of_a_foreign_multipart_object_verifies_its_download(
    checksum_server: S3Server, tmp_path: Path, algorithm: str, settings: TransferSettings
) -> None:
    bucket = checksum_server.new_bucket()
    add_volume(checksum_server, bucket)
    data = os.urandom(2 * PART + 123_457)
    stored = put_multipart(checksum_server, bucket, "parts.bin", data, algorithm, PART)
    run = run_copy(["cloud:parts.bin"], f"{tmp_path}/", settings)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check) == ("verified", f"{algorithm.lower()}-composite")  # type: ignore[attr-defined]
    assert done.blake3 == blake3(data).hexdigest()  # type: ignore[attr-defined]
    assert (tmp_path / "parts.bin").read_bytes() == data
    # What was checked is the server's own value, not one sdgui made up.
    assert base64.b64decode(stored.split("-")[0]).hex() == _composite(data, algorithm)
    checksum_server.delete_bucket(bucket)


def _composite(data: bytes, algorithm: str) -> str:
    def digest(chunk: bytes) -> bytes:
        if algorithm == "CRC32":
            return zlib.crc32(chunk).to_bytes(4, "big")
        return hashlib.new(algorithm.lower(), chunk).digest()

    return digest(b"".join(digest(data[i : i + PART]) for i in range(0, len(data), PART))).hex()


def test_composite_digest_tells_damaged_bytes_and_wrong_part_sizes_apart_from_good_ones() -> None:
    data = os.urandom(3 * 1000 + 7)
    sizes = (1000, 1000, 1000, 7)
    want = _composite_crc(data, sizes)
    name = "crc32-composite"
    assert hash_all([data[:10], data[10:2500], data[2500:]], [name], part_sizes=sizes)[name] == want
    damaged = bytearray(data)
    damaged[1500] ^= 1
    assert hash_all([bytes(damaged)], [name], part_sizes=sizes)[name] != want
    assert hash_all([data], [name], part_sizes=(1000, 2007))[name] != want
    assert hash_all([data + b"x"], [name], part_sizes=sizes)[name] != want
    assert hash_all([data[:-1]], [name], part_sizes=sizes)[name] != want


def _composite_crc(data: bytes, sizes: tuple[int, ...]) -> str:
    raw, start = b"", 0
    for size in sizes:
        raw += zlib.crc32(data[start : start + size]).to_bytes(4, "big")
        start += size
    return f"{zlib.crc32(raw):08x}"
