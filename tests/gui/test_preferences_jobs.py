"""Preferences reach the jobs: bandwidth and concurrency chosen in the dialog, saved in QSettings, are what the next
copy job runs with."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB
from sdgui.gui.dialogs.preferences_dialog import PreferencesDialog
from sdgui.gui.main_window import MainWindow
from sdgui.gui.preferences import load_preferences

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

SIZE = 2 * MiB
LIMIT_MIB_S = 1.0


def test_bandwidth_and_concurrency_from_the_dialog_reach_the_next_job(qtbot: QtBot, cloud: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(SIZE))
    window = MainWindow(right_location=SdPath.parse("cloud:"))
    qtbot.addWidget(window)
    window.ask_before_quitting = False

    def choose() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PreferencesDialog)
        assert dialog.bandwidth.text() == "Unlimited"  # the default
        dialog.bandwidth.setValue(LIMIT_MIB_S)
        dialog.spins["file_concurrency"].setValue(3)
        dialog.spins["upload_concurrency"].setValue(2)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(0, choose)
    window.edit_preferences()

    saved = load_preferences()
    assert (saved.bandwidth_mib_s, saved.file_concurrency, saved.upload_concurrency) == (LIMIT_MIB_S, 3, 2)
    settings = window.jobs.settings
    assert settings is not None
    assert (settings.bandwidth_limit, settings.file_concurrency, settings.upload_concurrency) == (1 * MiB, 3, 2)

    started = time.monotonic()
    with qtbot.waitSignal(window.copy_requests.submitted, timeout=30_000) as submitted:
        window.start_copy([SdPath(None, str(source))], SdPath.parse("cloud:limited/"), False)
    [job_id] = submitted.args[0]
    qtbot.waitUntil(lambda: window.jobs.state(job_id).is_ended, timeout=60_000)
    elapsed = time.monotonic() - started

    state = window.jobs.state(job_id)
    assert state.state == "finished", state.error
    assert state.concurrency_max == 3
    # 2 MiB at 1 MiB/s, less the bucket's quarter-second burst: the limit held the job back.
    assert elapsed >= 1.5, f"{SIZE} bytes took {elapsed:.2f} s under a {LIMIT_MIB_S} MiB/s limit"
    window.close()
    QThreadPool.globalInstance().waitForDone(30_000)
