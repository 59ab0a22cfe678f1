"""Discarding a journaled job never blocks the GUI thread, even while another process holds the journal's write lock."""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.journal import JOURNAL_FILE
from sdgui.core.volumes import data_dir
from tests.copying import write_tree
from tests.gui._unfinished import leave_cancelled_job
from tests.gui.test_unfinished_jobs import OpenWindow, journaled_unfinished, upload_action
from tests.gui.test_unfinished_jobs import open_window as open_window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("settings_dir")]

MAX_STALL_S = 0.5


def test_discard_all_keeps_the_window_responsive_while_the_journal_is_locked(
    qtbot: QtBot, open_window: OpenWindow, monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, cloud: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    write_tree(tmp_path, {"a.txt": b"a", "b.txt": b"b"})
    job_id = leave_cancelled_job(upload_action(tmp_path, ["a.txt", "b.txt"], "cloud:one/"))
    window = open_window()
    bar = window.unfinished_bar
    assert bar.job_ids() == [job_id]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.monotonic()))
    heartbeat.start()
    other = sqlite3.connect(data_dir() / JOURNAL_FILE, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another sdgui process writing: the discard waits for the lock
        qtbot.mouseClick(bar.discard_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(beats) >= 50, timeout=10_000)  # half a second of a locked journal
        assert bar.isVisible()  # the discard is still waiting for the lock (reading the journal now would wait too)
    finally:
        other.execute("ROLLBACK")
        other.close()
    qtbot.waitUntil(lambda: not bar.isVisible() or "Could not" in window.statusBar().currentMessage(), timeout=20_000)
    assert not bar.isVisible(), window.statusBar().currentMessage()
    heartbeat.stop()
    assert journaled_unfinished() == []
    stall = max(b - a for a, b in itertools.pairwise(beats))
    assert stall < MAX_STALL_S, f"the GUI thread stalled for {stall:.2f} s"
