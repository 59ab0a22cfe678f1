"""JobManager against a real S3 server (moto): jobs run on its pool, events arrive coalesced in the GUI thread."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.jobs.job_manager import TICK_MS, JobManager
from sdgui.gui.jobs.job_state import JobState
from tests.copying import add_volume, read_object, write_tree
from tests.servers import S3Server

SETTINGS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=4 * MiB)
JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def cloud(moto_s3: S3Server) -> Iterator[str]:
    """A fresh bucket on moto, registered as volume ``cloud``."""
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket("gui")
    add_volume(moto_s3, bucket)
    yield bucket
    moto_s3.delete_bucket(bucket)


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
