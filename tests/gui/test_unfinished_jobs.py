"""At start the window offers the transfers an earlier session left unfinished: a bar above the panes with Resume all,
Review… and Discard all; resuming finishes them from where they stopped (against moto, and a killed `sdgui copy`)."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.copy.action import CopyAction
from sdgui.core.journal import JOURNAL_FILE, Journal
from sdgui.core.paths import SdPath
from sdgui.core.volumes import data_dir
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.main_window import MainWindow
from sdgui.gui.models.transfers_model import Column
from tests.copying import add_volume, read_object, write_tree
from tests.gui._unfinished import leave_cancelled_job
from tests.servers import S3Server
from tests.test_cli import JsonLines, sdgui
from tests.test_resume import file_blake3, partials, past, put_with_blake3
from tests.throttling_proxy import ThrottlingProxy

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

JOB_TIMEOUT_MS = 60_000
MiB = 1024 * 1024

OpenWindow = Callable[[], MainWindow]


# -- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[OpenWindow]:
    """Open a MainWindow as a user would (shown, then its start-up check runs); closed afterwards."""
    windows: list[MainWindow] = []

    def open_() -> MainWindow:
        window = MainWindow()
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window._unfinished_checked)
        qtbot.waitUntil(lambda: window.unfinished_listings > 0)  # the journal is read off the GUI thread
        return window

    yield open_
    for window in windows:
        window.ask_before_quitting = False  # its transfers end without the prompt
        window.close()
        assert window.jobs.running_count == 0, "a copy job outlived its window"
        window.deleteLater()
    QThreadPool.globalInstance().waitForDone(30_000)


# -- helpers --------------------------------------------------------------------------------------------------


def upload_action(root: Path, names: list[str], destination: str) -> CopyAction:
    return CopyAction([SdPath(None, str(root / name), False) for name in names], SdPath.parse(destination))


def wait_ended(qtbot: QtBot, manager: JobManager, job_id: str) -> JobState:
    qtbot.waitUntil(lambda: manager.state(job_id).is_ended, timeout=JOB_TIMEOUT_MS)
    return manager.state(job_id)


def state_cell(window: MainWindow, job_id: str) -> str:
    dock = window.transfers
    row = dock.proxy_row_of(job_id)
    assert row is not None, f"{job_id} is not on the current tab"
    return str(dock.proxy.index(row, Column.STATE).data())


def journaled_unfinished() -> list[str]:
    with Journal() as journal:
        return [info.id for info in journal.unfinished_jobs()]


# -- tests ----------------------------------------------------------------------------------------------------


def test_no_bar_without_unfinished_jobs(open_window: OpenWindow) -> None:
    window = open_window()
    assert not window.unfinished_bar.isVisible()


def test_resume_all_finishes_a_cancelled_upload(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, tmp_path: Path
) -> None:
    files = {f"p{i}.jpg": os.urandom(300_000) for i in range(3)}
    write_tree(tmp_path / "photos", files)
    job_id = leave_cancelled_job(upload_action(tmp_path / "photos", list(files), "cloud:photos/"))
    assert journaled_unfinished() == [job_id]

    window = open_window()
    bar = window.unfinished_bar
    assert bar.isVisible()
    assert bar.message.full_text() == (
        "1 transfer did not finish last time: Copy p0.jpg, p1.jpg and 1 more to cloud:photos/ (1 of 3 files done)"
    )
    assert "Copy p0.jpg, p1.jpg, p2.jpg to cloud:photos/ — Cancelled, 1 of 3 files, 300.0 kB of 900.0 kB" in (
        bar.toolTip()
    )
    assert bar.geometry().bottom() < window.splitter.geometry().top()  # above the panes

    qtbot.mouseClick(bar.resume_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert window.jobs.job_ids() == [job_id]  # the row in the dock is the journal's job
    assert window.transfers.isVisible()
    state = wait_ended(qtbot, window.jobs, job_id)
    assert state.state == "finished", state.error
    assert (state.files_copied_before, state.files_copied) == (1, 2)
    for name, data in files.items():
        assert read_object(moto_s3, cloud, f"photos/{name}") == data
    assert journaled_unfinished() == []
    window.transfers.show_tab("Done")
    assert state_cell(window, job_id) in (
        "Done · verified · 1 done before",
        "Done · provider-checked · 1 done before",  # moto's checksum of an upload
    )


def test_review_resumes_a_killed_download_from_its_partial_file(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, tmp_path: Path
) -> None:
    """`sdgui copy` is SIGKILLed half-way through a download; the window resumes it from the partial file."""
    size = 32 * MiB
    digest = put_with_blake3(moto_s3, cloud, "big.bin", os.urandom(size))
    down = tmp_path / "down"
    down.mkdir()
    proxy = ThrottlingProxy(moto_s3.endpoint, rate=16 * 1000 * 1000)
    try:
        add_volume(moto_s3, cloud, "cloud", endpoint=proxy.endpoint)  # a slow link, so the kill lands mid-way
        lines = JsonLines(sdgui("copy", "cloud:big.bin", f"{down}/", "--json"))
        lines.wait_for(past(0.5, size))
        lines.process.kill()
        assert lines.finish()[0] == -9
    finally:
        proxy.close()
    add_volume(moto_s3, cloud, "cloud")  # the window gets the fast link
    [job_id] = journaled_unfinished()
    assert len(partials(down)) == 1

    window = open_window()
    assert window.unfinished_bar.message.full_text() == f"1 transfer did not finish last time: Copy big.bin to {down}/"
    qtbot.mouseClick(window.unfinished_bar.review_button, Qt.MouseButton.LeftButton)
    dialog = window.unfinished_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "Interrupted"
    assert dialog.table.item(0, 2).text().startswith("0 of 1 file, ")  # the bytes kept so far follow

    resume, _ = dialog.row_buttons(job_id)
    qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.unfinished_dialog is None)  # nothing left to review: it closed itself
    assert not window.unfinished_bar.isVisible()
    state = wait_ended(qtbot, window.jobs, job_id)
    assert state.state == "finished", state.error
    assert 0 < state.bytes_resumed < size  # what the journal had confirmed before the kill
    assert state.bytes_transferred == size - state.bytes_resumed
    window.transfers.show_tab("Done")
    assert state_cell(window, job_id).startswith("Done · verified · resumed ")
    assert file_blake3(down / "big.bin") == digest
    assert partials(down) == []
    assert journaled_unfinished() == []


def test_discard_all_asks_then_forgets_the_jobs(
    qtbot: QtBot, open_window: OpenWindow, monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, cloud: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    write_tree(tmp_path, {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c", "d.txt": b"d"})
    first = leave_cancelled_job(upload_action(tmp_path, ["a.txt", "b.txt"], "cloud:one/"))
    second = leave_cancelled_job(upload_action(tmp_path, ["c.txt", "d.txt"], "cloud:two/"))
    with Journal() as elsewhere:  # a job another sdgui process is running right now is not offered
        running = elsewhere.begin("running-elsewhere", upload_action(tmp_path, ["a.txt"], "cloud:three/"))
        try:
            window = open_window()
            bar = window.unfinished_bar
            assert bar.job_ids() == [first, second]
            assert bar.message.full_text() == (
                "2 transfers did not finish last time: Copy a.txt and b.txt to cloud:one/ (1 of 2 files done); "
                "Copy c.txt and d.txt to cloud:two/ (1 of 2 files done)"
            )

            answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
            monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
            qtbot.mouseClick(bar.discard_button, Qt.MouseButton.LeftButton)
            assert bar.isVisible() and sorted(journaled_unfinished()) == sorted([first, second, "running-elsewhere"])
            qtbot.mouseClick(bar.discard_button, Qt.MouseButton.LeftButton)
            assert answers == []
            qtbot.waitUntil(lambda: not bar.isVisible())  # the journal is written off the GUI thread
            assert journaled_unfinished() == ["running-elsewhere"]
        finally:
            running.end("cancelled")
    assert window.jobs.job_ids() == []
    assert read_object(moto_s3, cloud, "one/a.txt") == b"a"  # what was copied stays


def test_review_discards_one_and_resumes_the_other(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, tmp_path: Path
) -> None:
    write_tree(tmp_path, {"a.txt": b"a", "b.txt": b"b", "c.txt": b"c", "d.txt": b"d"})
    dropped = leave_cancelled_job(upload_action(tmp_path, ["a.txt", "b.txt"], "cloud:one/"))
    kept = leave_cancelled_job(upload_action(tmp_path, ["c.txt", "d.txt"], "cloud:two/"))
    window = open_window()
    dialog = window.review_unfinished()
    assert dialog.table.rowCount() == 2

    qtbot.mouseClick(dialog.row_buttons(dropped)[1], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog.jobs) == 1)  # the journal is written off the GUI thread
    assert [info.id for info in dialog.jobs] == [kept]
    assert window.unfinished_bar.message.full_text().startswith("1 transfer did not finish last time: ")
    qtbot.mouseClick(dialog.row_buttons(kept)[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.unfinished_dialog is None)
    assert wait_ended(qtbot, window.jobs, kept).state == "finished"
    assert read_object(moto_s3, cloud, "two/d.txt") == b"d"
    assert journaled_unfinished() == []


def test_an_unreadable_journal_never_keeps_the_window_from_opening(
    open_window: OpenWindow, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    (data_dir() / JOURNAL_FILE).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING):
        window = open_window()
    assert not window.unfinished_bar.isVisible()
    assert "cannot be resumed after a crash" in caplog.text
    assert window.jobs.journal is None


def test_a_damaged_journal_row_never_keeps_the_window_from_opening(
    open_window: OpenWindow, caplog: pytest.LogCaptureFixture
) -> None:
    Journal().close()
    with sqlite3.connect(data_dir() / JOURNAL_FILE) as db:
        now = time.time()
        db.execute("INSERT INTO jobs VALUES ('broken', ?, ?, 'cancelled', '{not json', 'copy ?')", (now, now))
    db.close()
    with caplog.at_level(logging.WARNING):
        window = open_window()
    assert not window.unfinished_bar.isVisible()
    assert "cannot list the unfinished transfers" in caplog.text
