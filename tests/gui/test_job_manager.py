"""JobManager against a real S3 server (moto): jobs run on its pool, events arrive coalesced in the GUI thread."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.journal import Journal, JournalError
from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.jobs import job_manager
from sdgui.gui.jobs.job_manager import TICK_MS, JobManager
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.models.transfers_model import state_text
from tests.copying import add_volume, read_object, write_tree
from tests.faults.proxy import FaultProxy, HttpFault
from tests.gui._unfinished import leave_cancelled_job
from tests.servers import LOOPBACK, S3Server

SETTINGS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=4 * MiB)
JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def manager(qtbot: QtBot) -> Iterator[JobManager]:
    jobs = JobManager(lambda: BackendCache(VolumeRegistry(), settings=SETTINGS), SETTINGS)
    yield jobs
    assert jobs.shutdown(10.0), "a copy job outlived its test"
    assert jobs._pool.activeThreadCount() == 0


def action(sources: list[str], destination: str, **options: object) -> CopyAction:
    return CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination), CopyOptions(**options))  # type: ignore[arg-type]


def wait_ended(qtbot: QtBot, manager: JobManager, job_id: str, timeout: int = JOB_TIMEOUT_MS) -> JobState:
    """Wait for ``job_id``'s job_ended (signals are only delivered while the event loop runs, so no race)."""
    if not manager.state(job_id).is_ended:
        with qtbot.waitSignal(manager.job_ended, timeout=timeout, check_params_cb=lambda jid, *_: jid == job_id):
            pass
    return manager.state(job_id)


def object_keys(server: S3Server, bucket: str) -> list[str]:
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_uploads_a_few_files_and_a_big_one(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    files = {"a.txt": b"alpha\n", "b.bin": os.urandom(100_000), "sub/c.txt": b"gamma\n"}
    write_tree(tmp_path / "few", files)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(30 * MiB))
    ended: list[tuple[str, str, str]] = []
    manager.job_ended.connect(lambda *args: ended.append(args))

    few_id = manager.submit(action([f"{tmp_path / 'few'}/"], "cloud:up/"), "few files")
    big_id = manager.submit(action([str(big)], "cloud:big.bin"))
    assert manager.state(few_id).title == "few files"

    few = wait_ended(qtbot, manager, few_id)
    big_state = wait_ended(qtbot, manager, big_id)
    assert (few.state, big_state.state) == ("finished", "finished"), (few.error, big_state.error)
    for rel, data in files.items():
        assert read_object(moto_s3, cloud, f"up/few/{rel}") == data
    assert read_object(moto_s3, cloud, "big.bin") == big.read_bytes()
    assert (few.files_total, few.files_copied, few.bytes_done) == (3, 3, sum(map(len, files.values())))
    assert big_state.bytes_done == big_state.bytes_total == 30 * MiB
    assert (big_state.direction, big_state.strategy) == ("upload", "streaming upload")
    assert big_state.verification_summary in ("verified", "provider-checked")
    assert sorted(ended) == sorted([(few_id, "finished", "cloud:up/"), (big_id, "finished", "cloud:big.bin")])


def test_downloads_into_a_local_directory(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="docs/readme.txt", Body=b"read me")
    job_id = manager.submit(action(["cloud:docs/"], f"{tmp_path}/out/"))
    state = wait_ended(qtbot, manager, job_id)
    assert state.state == "finished", state.error
    assert state.direction == "download"
    assert (tmp_path / "out" / "docs" / "readme.txt").read_bytes() == b"read me"


def test_progress_of_many_small_files_is_coalesced(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    write_tree(tmp_path / "many", {f"f{i:03d}.txt": f"file {i}\n".encode() for i in range(300)})
    emissions: list[list[str]] = []
    manager.jobs_changed.connect(emissions.append)
    started = time.monotonic()
    job_id = manager.submit(action([f"{tmp_path / 'many'}/"], "cloud:many/"))
    state = wait_ended(qtbot, manager, job_id)
    elapsed = time.monotonic() - started
    assert state.state == "finished", state.error
    assert state.files_copied == 300
    assert len(object_keys(moto_s3, cloud)) == 300
    # Hundreds of FileDone and Progress events, but at most one signal per tick.
    assert len(emissions) <= elapsed / (TICK_MS / 1000) + 3, (len(emissions), elapsed)
    assert all(ids == [job_id] for ids in emissions)


def test_cancel_a_running_upload(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(200 * MiB))
    job_id = manager.submit(action([str(big)], "cloud:big.bin"))
    qtbot.waitUntil(lambda: manager.state(job_id).bytes_done > 0, timeout=JOB_TIMEOUT_MS)
    assert manager.state(job_id).state == "running"

    cancelled_at = time.monotonic()
    assert manager.cancel(job_id)
    assert manager.state(job_id).cancel_requested
    state = wait_ended(qtbot, manager, job_id, timeout=2_000)
    assert state.state == "cancelled"
    assert time.monotonic() - cancelled_at < 2.0
    assert moto_s3.open_multipart_uploads(cloud) == []
    assert object_keys(moto_s3, cloud) == []
    assert not manager.cancel(job_id)  # already over


def test_a_paused_queue_holds_jobs_until_resumed(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    (tmp_path / "one.txt").write_bytes(b"one")
    (tmp_path / "two.txt").write_bytes(b"two")
    manager.set_max_concurrent(1)
    manager.pause_queue()
    first = manager.submit(action([str(tmp_path / "one.txt")], "cloud:one.txt"))
    second = manager.submit(action([str(tmp_path / "two.txt")], "cloud:two.txt"))
    QCoreApplication.processEvents()
    assert [manager.state(j).state for j in (first, second)] == ["queued", "queued"]
    assert (manager.running_count, manager.queued_count) == (0, 2)

    with qtbot.waitSignal(manager.queue_paused_changed):
        manager.resume_queue()
    # One slot: the first runs, the second waits for it.
    assert [manager.state(j).state for j in (first, second)] == ["running", "queued"]
    one, two = wait_ended(qtbot, manager, first), wait_ended(qtbot, manager, second)
    assert (one.state, two.state) == ("finished", "finished")
    assert one.ended_at is not None and two.started_at is not None
    assert two.started_at >= one.ended_at - 0.3  # ended_at is stamped at the next tick
    assert read_object(moto_s3, cloud, "two.txt") == b"two"


def test_lowering_the_limit_lets_running_jobs_continue(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(200 * MiB))
    (tmp_path / "tiny.txt").write_bytes(b"tiny")
    slow = manager.submit(action([str(big)], "cloud:big.bin"))
    quick = manager.submit(action([str(tmp_path / "tiny.txt")], "cloud:tiny.txt"))
    manager.set_max_concurrent(1)  # both are running already: neither is stopped nor held back
    assert wait_ended(qtbot, manager, quick).state == "finished"
    assert manager.state(slow).state == "running"
    manager.cancel(slow)
    assert wait_ended(qtbot, manager, slow).state == "cancelled"


def test_cancel_a_queued_job_at_once(qtbot: QtBot, manager: JobManager, tmp_path: Path) -> None:
    manager.pause_queue()
    job_id = manager.submit(action([str(tmp_path / "x.txt")], f"{tmp_path}/y.txt"))
    with qtbot.waitSignal(manager.job_ended, timeout=0) as ended:
        assert manager.cancel(job_id)
    assert ended.args == [job_id, "cancelled", f"{tmp_path}/y.txt"]
    assert manager.state(job_id).state == "cancelled"
    assert manager.queued_count == 0


def test_retry_of_a_failed_job_succeeds_once_the_source_exists(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    missing = tmp_path / "late.txt"
    job_id = manager.submit(action([str(missing)], "cloud:late.txt"))
    failed = wait_ended(qtbot, manager, job_id)
    assert failed.state == "failed"
    assert failed.error_kind == "not-found"
    assert "does not exist" in failed.error

    missing.write_bytes(b"here now")
    retry_id = manager.retry(job_id)
    assert retry_id != job_id
    retried = wait_ended(qtbot, manager, retry_id)
    assert retried.state == "finished", retried.error
    assert retried.retry_of == job_id
    assert read_object(moto_s3, cloud, "late.txt") == b"here now"


def test_clear_finished_keeps_failed_jobs(qtbot: QtBot, manager: JobManager, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    done = manager.submit(action([str(tmp_path / "a.txt")], f"{tmp_path}/b.txt"))
    failed = manager.submit(action([str(tmp_path / "missing.txt")], f"{tmp_path}/c.txt"))
    wait_ended(qtbot, manager, done)
    wait_ended(qtbot, manager, failed)
    with qtbot.waitSignal(manager.jobs_removed, timeout=0) as removed:
        assert manager.clear_finished() == [done]
    assert removed.args == [[done]]
    assert manager.job_ids() == [failed]


def test_a_broken_backend_factory_fails_the_job_not_the_window(qtbot: QtBot, tmp_path: Path) -> None:
    def broken() -> BackendCache:
        raise OSError("volumes file unreadable")

    jobs = JobManager(broken)
    try:
        job_id = jobs.submit(action([str(tmp_path / "a")], f"{tmp_path}/b"))
        state = wait_ended(qtbot, jobs, job_id, timeout=5_000)
        assert (state.state, state.error_kind) == ("failed", "config")
        assert "volumes file unreadable" in state.error
    finally:
        assert jobs.shutdown(5.0)


def test_shutdown_cancels_queued_and_running_jobs(qtbot: QtBot, moto_s3: S3Server, cloud: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(100 * MiB))
    jobs = JobManager(lambda: BackendCache(VolumeRegistry(), settings=SETTINGS), SETTINGS, max_concurrent=1)
    running = jobs.submit(action([str(big)], "cloud:big.bin"))
    queued = jobs.submit(action([str(big)], "cloud:big2.bin"))
    qtbot.waitUntil(lambda: jobs.state(running).bytes_done > 0, timeout=JOB_TIMEOUT_MS)
    assert jobs.shutdown(5.0)
    assert (jobs.state(running).state, jobs.state(queued).state) == ("cancelled", "cancelled")
    assert moto_s3.open_multipart_uploads(cloud) == []
    with pytest.raises(RuntimeError):
        jobs.submit(action([str(big)], "cloud:big3.bin"))
    assert jobs.journal is None  # closed with the manager
    with Journal() as journal:  # the next session is offered the job that was running, not the one never started
        assert [(info.id, info.state) for info in journal.unfinished_jobs()] == [(running, "cancelled")]


# -- the journal ------------------------------------------------------------------------------------------------


def test_jobs_are_journaled_under_their_manager_id(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    write_tree(tmp_path / "d", {"a.txt": b"a", "b.txt": b"b"})
    moto_s3.client().put_object(Bucket=cloud, Key="d/a.txt", Body=b"there before")
    done = manager.submit(action([str(tmp_path / "d" / "b.txt")], "cloud:b.txt"))
    failed = manager.submit(action([f"{tmp_path / 'd'}/"], "cloud:"))  # d/a.txt exists: that file fails
    refused = manager.submit(action([str(tmp_path / "missing.txt")], "cloud:c.txt"))
    for job_id in (done, failed, refused):
        wait_ended(qtbot, manager, job_id)
    journal = manager.journal
    assert journal is not None
    assert journal.job(done).state == "finished"
    assert journal.job(failed).state == "failed"
    assert (journal.job(failed).files_done, journal.job(failed).files_failed) == (1, 1)
    assert CopyAction.from_dict(journal.job(failed).action) == manager.state(failed).action
    with pytest.raises(errors.NotFoundError):  # refused before any file was looked at: nothing to resume
        journal.job(refused)
    assert manager.unfinished_jobs() == []  # known to this manager: its rows offer Retry


def test_a_retry_replaces_the_failed_jobs_journal_record(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    write_tree(tmp_path / "d", {"a.txt": b"a", "b.txt": b"b"})
    moto_s3.client().put_object(Bucket=cloud, Key="d/a.txt", Body=b"there before")
    failed = manager.submit(action([f"{tmp_path / 'd'}/"], "cloud:"))
    assert wait_ended(qtbot, manager, failed).state == "failed"
    assert manager.journal is not None and manager.journal.job(failed).state == "failed"
    moto_s3.client().delete_object(Bucket=cloud, Key="d/a.txt")
    retry = manager.retry(failed)
    assert wait_ended(qtbot, manager, retry).state == "finished"
    assert read_object(moto_s3, cloud, "d/a.txt") == b"a"
    with pytest.raises(errors.NotFoundError):  # else the next session would offer it again
        manager.journal.job(failed)
    assert manager.journal.job(retry).state == "finished"


def test_resume_takes_up_a_cancelled_job_where_it_stopped(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    files = {f"f{i}.bin": os.urandom(200_000) for i in range(4)}
    write_tree(tmp_path / "src", files)
    journal_id = leave_cancelled_job(action([str(tmp_path / "src" / name) for name in files], "cloud:up/"))
    [info] = manager.unfinished_jobs()
    assert (info.id, info.state, info.files_done, info.files_total) == (journal_id, "cancelled", 1, 4)

    job_id = manager.resume(journal_id)
    assert job_id == journal_id
    state = wait_ended(qtbot, manager, job_id)
    assert state.state == "finished", state.error
    assert state.resumed and state.title == "Copy 4 items to cloud:up/"
    assert (state.files_copied_before, state.files_copied, state.bytes_transferred) == (1, 3, 600_000)
    for name, data in files.items():
        assert read_object(moto_s3, cloud, f"up/{name}") == data
    assert manager.journal is not None and manager.journal.job(job_id).state == "finished"
    assert manager.unfinished_jobs() == []
    with pytest.raises(errors.ConflictError, match="already finished"):
        manager.resume(job_id)
    with pytest.raises(errors.NotFoundError):
        manager.resume("no-such-job")


def test_discard_unfinished_forgets_the_job(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, manager: JobManager, tmp_path: Path
) -> None:
    files = {"a.bin": b"a" * 1000, "b.bin": b"b" * 1000}
    write_tree(tmp_path, files)
    journal_id = leave_cancelled_job(action([str(tmp_path / name) for name in files], "cloud:"))
    assert manager.discard_unfinished(journal_id) == []  # an upload leaves no partial file here
    assert manager.unfinished_jobs() == []
    with pytest.raises(errors.NotFoundError):
        manager.resume(journal_id)
    assert object_keys(moto_s3, cloud) == ["a.bin"]  # what it had copied stays


def test_without_a_journal_jobs_still_run(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def unopenable() -> Journal:
        raise JournalError("cannot open the job journal /x: disk I/O error")

    monkeypatch.setattr(job_manager, "Journal", unopenable)
    jobs = JobManager(lambda: BackendCache(VolumeRegistry(), settings=SETTINGS), SETTINGS)
    try:
        assert "cannot be resumed after a crash" in caplog.text
        (tmp_path / "a.txt").write_bytes(b"a")
        job_id = jobs.submit(action([str(tmp_path / "a.txt")], f"{tmp_path}/b.txt"))
        assert wait_ended(qtbot, jobs, job_id).state == "finished"
        assert jobs.unfinished_jobs() == []
        with pytest.raises(JournalError):
            jobs.resume(job_id)
    finally:
        assert jobs.shutdown(5.0)


# -- retries and throttling -------------------------------------------------------------------------------------


def test_throttling_shows_as_retries_and_fewer_files_at_once(
    qtbot: QtBot, rclone_s3: S3Server, manager: JobManager, tmp_path: Path
) -> None:
    """A real service answering 503 SlowDown to 30 % of requests: the job's state text says so while it runs."""
    rclone_s3.ensure_running()
    settings = TransferSettings(request_retries=1, retry_base_s=0.05, retry_cap_s=0.5, file_concurrency=8)
    write_tree(tmp_path / "small", {f"f{i:03d}.txt": f"file {i}\n".encode() * 20 for i in range(120)})
    bucket = rclone_s3.new_bucket("throttled")
    with FaultProxy(LOOPBACK, rclone_s3.port) as proxy:
        add_volume(rclone_s3, bucket, endpoint=proxy.endpoint)
        jobs = JobManager(lambda: BackendCache(VolumeRegistry(), settings=settings), settings, tick_ms=50)
        texts: list[str] = []
        try:
            proxy.http_faults(HttpFault(0.3, 503, "SlowDown"))
            job_id = jobs.submit(action([f"{tmp_path / 'small'}/"], "cloud:"))
            jobs.jobs_changed.connect(lambda ids: texts.append(state_text(jobs.state(job_id))))
            state = wait_ended(qtbot, jobs, job_id)
        finally:
            proxy.pass_through()
            assert jobs.shutdown(10.0)
            rclone_s3.delete_bucket(bucket)
    assert state.state == "finished", state.error
    assert state.files_copied == 120
    assert state.retries > 0 and "after throttled error" in state.last_retry
    assert state.concurrency_max == 8
    assert state.concurrency_lowest is not None and state.concurrency_lowest < 8
    assert any(" · retry " in text for text in texts), texts[-5:]
    assert any(" · throttled: " in text and text.endswith(" at once") for text in texts), texts[-5:]
