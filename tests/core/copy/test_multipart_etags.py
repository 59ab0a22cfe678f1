"""Downloads of multipart objects another tool wrote without checksums: S3 makes their ETag the MD5 of the parts'
MD5s, which proves the bytes part by part (``md5-composite``). A service that makes it otherwise (the test's
EtagProxy stands for one) costs one more download, after which the same bytes twice end honestly unverified; bytes
damaged on the way are downloaded again and verified."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core.backends.s3 import S3Config
from sdgui.core.copy.source_proof import ETAG_NOT_PARTS
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeConfig
from tests.copying import add_volume, put_in_parts, run_copy
from tests.etag_proxy import EtagProxy
from tests.servers import S3Server

PARTS = TransferSettings(multipart_threshold=8 * MiB, download_part_size=2 * MiB, download_concurrency=3)
SIZES = {"one-get": 6 * MiB + 100, "ranged": 11 * MiB + 100}
"""Both written in 5 MiB parts: the first is fetched in one GET, the second in ranges."""


@pytest.fixture(params=["moto", "seaweedfs"])
def s3(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue({"moto": "moto_s3", "seaweedfs": "seaweed_s3"}[request.param])
    server.ensure_running()
    return server


@pytest.fixture
def proxied(moto_s3: S3Server) -> Iterator[tuple[EtagProxy, str]]:
    """A bucket on moto, registered as volume ``cloud`` through an EtagProxy."""
    bucket = moto_s3.new_bucket()
    with EtagProxy(moto_s3.endpoint) as proxy:
        add_volume(moto_s3, bucket, endpoint=proxy.endpoint)
        yield proxy, bucket


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_multipart_object_is_verified_by_its_etag(s3: S3Server, tmp_path: Path, size: int) -> None:
    bucket = s3.new_bucket()
    add_volume(s3, bucket)
    data = os.urandom(size)
    put_in_parts(s3, bucket, "parts.bin", data)
    run = run_copy(["cloud:parts.bin"], f"{tmp_path}/", PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check, done.note) == ("verified", "md5-composite", "")  # type: ignore[attr-defined]
    assert (tmp_path / "parts.bin").read_bytes() == data


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_etag_made_otherwise_costs_one_more_download_then_says_unverified(
    proxied: tuple[EtagProxy, str], moto_s3: S3Server, tmp_path: Path, size: int
) -> None:
    proxy, bucket = proxied
    files = {f"in/{name}.bin": os.urandom(size) for name in ("a", "b")}
    for key, data in files.items():
        put_in_parts(moto_s3, bucket, key, data)
    run = run_copy(["cloud:in/"], f"{tmp_path}/", dataclasses.replace(PARTS, file_concurrency=1))
    assert run.final.type == "job_finished", run.final
    done = {event.source.rsplit("/", 1)[-1]: event for event in run.of("file_done")}  # type: ignore[attr-defined]
    assert {(e.verified, e.check) for e in done.values()} == {("unverified", None)}  # type: ignore[attr-defined]
    for key, data in files.items():
        assert (tmp_path / key).read_bytes() == data
    # The first file came twice and says why it is unverified; the volume's next one is not asked for twice.
    first, second = sorted(done, key=lambda name: -proxy.gets[f"/{bucket}/in/{name}"])
    assert proxy.gets[f"/{bucket}/in/{first}"] == 2 * proxy.gets[f"/{bucket}/in/{second}"]
    assert done[first].note == ETAG_NOT_PARTS  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_bytes_damaged_on_the_way_are_downloaded_again_and_verified(
    proxied: tuple[EtagProxy, str], moto_s3: S3Server, tmp_path: Path, size: int
) -> None:
    proxy, bucket = proxied
    proxy.rewrite_etags, proxy.damage_gets = False, 1
    data = os.urandom(size)
    put_in_parts(moto_s3, bucket, "parts.bin", data)
    run = run_copy(["cloud:parts.bin"], f"{tmp_path}/", PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.check) == ("verified", "md5-composite")  # type: ignore[attr-defined]
    assert (tmp_path / "parts.bin").read_bytes() == data
    assert proxy.damage_gets == 0  # the damaged answer was the one replaced


def test_r2_etags_are_not_taken_for_the_parts_md5s() -> None:
    """R2 makes its multipart ETags otherwise: they are not offered as a check there."""
    volume = VolumeConfig("r2", "r2", bucket="b", endpoint="https://acct.r2.cloudflarestorage.com")
    assert not S3Config.from_volume(volume, None).multipart_etags
    assert S3Config.from_volume(VolumeConfig("s3", "s3", bucket="b"), None).multipart_etags
