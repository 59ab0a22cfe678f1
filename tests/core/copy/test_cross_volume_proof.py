"""A copy from one cloud volume to another proves its source as a download does: the bytes read are checked against
the object's blake3, provider checksum or multipart ETag before the destination commits them. The source volume is
moto behind the suite's EtagProxy, which damages answers or makes multipart ETags otherwise; the destination is
another bucket on the same moto."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
from blake3 import blake3

from sdgui.core.copy.source_proof import ETAG_NOT_PARTS
from sdgui.core.copy.streaming import SOURCE_UNPROVED
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume, put_in_parts, read_object, run_copy
from tests.etag_proxy import EtagProxy
from tests.servers import S3Server

PARTS = TransferSettings(multipart_threshold=8 * MiB, upload_chunk_size=5 * MiB, file_concurrency=1)
SIZES = {"whole": 6 * MiB + 100, "streamed": 11 * MiB + 100}
"""The first is read in one GET and held in memory, the second streams through."""


@dataclasses.dataclass
class Clouds:
    proxy: EtagProxy
    server: S3Server
    source: str
    """The bucket of volume ``src`` (read through the proxy)."""
    destination: str
    """The bucket of volume ``dst`` (moto itself)."""

    def objects(self) -> list[str]:
        listed = self.server.client().list_objects_v2(Bucket=self.destination).get("Contents", [])
        return [entry["Key"] for entry in listed]

    def uploads(self) -> list[str]:
        listed = self.server.client().list_multipart_uploads(Bucket=self.destination).get("Uploads", [])
        return [upload["Key"] for upload in listed]


@pytest.fixture
def clouds(moto_s3: S3Server) -> Iterator[Clouds]:
    moto_s3.ensure_running()
    source, destination = moto_s3.new_bucket(), moto_s3.new_bucket()
    with EtagProxy(moto_s3.endpoint, rewrite_etags=False) as proxy:
        add_volume(moto_s3, source, "src", endpoint=proxy.endpoint)
        add_volume(moto_s3, destination, "dst")
        yield Clouds(proxy, moto_s3, source, destination)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_multipart_source_damaged_on_the_way_is_read_again_and_proved(clouds: Clouds, size: int) -> None:
    data = os.urandom(size)
    put_in_parts(clouds.server, clouds.source, "parts.bin", data)
    clouds.proxy.damage_gets = 1
    run = run_copy(["src:parts.bin"], "dst:", PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.note, done.blake3) == ("provider-checked", "", blake3(data).hexdigest())  # type: ignore[attr-defined]
    assert clouds.proxy.damage_gets == 0 and clouds.proxy.gets[f"/{clouds.source}/parts.bin"] == 2
    assert read_object(clouds.server, clouds.destination, "parts.bin") == data


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_damaged_bytes_of_a_source_with_an_md5_are_refused_and_nothing_is_written(clouds: Clouds, size: int) -> None:
    clouds.server.client().put_object(Bucket=clouds.source, Key="one.bin", Body=os.urandom(size))
    clouds.proxy.damage_gets = 1
    run = run_copy(["src:one.bin"], "dst:", PARTS)
    assert run.final.type == "job_failed", run.final
    failed = run.of("file_failed")[0]
    assert failed.error == "checksum" and "md5 of the bytes read" in failed.message, failed  # type: ignore[attr-defined]
    assert "src:one.bin" in failed.message  # type: ignore[attr-defined]
    assert clouds.objects() == [] and clouds.uploads() == []


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_etag_made_otherwise_costs_one_more_read_then_says_unverified(clouds: Clouds, size: int) -> None:
    clouds.proxy.rewrite_etags = True
    files = {f"in/{name}.bin": os.urandom(size) for name in ("a", "b")}
    for key, data in files.items():
        put_in_parts(clouds.server, clouds.source, key, data)
    run = run_copy(["src:in/"], "dst:", PARTS)
    assert run.final.type == "job_finished", run.final
    done = {event.source.rsplit("/", 1)[-1]: event for event in run.of("file_done")}  # type: ignore[attr-defined]
    assert {e.verified for e in done.values()} == {"unverified"}  # type: ignore[attr-defined]
    for key, data in files.items():
        assert read_object(clouds.server, clouds.destination, key) == data
    first, second = sorted(done, key=lambda name: -clouds.proxy.gets[f"/{clouds.source}/in/{name}"])
    assert clouds.proxy.gets[f"/{clouds.source}/in/{first}"] == 2 * clouds.proxy.gets[f"/{clouds.source}/in/{second}"]
    assert done[first].note == ETAG_NOT_PARTS  # type: ignore[attr-defined]


def test_a_source_with_no_checksum_ends_unverified_and_says_why(clouds: Clouds) -> None:
    """An R2 volume's multipart ETags are no check, so a multipart object without checksums offers none."""
    registry = VolumeRegistry()
    registry.add(dataclasses.replace(registry.get("src"), kind="r2", path_style=True), replace=True)
    registry.save()
    data = os.urandom(SIZES["streamed"])
    put_in_parts(clouds.server, clouds.source, "parts.bin", data)
    run = run_copy(["src:parts.bin"], "dst:", PARTS)
    assert run.final.type == "job_finished", run.final
    done = run.of("file_done")[0]
    assert (done.verified, done.note) == ("unverified", SOURCE_UNPROVED)  # type: ignore[attr-defined]
    assert read_object(clouds.server, clouds.destination, "parts.bin") == data
