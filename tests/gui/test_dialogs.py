"""ConflictDialog answers and the Preferences round trip through QSettings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from sdgui.core.backends.base import Entry
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.units import format_size
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog, ask
from sdgui.gui.dialogs.preferences_dialog import PreferencesDialog
from sdgui.gui.preferences import Preferences, load_preferences, save_preferences

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def entries() -> tuple[Entry, Entry]:
    return (
        Entry("report.pdf", False, 3 * MiB, NOW),
        Entry("report.pdf", False, 1024, NOW - timedelta(days=3)),
    )


# -- conflicts -------------------------------------------------------------------------------------------------


def test_conflict_dialog_shows_both_files(qtbot: QtBot) -> None:
    src, dst = entries()
    dialog = ConflictDialog(None, "report.pdf", "cloud:docs/", src, dst)
    qtbot.addWidget(dialog)
    assert "“report.pdf” already exists in cloud:docs/" in dialog.heading.text()
    assert [label.text() for label in dialog.rows["source"][1:3]] == ["3.1 MB", "modified " + _local(NOW)]
    assert dialog.rows["destination"][1].text() == "1.0 kB"
    assert "newer, larger" in dialog.rows["source"][3].text()
    assert dialog.rows["destination"][3].text() == ""


@pytest.mark.parametrize(
    ("button", "expected"), [("skip_button", "skip"), ("overwrite_button", "overwrite"), ("keep_both_button", "rename")]
)
def test_each_button_gives_its_policy(qtbot: QtBot, button: str, expected: str) -> None:
    dialog = ConflictDialog(None, "a.txt", "/tmp/")
    qtbot.addWidget(dialog)
    dialog.apply_to_all.setChecked(True)
    getattr(dialog, button).click()
    assert dialog.result_pair() == (expected, True)


def test_cancel_gives_none(qtbot: QtBot) -> None:
    dialog = ConflictDialog(None, "a.txt", "/tmp/")
    qtbot.addWidget(dialog)
    dialog.apply_to_all.setChecked(True)
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert dialog.result_pair() == (None, False)


def test_ask_runs_the_dialog_modally(qtbot: QtBot) -> None:
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ConflictDialog)
        dialog.apply_to_all.setChecked(True)
        dialog.keep_both_button.click()

    QTimer.singleShot(0, answer)
    src, dst = entries()
    assert ask(None, "report.pdf", "cloud:docs/", src, dst) == ("rename", True)
    QTimer.singleShot(0, lambda: QApplication.activeModalWidget().reject())  # type: ignore[union-attr]
    assert ConflictDialog.ask(None, "report.pdf", "cloud:docs/", None, None) == (None, False)


def test_sizes_read_like_a_file_manager() -> None:
    assert format_size(0) == "0 bytes"
    assert format_size(1) == "1 byte"
    assert format_size(1536) == "1.5 kB"
    assert format_size(5 * 1000**3) == "5.0 GB"


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


# -- preferences -----------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


def test_defaults_match_the_core_transfer_settings(settings: QSettings) -> None:
    assert load_preferences(settings) == Preferences()
    assert Preferences().transfer_settings() == TransferSettings()


def test_preferences_round_trip_through_qsettings(settings: QSettings, tmp_path: Path) -> None:
    chosen = Preferences(
        chunk_size_mib=32,
        download_part_mib=64,
        upload_concurrency=8,
        download_concurrency=12,
        file_concurrency=4,
        concurrent_jobs=3,
        bandwidth_mib_s=2.5,
        verify="readback",
        conflict_policy="rename",
    )
    save_preferences(chosen, settings)
    reopened = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    assert load_preferences(reopened) == chosen
    transfer = chosen.transfer_settings()
    assert (transfer.upload_chunk_size, transfer.download_part_size) == (32 * MiB, 64 * MiB)
    assert (transfer.upload_concurrency, transfer.download_concurrency, transfer.file_concurrency) == (8, 12, 4)
    assert transfer.bandwidth_limit == round(2.5 * MiB)
    assert Preferences(bandwidth_mib_s=0).transfer_settings().bandwidth_limit is None  # 0: unlimited


def test_bad_stored_values_fall_back_or_are_clamped(settings: QSettings) -> None:
    settings.setValue("preferences/chunk_size_mib", "lots")
    settings.setValue("preferences/upload_concurrency", 10_000)
    settings.setValue("preferences/verify", "sometimes")
    settings.setValue("preferences/conflict_policy", "skip")
    settings.setValue("preferences/bandwidth_mib_s", "fast")
    loaded = load_preferences(settings)
    assert loaded.bandwidth_mib_s == 0.0
    settings.setValue("preferences/bandwidth_mib_s", -3)
    assert load_preferences(settings).bandwidth_mib_s == 0.0
    assert loaded.chunk_size_mib == Preferences().chunk_size_mib
    assert loaded.upload_concurrency == 64
    assert loaded.verify == "on"
    assert loaded.conflict_policy == "skip"


def test_default_location_is_beside_volumes_toml() -> None:
    save_preferences(Preferences(concurrent_jobs=5))
    assert load_preferences().concurrent_jobs == 5


def test_preferences_dialog_edits_and_saves(qtbot: QtBot, settings: QSettings) -> None:
    save_preferences(Preferences(upload_concurrency=7), settings)
    dialog = PreferencesDialog(settings=settings)
    qtbot.addWidget(dialog)
    assert dialog.spins["upload_concurrency"].value() == 7
    dialog.spins["chunk_size_mib"].setValue(16)
    dialog.spins["concurrent_jobs"].setValue(4)
    assert dialog.bandwidth.text() == "Unlimited"
    dialog.bandwidth.setValue(12.5)
    dialog.verify.setCurrentIndex(dialog.verify.findData("off"))
    dialog.conflict_policy.setCurrentIndex(dialog.conflict_policy.findData("overwrite"))
    with qtbot.waitSignal(dialog.preferences_changed, timeout=1000) as changed:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    expected = Preferences(
        chunk_size_mib=16,
        upload_concurrency=7,
        concurrent_jobs=4,
        bandwidth_mib_s=12.5,
        verify="off",
        conflict_policy="overwrite",
    )
    assert changed.args == [expected]
    assert load_preferences(settings) == expected


def test_preferences_dialog_cancel_and_restore_defaults(qtbot: QtBot, settings: QSettings) -> None:
    save_preferences(Preferences(file_concurrency=3), settings)
    dialog = PreferencesDialog(settings=settings)
    qtbot.addWidget(dialog)
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    assert dialog.preferences() == Preferences()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert load_preferences(settings).file_concurrency == 3
