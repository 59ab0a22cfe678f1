"""Test connection against a service that accepts the connection and never answers: Stop returns to idle at once
and the stopped test's late report is ignored; left alone, the test gives up after its silence limit, clearly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sdgui.gui.dialogs.connection_test import NO_ANSWER_S, probe_settings
from sdgui.gui.dialogs.volume_dialog import VolumeDialog
from tests.gui._volume_dialog import (
    PROBE_TIMEOUT_MS,
    _probes_finish,  # noqa: F401  (autouse)
    fill_other_s3,
    open_dialog,
)
from tests.silent_server import silent_server

pytestmark = pytest.mark.usefixtures("settings_dir")

STOP_BOUND_S = 0.5


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """The http:// endpoint of a server that accepts connections and never answers."""
    with silent_server() as server:
        yield server.endpoint


def fill_silent(dialog: VolumeDialog, endpoint: str) -> None:
    fill_other_s3(dialog, name="hang", bucket="bucket", endpoint=endpoint, access_key_id="key", secret="wrong-secret")


def test_the_default_silence_limit_is_15_seconds(qtbot: QtBot) -> None:
    assert NO_ANSWER_S == 15.0
    assert open_dialog(qtbot).tester.silence_s == 15.0
    settings = probe_settings(NO_ANSWER_S)
    assert (settings.stall_timeout_s, settings.request_retries) == (15.0, 0)


def test_stop_returns_to_idle_at_once_and_ignores_the_late_report(qtbot: QtBot, silent_endpoint: str) -> None:
    dialog = open_dialog(qtbot, silence_s=2.0)
    fill_silent(dialog, silent_endpoint)
    dialog.test_button.click()
    assert dialog.test_summary.text() == "Testing… (it gives up after 2 s without an answer)"
    assert dialog.stop_button.isEnabled() and not dialog.test_button.isEnabled()

    started = time.monotonic()
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=round(STOP_BOUND_S * 1000))

    assert time.monotonic() - started < STOP_BOUND_S
    assert not dialog.stop_button.isEnabled()
    assert dialog.test_summary.text().startswith("Stopped")
    # The stopped probe is still waiting on the silent server; its failure, once its read timeout ends it, goes
    # nowhere.
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)
    QApplication.processEvents()
    assert dialog.test_summary.text().startswith("Stopped")
    assert dialog.probe_steps == []
    assert "✗" not in dialog.test_steps.text()


def test_silence_gives_up_with_a_clear_message(qtbot: QtBot, silent_endpoint: str) -> None:
    silence_s = 1.5
    dialog = open_dialog(qtbot, silence_s=silence_s)
    fill_silent(dialog, silent_endpoint)
    started = time.monotonic()
    dialog.test_button.click()

    qtbot.waitUntil(lambda: dialog.test_summary.text().startswith("✗"), timeout=round(silence_s * 1000) + 5000)

    assert time.monotonic() - started >= silence_s * 0.9
    summary = dialog.test_summary.text()
    assert summary.startswith(f"✗ No answer from {silent_endpoint} in 1.5 s"), summary
    steps = dialog.test_steps.text()
    assert "no answer in 1.5 s" in steps
    for raw in ("stalled", "Generic", "retry_timeout", "max_retries"):
        assert raw not in summary + steps
    assert dialog.test_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)
    QApplication.processEvents()
    assert dialog.test_summary.text() == summary  # the probe's own timeout, arriving later, changes nothing


def test_an_edit_during_a_test_stops_it_and_its_report_never_lands(qtbot: QtBot, silent_endpoint: str) -> None:
    dialog = open_dialog(qtbot, silence_s=2.0)
    fill_silent(dialog, silent_endpoint)
    dialog.test_button.click()
    assert dialog.stop_button.isEnabled()

    qtbot.keyClicks(dialog.bucket, "-2")  # the test was for the old bucket name

    assert dialog.test_button.isEnabled() and not dialog.stop_button.isEnabled()
    assert dialog.test_summary.text() == ""
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)
    QApplication.processEvents()
    assert dialog.test_summary.text() == ""
    assert dialog.probe_steps == []
