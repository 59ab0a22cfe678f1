"""Closing the window while a transfer runs asks what to do: keep running, quit and resume later, or cancel the
transfers; whatever the answer, the window is gone within 2 s and the journal says what the next start offers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.journal import Journal
from sdgui.gui.main_window import MainWindow
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.gui.test_main_window import start_big_upload, wait_ended
from tests.gui.test_main_window import window as window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

MiB = 1024 * 1024
CLOSE_LIMIT_S = 2.0


def close_answering(window: MainWindow, button: str) -> tuple[list[str], float]:
    """Close ``window``, answering the quit prompt with ``button``: the prompt's texts, and how long closing took."""
    answer = QuitAnswer(button)
    started = time.monotonic()
    window.close()
    return answer.texts, time.monotonic() - started


class QuitAnswer:
    """Answers the quit prompt, once it is up, by clicking the button named ``button``; keeps what it said."""

    def __init__(self, button: str) -> None:
        self.button = button
        self.texts: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._answer)
        self._timer.start()

    def _answer(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "quitPrompt":
            return
        self._timer.stop()
        self.texts.append(f"{box.text()}\n{box.informativeText()}")
        [button] = [b for b in box.buttons() if b.text() == self.button]
        button.click()


def unfinished_ids() -> set[str]:
    journal = Journal()
    try:
        return {info.id for info in journal.unfinished_jobs()}
    finally:
        journal.close()


def test_keep_running_keeps_the_window_and_its_transfer(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, local_dir: Path
) -> None:
    job_id = start_big_upload(qtbot, window, local_dir, 400 * MiB)

    answer = QuitAnswer("Keep running")
    window.close()

    assert answer.texts, "no prompt"
    assert answer.texts[0].startswith("1 transfer is not finished (1 running).")
    assert "• big.bin → cloud:" in answer.texts[0]
    assert window.isVisible()
    assert window.jobs.state(job_id).state == "running"
    window.jobs.cancel(job_id)
    assert wait_ended(qtbot, window, job_id).state == "cancelled"


def test_quit_and_resume_later_closes_at_once_and_the_next_start_offers_the_job(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, local_dir: Path
) -> None:
    job_id = start_big_upload(qtbot, window, local_dir, 400 * MiB)

    texts, closed_s = close_answering(window, "Quit and resume later")

    assert texts
    assert not window.isVisible()
    assert closed_s < CLOSE_LIMIT_S, f"closing took {closed_s:.2f} s"
    assert window.jobs.running_count == 0
    assert job_id in unfinished_ids()


def test_cancel_transfers_and_quit_leaves_nothing_to_resume(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, local_dir: Path
) -> None:
    job_id = start_big_upload(qtbot, window, local_dir, 400 * MiB)

    texts, closed_s = close_answering(window, "Cancel transfers and quit")

    assert texts
    assert not window.isVisible()
    assert closed_s < CLOSE_LIMIT_S, f"closing took {closed_s:.2f} s"
    assert window.jobs.state(job_id).state == "cancelled"
    assert job_id not in unfinished_ids()


def test_ctrl_q_without_transfers_quits_without_asking(qtbot: QtBot, window: MainWindow) -> None:
    answer = QuitAnswer("Keep running")
    QTest.keyClick(window.left.view, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert answer.texts == []
