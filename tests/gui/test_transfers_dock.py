"""TransfersDock with real jobs against moto: rows show their state, and Cancel / Retry / Reveal work by click."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.events import (
    ConcurrencyChanged,
    FileDone,
    FileRetrying,
    FileSkipped,
    JobEvent,
    JobFinished,
    JobStarted,
    Progress,
)
from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.models.transfers_model import Column
from sdgui.gui.widgets.transfers_dock import RowActions, TransfersDock
from tests.copying import read_object
from tests.servers import S3Server

STATE = Column.STATE
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"), pytest.mark.qt_log_ignore("propagateSizeHints")]

SETTINGS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=4 * MiB)
JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def manager(qtbot: QtBot) -> Iterator[JobManager]:
    jobs = JobManager(lambda: BackendCache(VolumeRegistry(), settings=SETTINGS), SETTINGS)
    yield jobs
    assert jobs.shutdown(10.0), "a copy job outlived its test"


@pytest.fixture
def dock(qtbot: QtBot, manager: JobManager) -> TransfersDock:
    widget = TransfersDock(manager)
    qtbot.addWidget(widget)
    widget.resize(1200, 300)
    widget.show()
    return widget


def action(sources: list[str], destination: str) -> CopyAction:
    return CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination), CopyOptions())


def wait_ended(qtbot: QtBot, manager: JobManager, job_id: str, timeout: int = JOB_TIMEOUT_MS) -> JobState:
    if not manager.state(job_id).is_ended:
        with qtbot.waitSignal(manager.job_ended, timeout=timeout, check_params_cb=lambda jid, *_: jid == job_id):
            pass
    return manager.state(job_id)


def cell(dock: TransfersDock, job_id: str, column: Column, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    row = dock.proxy_row_of(job_id)
    assert row is not None, f"{job_id} is not on the current tab"
    return dock.proxy.index(row, column).data(role)


def actions_of(dock: TransfersDock, job_id: str) -> RowActions:
    widget = dock.row_actions(job_id)
    assert widget is not None, f"no action buttons for {job_id}"
    return widget


def test_models_pass_the_qt_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    qtmodeltester.check(dock.model)
    (tmp_path / "a.txt").write_bytes(b"a")
    done = manager.submit(action([str(tmp_path / "a.txt")], f"{tmp_path}/b.txt"))
    failed = manager.submit(action([str(tmp_path / "missing")], f"{tmp_path}/c.txt"))
    wait_ended(qtbot, manager, done)
    wait_ended(qtbot, manager, failed)
    for tab in ("Done", "Failed", "Active"):
        dock.show_tab(tab)
    manager.clear_finished()
    assert dock.model.rowCount() == 1


def test_queued_row_cancel_then_retry_then_reveal(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    (tmp_path / "small.txt").write_bytes(b"small")
    dock.pause_action.trigger()
    assert manager.is_paused and dock.pause_action.text() == "Resume queue"
    job_id = manager.submit(action([str(tmp_path / "small.txt")], "cloud:small.txt"))
    assert cell(dock, job_id, Column.STATE) == "Queued (paused)"
    assert cell(dock, job_id, Column.TRANSFER) == "small.txt → cloud:small.txt"
    assert dock.tabs.tabText(0) == "Active (1)"
    buttons = actions_of(dock, job_id)
    assert buttons.cancel_button.isVisible() and not buttons.retry_button.isVisible()

    qtbot.mouseClick(buttons.cancel_button, Qt.MouseButton.LeftButton)
    assert manager.state(job_id).state == "cancelled"
    assert dock.proxy_row_of(job_id) is None  # gone from Active
    dock.show_tab("Failed")
    assert dock.proxy_row_of(job_id) is None  # a cancel is not a failure
    dock.show_tab("Cancelled")
    assert cell(dock, job_id, Column.STATE) == "Cancelled"
    buttons = actions_of(dock, job_id)
    assert buttons.retry_button.isVisible() and not buttons.cancel_button.isVisible()

    with qtbot.waitSignal(manager.job_added, timeout=0) as added:
        qtbot.mouseClick(buttons.retry_button, Qt.MouseButton.LeftButton)
    retry_id = added.args[0]
    dock.pause_action.trigger()  # resume
    assert dock.pause_action.text() == "Pause queue"
    assert wait_ended(qtbot, manager, retry_id).state == "finished"
    assert read_object(moto_s3, cloud, "small.txt") == b"small"

    dock.show_tab("Done")
    assert str(cell(dock, retry_id, Column.STATE)).startswith("Done")
    assert cell(dock, retry_id, Column.PROGRESS) == "100%"
    with qtbot.waitSignal(dock.reveal_requested, timeout=0) as revealed:
        qtbot.mouseClick(actions_of(dock, retry_id).reveal_button, Qt.MouseButton.LeftButton)
    assert revealed.args == ["cloud:small.txt"]
    dock.clear_action.trigger()
    assert dock.proxy.rowCount() == 0


def test_running_upload_shows_progress_and_cancel_stops_it(
    qtbot: QtBot, moto_s3: S3Server, cloud: str, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(200 * MiB))
    job_id = manager.submit(action([str(big)], "cloud:big.bin"))
    qtbot.waitUntil(lambda: manager.state(job_id).bytes_done > 0, timeout=JOB_TIMEOUT_MS)
    assert cell(dock, job_id, Column.STATE) == "Transferring"
    assert cell(dock, job_id, Column.DIRECTION) == "Upload"
    assert str(cell(dock, job_id, Column.PROGRESS)).endswith("%")
    assert " of 209.7 MB" in str(cell(dock, job_id, Column.TRANSFERRED))
    assert not dock.grab().isNull()  # paints the progress bar delegate mid-way

    cancelled_at = time.monotonic()
    qtbot.mouseClick(actions_of(dock, job_id).cancel_button, Qt.MouseButton.LeftButton)
    assert cell(dock, job_id, Column.STATE) == "Cancelling…"
    assert wait_ended(qtbot, manager, job_id, timeout=2_000).state == "cancelled"
    assert time.monotonic() - cancelled_at < 2.0
    assert moto_s3.open_multipart_uploads(cloud) == []
    assert dock.tabs.tabText(1) == "Failed" and dock.tabs.tabText(2) == "Cancelled (1)"
    dock.show_tab("Cancelled")
    assert str(cell(dock, job_id, Column.STATE)).startswith("Cancelled")


def test_failed_row_says_why(
    qtbot: QtBot, cloud: str, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    job_id = manager.submit(action([str(tmp_path / "nowhere.txt")], "cloud:nowhere.txt"))
    wait_ended(qtbot, manager, job_id)
    dock.show_tab("Failed")
    assert cell(dock, job_id, Column.STATE) == "Failed · not-found"
    assert "does not exist" in str(cell(dock, job_id, Column.STATE, Qt.ItemDataRole.ToolTipRole))
    dock.view.selectRow(dock.proxy_row_of(job_id) or 0)
    assert "Error: not-found error" in dock.details.toPlainText()
    assert actions_of(dock, job_id).retry_button.isVisible()


def feed(manager: JobManager, job_id: str, *events: JobEvent) -> None:
    """What the manager's tick does with a job's buffered events: fold them into its state, then one jobs_changed."""
    for event in events:
        manager.state(job_id).apply(event)
    manager.jobs_changed.emit([job_id])


def test_state_column_shows_retries_throttling_and_resumed_bytes(
    qtbot: QtBot, qtmodeltester: ModelTester, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    qtmodeltester.check(dock.model)
    dock.pause_action.trigger()  # the job stays queued: the test plays its events
    job_id = manager.submit(action(["cloud:a.bin", "cloud:b.bin"], f"{tmp_path}/"))
    state = manager.state(job_id)
    state.mark_running()
    state.concurrency_max = 16
    feed(
        manager,
        job_id,
        JobStarted(job_id, files=2, bytes_total=1_000_000_000, strategy="streaming download"),
        FileRetrying(
            job_id,
            "cloud:a.bin",
            f"{tmp_path}/a.bin",
            1,
            5,
            0.8,
            "network",
            "network error at cloud:a.bin: connection reset by peer",
        ),
        ConcurrencyChanged(job_id, 8, "throttled"),
        ConcurrencyChanged(job_id, 4, "throttled"),
    )
    # The first retry waits 0.8 s: its countdown may already be over.
    assert re.fullmatch(r"Transferring · retry 2/5( in 1 s)? · throttled: 4 at once", str(cell(dock, job_id, STATE)))
    tooltip = str(cell(dock, job_id, Column.STATE, Qt.ItemDataRole.ToolTipRole))
    assert "cloud:a.bin: retry 2 of 5 after network error at cloud:a.bin: connection reset by peer" in tooltip
    assert "Throttled by the service: down to 4 files at once (now 4)" in tooltip
    dock.view.selectRow(dock.proxy_row_of(job_id) or 0)
    assert "1 retry:" in dock.details.toPlainText()
    assert "retry 2 of 5 after network error" in dock.details.toPlainText()

    feed(manager, job_id, FileRetrying(job_id, "cloud:a.bin", f"{tmp_path}/a.bin", 2, 5, 1.6, "network", "reset"))
    assert re.fullmatch(r"Transferring · retry 3/5( in [12] s)? · throttled: 4 at once", str(cell(dock, job_id, STATE)))
    feed(
        manager,
        job_id,
        FileDone(
            job_id,
            "cloud:a.bin",
            f"{tmp_path}/a.bin",
            600_000_000,
            "h",
            "verified",
            "streaming download",
            bytes_resumed=512_000_000,
            attempts=3,
        ),
        *(ConcurrencyChanged(job_id, limit, "recovered") for limit in range(5, 17)),
    )
    assert cell(dock, job_id, Column.STATE) == "Transferring"  # no file waits for a retry, back to 16 at once
    feed(
        manager,
        job_id,
        FileSkipped(job_id, "cloud:b.bin", f"{tmp_path}/b.bin", "copied-before"),
        JobFinished(job_id, 1, 1, 1_000_000_000, 2.0, 1, 0, 0, bytes_transferred=88_000_000, bytes_resumed=512_000_000),
    )
    dock.show_tab("Done")
    assert cell(dock, job_id, Column.STATE) == "Done · verified · resumed 512.0 MB · 1 done before"
    dock.view.selectRow(dock.proxy_row_of(job_id) or 0)
    details = dock.details.toPlainText()
    assert "512.0 MB kept from partial files; 88.0 MB transferred this time" in details
    assert "1 file copied by an earlier run" in details
    assert "Throttled by the service: down to 4 files at once (ended at 16)" in details
    assert "2 retries:" in details


def test_cancelled_jobs_have_their_own_tab_apart_from_failed(
    qtbot: QtBot, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    failed = manager.submit(action([str(tmp_path / "missing")], f"{tmp_path}/out"))
    wait_ended(qtbot, manager, failed)
    dock.pause_action.trigger()
    (tmp_path / "a.txt").write_bytes(b"a")
    cancelled = manager.submit(action([str(tmp_path / "a.txt")], f"{tmp_path}/b.txt"))
    manager.cancel(cancelled)
    assert manager.state(cancelled).state == "cancelled"
    assert [dock.tabs.tabText(tab) for tab in range(dock.tabs.count())] == [
        "Active", "Failed (1)", "Cancelled (1)", "Done",
    ]  # fmt: skip
    dock.show_tab("Failed")
    assert dock.proxy_row_of(failed) is not None and dock.proxy_row_of(cancelled) is None
    dock.show_tab("Cancelled")
    assert dock.proxy_row_of(cancelled) is not None and dock.proxy_row_of(failed) is None
    assert cell(dock, cancelled, STATE) == "Cancelled"
    assert actions_of(dock, cancelled).retry_button.isVisible()


def test_state_column_names_the_phase_and_counts_down_a_retry(
    qtbot: QtBot, dock: TransfersDock, manager: JobManager, tmp_path: Path
) -> None:
    dock.pause_action.trigger()  # the job stays queued: the test plays its events
    job_id = manager.submit(action(["cloud:a.bin"], f"{tmp_path}/"))
    state = manager.state(job_id)
    state.mark_running()
    feed(manager, job_id)
    assert cell(dock, job_id, STATE) == "Starting…"
    assert cell(dock, job_id, Column.TRANSFERRED) == ""  # not "0 bytes": nothing is known yet

    def progress(phase: str, done: int = 0, total: int = 0) -> Progress:
        return Progress(job_id, phase, "cloud:a.bin", done, total, 0, 1 if total else 0, 0.0, None)  # type: ignore[arg-type]

    feed(manager, job_id, progress("scanning"))
    assert cell(dock, job_id, STATE) == "Listing sources…"
    strategy = "streaming download with ranged parts"
    feed(manager, job_id, JobStarted(job_id, 1, 0, strategy, counting=True), progress("counting", 10, 100))
    assert cell(dock, job_id, STATE) == "Transferring · still counting"
    assert cell(dock, job_id, Column.STRATEGY, Qt.ItemDataRole.ToolTipRole) == strategy
    feed(manager, job_id, progress("transferring", 50, 100))
    assert cell(dock, job_id, STATE) == "Transferring"

    retry = FileRetrying(job_id, "cloud:a.bin", f"{tmp_path}/a.bin", 1, 5, 2.5, "throttled", "503 SlowDown")
    feed(manager, job_id, retry, ConcurrencyChanged(job_id, 2, "throttled"))
    first = str(cell(dock, job_id, STATE))
    assert re.fullmatch(r"Transferring · retry 2/5 in [23] s · throttled: 2 at once", first), first
    # Nothing else happens, yet the countdown moves and then says the attempt is on.
    qtbot.waitUntil(
        lambda: cell(dock, job_id, STATE) == "Transferring · retry 2/5 · throttled: 2 at once", timeout=6000
    )

    # No cell cuts the state or the strategy: their columns grew to fit.
    header, metrics = dock.view.horizontalHeader(), dock.view.fontMetrics()
    assert header.sectionSize(STATE) >= metrics.horizontalAdvance(first)
    assert header.sectionSize(Column.STRATEGY) >= metrics.horizontalAdvance(strategy)
    assert "retry 2/5" in str(cell(dock, job_id, STATE, Qt.ItemDataRole.ToolTipRole))

    feed(manager, job_id, progress("finishing", 100, 100))
    assert cell(dock, job_id, STATE) == "Finishing… · retry 2/5 · throttled: 2 at once"
