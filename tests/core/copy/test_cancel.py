"""Cancel mid-transfer: honoured within a second, no open multipart upload, no partial file."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sdgui.core.copy.events import JobEvent
from sdgui.core.journal import Journal
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, make_job
from tests.servers import S3Server

SETTINGS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=4 * MiB)


def _run_and_cancel_midway(
    job_sources: list[str], destination: str, journal: Journal | None = None
) -> tuple[JobEvent, float, list[JobEvent]]:
    job = make_job(job_sources, destination, SETTINGS, on_conflict="overwrite")
    job.journal = journal
    events: list[JobEvent] = []
    cancelled_at: list[float] = []

    def sink(event: JobEvent) -> None:
        events.append(event)
        if event.type == "progress" and event.bytes_done > 8 * MiB and not cancelled_at:  # type: ignore[attr-defined]
            cancelled_at.append(time.monotonic())
            job.cancel()

    final = job.run(sink)
    assert cancelled_at, "the job finished before it could be cancelled"
    return final, time.monotonic() - cancelled_at[0], events


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cancel") / "big.bin"
    path.write_bytes(os.urandom(200 * MiB))
    return path


def _first_write(server: S3Server, bucket: str) -> None:
    """Write (and delete) an object first: SeaweedFS allocates a new bucket's volumes on its first write and holds
    those requests about a second (more under load). A cancel waits for requests a server holds (parts sent
    whole are waited for, so no part lands after the abort); that wait is the server's, not what these tests time.
    tests/faults/test_cancel_mid_part.py shows parts stopping mid-send on a slow link."""
    server.client().put_object(Bucket=bucket, Key="first-write", Body=b"x")
    server.client().delete_object(Bucket=bucket, Key="first-write")


@pytest.mark.parametrize("journaled", [True, False], ids=["journaled", "no-journal"])
def test_cancel_upload_leaves_no_multipart_upload(
    s3_server: S3Server, bucket: str, tmp_path: Path, big: Path, journaled: bool
) -> None:
    """Journaled (the CLI's and the window's jobs) is sdgui's own resumable multipart upload, whose parts in
    flight stop mid-send; without a journal, obstore's, which stops at its next read."""
    add_volume(s3_server, bucket)
    _first_write(s3_server, bucket)
    with Journal(tmp_path / "journal.sqlite") as journal:
        final, latency, _ = _run_and_cancel_midway([str(big)], "cloud:big.bin", journal if journaled else None)
        if journaled:
            assert [job.state for job in journal.unfinished_jobs()] == ["cancelled"]
            assert journal.query("SELECT count(*) FROM resume_tokens") == [(0,)], "the aborted upload's token stays"
    assert final.type == "job_cancelled"
    assert latency < 1.0, f"cancel took {latency:.2f} s"
    assert s3_server.open_multipart_uploads(bucket) == []
    listed = s3_server.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == []


def test_cancel_download_leaves_no_partial_file(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    add_volume(s3_server, bucket)
    s3_server.client().put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(120 * MiB))
    out = tmp_path / "out"
    final, latency, _ = _run_and_cancel_midway(["cloud:big.bin"], f"{out}/")
    assert final.type == "job_cancelled"
    assert latency < 1.0, f"cancel took {latency:.2f} s"
    assert not out.exists() or list(out.iterdir()) == []


def test_cancel_from_another_thread_before_start(moto_s3: S3Server, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    (tmp_path / "f.txt").write_bytes(b"x")
    job = make_job([str(tmp_path / "f.txt")], "cloud:f.txt")
    canceller = threading.Thread(target=job.cancel)
    canceller.start()
    canceller.join()
    final = job.run(lambda e: None)
    assert final.type == "job_cancelled"
    assert moto_s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.mark.parametrize("size", [1, 3 * MiB])
def test_small_uploads_complete_when_not_cancelled(moto_s3: S3Server, tmp_path: Path, size: int) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    (tmp_path / "f.bin").write_bytes(b"z" * size)
    job = make_job([str(tmp_path / "f.bin")], "cloud:f.bin", SETTINGS)
    assert job.run(lambda e: None).type == "job_finished"
