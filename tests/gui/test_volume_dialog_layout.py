"""The volume dialog holds still: fields keep their place while the user types and when test results appear, help
text is never cut, any edit clears stale results, and the dialog says where the secret will go before Add."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.dialogs.connection_test import IDLE_TEXT
from sdgui.gui.dialogs.secret_note import NO_KEYRING_TEXT
from sdgui.gui.dialogs.volume_dialog import VolumeDialog
from sdgui.gui.dialogs.volume_presets import PRESETS
from tests.gui._volume_dialog import (
    _probes_finish,  # noqa: F401  (autouse)
    assert_not_clipped,
    choose,
    fill_other_s3,
    open_dialog,
    run_test,
)
from tests.keyrings import MemoryKeyring
from tests.servers import S3Server

pytestmark = pytest.mark.usefixtures("settings_dir")


def geometries(dialog: VolumeDialog) -> dict[str, QRect]:
    """Where every visible field and button of the dialog is, in the dialog's coordinates."""
    found: dict[str, QRect] = {}
    for kind in (QLineEdit, QCheckBox, QPushButton):
        for widget in dialog.findChildren(kind):
            assert isinstance(widget, QWidget)
            if widget.isVisible():
                found[f"{kind.__name__}:{id(widget)}"] = QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())
    found["results"] = QRect(dialog.tester.results.mapTo(dialog, QPoint(0, 0)), dialog.tester.results.size())
    return found


def test_fields_keep_their_place_while_typing_and_when_results_appear(qtbot: QtBot, closed_port_endpoint: str) -> None:
    dialog = open_dialog(qtbot)
    choose(dialog, "r2")  # its endpoint row may hold http://, which used to add the "Allow plain http" row
    before = geometries(dialog)
    assert len(before) > 8

    for field, text in (
        (dialog.name, "nowhere"),
        (dialog.bucket, "bucket"),
        (dialog.endpoint, closed_port_endpoint),
        (dialog.access_key_id, "key"),
        (dialog.secret, "wrong-secret-xyz"),
    ):
        qtbot.keyClicks(field, text)
        assert geometries(dialog) == before, f"the layout moved while typing into {field.placeholderText()!r}"
    dialog.allow_http.click()
    assert geometries(dialog) == before

    summary = run_test(qtbot, dialog)

    assert summary.startswith("✗ Failed at list: network error"), summary
    assert "cannot reach the service" in dialog.test_steps.text()
    assert geometries(dialog) == before
    assert_not_clipped(dialog.test_summary)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.key)
def test_provider_help_is_never_cut(qtbot: QtBot, preset: object) -> None:
    dialog = open_dialog(qtbot)
    choose(dialog, preset.key)
    qtbot.waitUntil(lambda: dialog.provider_help.text() == preset.help)
    assert_not_clipped(dialog.provider_help)
    assert_not_clipped(dialog.identity)
    assert_not_clipped(dialog.keyring_label)


def test_any_edit_clears_stale_results(qtbot: QtBot, closed_port_endpoint: str) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog, name="nowhere", bucket="bucket", endpoint=closed_port_endpoint, access_key_id="key", secret="one"
    )
    edits = (
        lambda: qtbot.keyClicks(dialog.secret, "2"),  # the secret changed: "All steps passed" would be a lie
        lambda: dialog.read_only.click(),
        lambda: qtbot.keyClicks(dialog.prefix, "x"),
        lambda: choose(dialog, "aws"),
    )
    for edit in edits:
        if not dialog.endpoint.isVisible():
            choose(dialog, "minio")
            dialog.endpoint.setText(closed_port_endpoint)
            dialog.allow_http.setChecked(True)
        assert run_test(qtbot, dialog).startswith("✗"), dialog.test_steps.text()
        assert dialog.probe_steps

        edit()

        assert dialog.test_summary.text() == ""
        assert dialog.probe_steps == []
        assert IDLE_TEXT in dialog.test_steps.text()
        assert "cannot reach" not in dialog.test_steps.text()


def test_a_passed_test_is_forgotten_once_the_secret_changes(qtbot: QtBot, rclone_s3: S3Server) -> None:
    rclone_s3.ensure_running()
    bucket = rclone_s3.new_bucket()
    try:
        dialog = open_dialog(qtbot)
        fill_other_s3(
            dialog,
            name="rclone",
            bucket=bucket,
            endpoint=rclone_s3.endpoint,
            access_key_id=rclone_s3.access_key_id,
            secret=rclone_s3.secret_access_key,
        )
        assert run_test(qtbot, dialog).startswith("✓ All steps passed")

        qtbot.keyClick(dialog.secret, Qt.Key.Key_Backspace)

        assert "passed" not in dialog.test_summary.text()
        assert dialog.probe_steps == [] and "✓" not in dialog.test_steps.text()
    finally:
        rclone_s3.delete_bucket(bucket)


# -- where the secret goes -------------------------------------------------------------------------------------


def test_the_keyring_in_use_is_named_before_add(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog, name="photos", bucket="b", endpoint="https://minio.example.com", access_key_id="AK", secret="s3cret"
    )
    assert dialog.keyring_label.isVisible()
    assert dialog.keyring_label.text() == f"The secret goes to the OS keyring: {MemoryKeyring.name}."
    assert not dialog.use_env_button.isVisible()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_without_a_keyring_the_dialog_says_so_before_add_and_keeps_the_typed_secret(
    qtbot: QtBot, no_keyring: None
) -> None:
    dialog = open_dialog(qtbot)
    assert dialog.keyring is not None and not dialog.keyring.available
    fill_other_s3(
        dialog,
        name="photos",
        bucket="photos-bucket",
        endpoint="https://minio.example.com",
        access_key_id="AKIDEXAMPLE",
        secret="super-secret-value",
    )
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # Before Add: where the secret would go, why it cannot, and the way out; Add is not offered, Test is.
    assert dialog.keyring_label.isVisible() and dialog.keyring_label.text() == NO_KEYRING_TEXT
    assert_not_clipped(dialog.keyring_label)
    assert dialog.use_env_button.isVisible()
    assert not ok.isEnabled()
    assert "No OS keyring" in dialog.error_label.text()
    assert dialog.test_button.isEnabled()

    dialog.use_env_button.click()

    assert dialog.use_env.isChecked()
    assert dialog.env_name.text() == "SDGUI_SECRET_PHOTOS"
    assert dialog.env_name.isVisible() and not dialog.secret.isVisible()
    assert "The secret typed before is not saved; Test connection uses it." in dialog.env_status.text()
    assert_not_clipped(dialog.env_status)
    assert dialog.typed_secret() is None  # nothing to store
    assert dialog.secret_for_test() == "super-secret-value"  # SDGUI_SECRET_PHOTOS is not set here
    assert dialog.secret.text() == "super-secret-value"  # kept: unticking the box brings it back
    assert ok.isEnabled()

    ok.click()

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert VolumeRegistry().get("photos").secret_env == "SDGUI_SECRET_PHOTOS"
    config_dir = VolumeRegistry().config_dir
    assert not any("super-secret-value" in p.read_text(errors="replace") for p in config_dir.rglob("*") if p.is_file())


def test_switching_back_from_the_environment_variable_shows_the_typed_secret(qtbot: QtBot, no_keyring: None) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(dialog, name="p", bucket="b", endpoint="https://m.example.com", access_key_id="AK", secret="abcd1")
    dialog.use_env_button.click()
    before = geometries(dialog)
    dialog.use_env.click()
    assert dialog.secret.isVisible() and dialog.secret.text() == "abcd1"
    assert dialog.keyring_label.text() == NO_KEYRING_TEXT
    # The secret and the variable share a row: switching moves nothing else.
    after = geometries(dialog)
    secret, variable = f"QLineEdit:{id(dialog.secret)}", f"QLineEdit:{id(dialog.env_name)}"
    assert after.pop(secret) == before.pop(variable)
    assert after.pop(f"QPushButton:{id(dialog.use_env_button)}")  # the way out of "no keyring" is offered again
    assert after == before
