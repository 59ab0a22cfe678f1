"""GCS end to end: writes, multipart, copies and ranges on the suite's own XML-API server (tests/gcs_xml_server.py),
reads of objects another tool wrote on fake-gcs-server; provider checksums, cancel, errors."""

from __future__ import annotations

import hashlib
import os
import time
import urllib.request
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core import errors
from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY, VolumeBackend
from sdgui.core.copy.events import JobEvent
from sdgui.core.settings import MiB, TransferSettings
from tests.cloud_servers import FakeGcs, GcsXml
from tests.copying import add_gcs_volume, make_job, run_copy, write_tree
from tests.providers.common import FAST_FAIL, SLOW_PARTS, SMALL_PARTS, open_backend


def _backend(name: str = "gcs", settings: TransferSettings = SMALL_PARTS) -> VolumeBackend:
    return open_backend(name, settings)


def test_small_and_multipart_uploads_round_trip(gcs_xml: GcsXml, gcs_bucket: str, tmp_path: Path) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    big = os.urandom(12 * MiB + 321)
    tree = write_tree(tmp_path / "src", {"a.txt": b"hello gcs\n", "sub/big.bin": big, "empty.bin": b""})
    os.utime(tree / "a.txt", (1_600_000_000.5, 1_600_000_000.5))

    up = run_copy([f"{tree}/"], "gcs:backup/", SMALL_PARTS)
    assert up.final.type == "job_finished", up.final
    objects = gcs_xml.server.state.buckets[gcs_bucket]
    stored = objects["backup/src/sub/big.bin"]
    assert stored.data == big and stored.md5 is None  # multipart: a composite object, no MD5
    assert stored.metadata[BLAKE3_KEY] == blake3(big).hexdigest()
    assert float(objects["backup/src/a.txt"].metadata[MTIME_KEY]) == pytest.approx(1_600_000_000.5)
    assert gcs_xml.server.state.open_uploads(gcs_bucket) == []

    down = run_copy(["gcs:backup/src/"], f"{tmp_path}/restored/", SMALL_PARTS)
    assert down.final.type == "job_finished", down.final
    assert (tmp_path / "restored/src/sub/big.bin").read_bytes() == big
    assert (tmp_path / "restored/src/a.txt").read_bytes() == b"hello gcs\n"
    assert (tmp_path / "restored/src/empty.bin").read_bytes() == b""
    assert {e.verified for e in down.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    assert (tmp_path / "restored/src/a.txt").stat().st_mtime == pytest.approx(1_600_000_000.5)


def _plain_put(gcs_xml: GcsXml, bucket: str, key: str, data: bytes) -> str:
    """A PUT as any XML-API client sends it (not sdgui); returns the ETag the server answered."""
    request = urllib.request.Request(f"{gcs_xml.endpoint}/{bucket}/{key}", data=data, method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers["ETag"])


def test_checksums_are_what_the_service_holds(gcs_xml: GcsXml, gcs_bucket: str, tmp_path: Path) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    data = os.urandom(200_000)
    etag = _plain_put(gcs_xml, gcs_bucket, "plain.bin", data)
    assert etag == f'"{hashlib.md5(data).hexdigest()}"'  # what the server computed
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * MiB))
    assert run_copy([str(big)], "gcs:composite.bin", SMALL_PARTS).final.type == "job_finished"

    backend = _backend()
    try:
        assert backend.stat("plain.bin").checksums == {"md5": hashlib.md5(data).hexdigest()}
        entry, body = backend.read_whole("plain.bin")
        assert body == data and entry.checksums == {"md5": hashlib.md5(data).hexdigest()}
        [listed] = [e for page in backend.list("") for e in page if e.key == "plain.bin"]
        assert listed.checksums == {"md5": hashlib.md5(data).hexdigest()}
        # A composite object (XML multipart) has no MD5 and its ETag is none: nothing is claimed.
        assert backend.stat("composite.bin").checksums == {}
    finally:
        backend.close()


def test_ranged_download_of_a_plain_put(gcs_xml: GcsXml, gcs_bucket: str, tmp_path: Path) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    data = os.urandom(9 * MiB + 5)
    _plain_put(gcs_xml, gcs_bucket, "foreign.bin", data)
    run = run_copy(["gcs:foreign.bin"], f"{tmp_path}/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert (tmp_path / "foreign.bin").read_bytes() == data
    [done] = run.of("file_done")
    assert done.blake3 == blake3(data).hexdigest()  # type: ignore[attr-defined]
    # Not written by sdgui, yet verified: by the MD5 that a plain PUT's ETag is.
    assert (done.verified, done.check) == ("verified", "md5")  # type: ignore[attr-defined]


def test_server_side_copy_within_the_bucket(gcs_xml: GcsXml, gcs_bucket: str, tmp_path: Path) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    data = os.urandom(3 * MiB)
    (tmp_path / "f.bin").write_bytes(data)
    assert run_copy([str(tmp_path / "f.bin")], "gcs:a/f.bin", SMALL_PARTS).final.type == "job_finished"
    run = run_copy(["gcs:a/f.bin"], "gcs:b/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert run.of("job_started")[0].strategy == "server-side copy"  # type: ignore[attr-defined]
    copied = gcs_xml.server.state.buckets[gcs_bucket]["b/f.bin"]
    assert copied.data == data and copied.metadata[BLAKE3_KEY] == blake3(data).hexdigest()


def test_cancelled_multipart_upload_leaves_no_object_and_no_open_upload(
    gcs_xml: GcsXml, gcs_bucket: str, tmp_path: Path
) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(48 * MiB))
    job = make_job([str(big)], "gcs:big.bin", SLOW_PARTS)
    cancelled_at: list[float] = []

    def sink(event: JobEvent) -> None:
        if event.type == "progress" and event.bytes_done > 8 * MiB and not cancelled_at:  # type: ignore[attr-defined]
            cancelled_at.append(time.monotonic())
            job.cancel()

    final = job.run(sink)
    assert cancelled_at, "the job finished before it could be cancelled"
    assert final.type == "job_cancelled"
    assert time.monotonic() - cancelled_at[0] < 2.0
    assert list(gcs_xml.server.state.buckets[gcs_bucket]) == []
    assert gcs_xml.server.state.open_uploads(gcs_bucket) == []


def test_reads_of_objects_another_tool_wrote_on_fake_gcs_server(fake_gcs: FakeGcs, tmp_path: Path) -> None:
    bucket = fake_gcs.new_bucket()
    data = os.urandom(5 * MiB + 3)
    resource = fake_gcs.upload(bucket, "dir/other-tool.bin", data)
    assert resource["md5Hash"] and resource["crc32c"]  # the service holds both hashes
    add_gcs_volume(fake_gcs.endpoint, bucket, "fakegcs")
    backend = _backend("fakegcs")
    try:
        [[folder]] = list(backend.list(""))
        assert folder.is_dir and folder.key == "dir"
        entry = backend.stat("dir/other-tool.bin")
        assert entry.size == len(data)
        # Its ETag is the base64 MD5, not GCS's hex form, and x-goog-hash is out of obstore's reach: nothing claimed.
        assert entry.checksums == {}
        assert b"".join(backend.read_range("dir/other-tool.bin", 10, 1000)) == data[10:1000]
    finally:
        backend.close()
    run = run_copy(["fakegcs:dir/"], f"{tmp_path}/down/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert (tmp_path / "down/dir/other-tool.bin").read_bytes() == data
    assert run.of("file_done")[0].verified == "unverified"  # type: ignore[attr-defined]


def test_missing_bucket_and_closed_port_say_what_and_where(gcs_xml: GcsXml, closed_port_endpoint: str) -> None:
    add_gcs_volume(gcs_xml.endpoint, "no-such-bucket", "gcs-nobucket")
    add_gcs_volume(closed_port_endpoint, "bucket", "gcs-closed")
    for name, expected in {"gcs-nobucket": errors.NotFoundError, "gcs-closed": errors.NetworkError}.items():
        backend = _backend(name, FAST_FAIL)
        try:
            with pytest.raises(expected) as caught:
                list(backend.list(""))
            assert caught.value.volume == name, caught.value
            with pytest.raises(expected) as caught:
                backend.stat("some/file.bin")
            assert (caught.value.volume, caught.value.path) == (name, "some/file.bin"), caught.value
        finally:
            backend.close()
