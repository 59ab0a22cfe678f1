"""Opening and filling the volume dialog the way a user would, for the volume dialog's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from sdgui.core.volumes import VolumeConfig
from sdgui.gui.dialogs.volume_dialog import VolumeDialog

PROBE_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def _probes_finish() -> Iterator[None]:
    yield
    # A probe still running would report into the next test's widgets.
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)


def open_dialog(qtbot: QtBot, config: VolumeConfig | None = None, *, silence_s: float | None = None) -> VolumeDialog:
    dialog = VolumeDialog(None, config) if silence_s is None else VolumeDialog(None, config, silence_s=silence_s)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.keyring is not None, timeout=5000)  # the keyring answered (off the GUI thread)
    return dialog


def choose(dialog: VolumeDialog, preset: str) -> None:
    dialog.provider.setCurrentIndex(dialog.provider.findData(preset))


def fill_other_s3(
    dialog: VolumeDialog,
    *,
    name: str,
    bucket: str,
    endpoint: str,
    access_key_id: str,
    secret: str | None = None,
    secret_env: str | None = None,
) -> None:
    choose(dialog, "minio")
    dialog.name.setText(name)
    dialog.bucket.setText(bucket)
    dialog.endpoint.setText(endpoint)
    dialog.allow_http.setChecked(True)
    dialog.access_key_id.setText(access_key_id)
    if secret_env is not None:
        dialog.use_env.setChecked(True)
        dialog.env_name.setText(secret_env)
    if secret is not None:
        dialog.secret.setText(secret)


def label_of(dialog: VolumeDialog, field: QWidget) -> str:
    label = dialog.form.labelForField(field)
    assert isinstance(label, QLabel)
    return label.text()


def run_test(qtbot: QtBot, dialog: VolumeDialog) -> str:
    assert dialog.test_button.isEnabled(), dialog.error_label.text()
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_summary.text().startswith(("✓", "✗")), timeout=PROBE_TIMEOUT_MS)
    return dialog.test_summary.text()


def assert_not_clipped(label: QLabel) -> None:
    """The label's text fits in the height the label has."""
    needed = label.heightForWidth(label.width())
    assert needed <= label.height(), f"{label.text()!r} needs {needed} px, has {label.height()}"
