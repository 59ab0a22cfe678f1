"""VolumeDialog and VolumesDialog offscreen: presets, inline validation, Test connection against real servers, and
where the secret goes (keyring or environment variable, never volumes.toml)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
)
from pytestqt.qtbot import QtBot

from sdgui.core.secrets import SERVICE
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.dialogs.volumes_dialog import VolumesDialog
from tests.gui._volume_dialog import (
    PROBE_TIMEOUT_MS,
    _probes_finish,  # noqa: F401  (autouse)
    choose,
    fill_other_s3,
    label_of,
    open_dialog,
    run_test,
)
from tests.keyrings import MemoryKeyring
from tests.servers import S3Server


@pytest.fixture
def moto_bucket(moto_s3: S3Server) -> Iterator[str]:
    moto_s3.ensure_running()
    name = moto_s3.new_bucket()
    yield name
    moto_s3.delete_bucket(name)


@pytest.fixture
def rclone_bucket(rclone_s3: S3Server) -> Iterator[str]:
    rclone_s3.ensure_running()
    name = rclone_s3.new_bucket()
    yield name
    rclone_s3.delete_bucket(name)


def item(tree: QTreeWidget, row: int) -> QTreeWidgetItem:
    found = tree.topLevelItem(row)
    assert found is not None
    return found


# -- Test connection -------------------------------------------------------------------------------------------


def test_other_s3_with_the_secret_in_an_environment_variable_passes_every_step(
    qtbot: QtBot, moto_s3: S3Server, moto_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDGUI_TEST_MOTO_SECRET", moto_s3.secret_access_key)
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="moto",
        bucket=moto_bucket,
        endpoint=moto_s3.endpoint,
        access_key_id=moto_s3.access_key_id,
        secret_env="SDGUI_TEST_MOTO_SECRET",
    )
    assert dialog.env_status.text() == "SDGUI_TEST_MOTO_SECRET is set in this session."

    summary = run_test(qtbot, dialog)

    assert summary.startswith("✓ All steps passed"), dialog.test_steps.text()
    assert [(s.name, s.ok) for s in dialog.probe_steps] == [
        ("list", True),
        ("write", True),
        ("read back", True),
        ("delete", True),
    ]
    assert dialog.test_steps.text().count("✓") == 4
    assert moto_s3.client().list_objects_v2(Bucket=moto_bucket).get("Contents", []) == []
    assert VolumeRegistry().list() == []  # testing saves nothing


def test_a_wrong_typed_secret_names_a_credentials_error(
    qtbot: QtBot, rclone_s3: S3Server, rclone_bucket: str, memory_keyring: MemoryKeyring
) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="rclone",
        bucket=rclone_bucket,
        endpoint=rclone_s3.endpoint,
        access_key_id=rclone_s3.access_key_id,
        secret="not-the-secret",
    )

    summary = run_test(qtbot, dialog)

    assert summary.startswith("✗ Failed at list: credentials error"), summary
    assert "check the access key ID and the secret" in summary
    assert [(s.name, s.error_kind) for s in dialog.probe_steps] == [("list", "credentials")]
    assert "✗" in dialog.test_steps.text()
    assert memory_keyring.entries == {}  # the typed secret was used, not stored
    assert VolumeRegistry().list() == []


def test_the_right_typed_secret_passes_on_rclone(qtbot: QtBot, rclone_s3: S3Server, rclone_bucket: str) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="rclone",
        bucket=rclone_bucket,
        endpoint=rclone_s3.endpoint,
        access_key_id=rclone_s3.access_key_id,
        secret=rclone_s3.secret_access_key,
    )
    assert run_test(qtbot, dialog).startswith("✓ All steps passed")


def test_a_closed_port_names_a_network_error(qtbot: QtBot, closed_port_endpoint: str) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="nowhere",
        bucket="bucket",
        endpoint=closed_port_endpoint,
        access_key_id="key",
        secret="wrong-secret-xyz",
    )

    summary = run_test(qtbot, dialog)

    assert summary.startswith("✗ Failed at list: network error"), summary
    assert [(s.name, s.error_kind) for s in dialog.probe_steps] == [("list", "network")]


def test_an_unset_environment_variable_is_reported_before_any_request(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="unset",
        bucket="bucket",
        endpoint="http://127.0.0.1:9",
        access_key_id="key",
        secret_env="SDGUI_TEST_NOT_SET",
    )
    assert "is not set here" in dialog.env_status.text()

    summary = run_test(qtbot, dialog)

    assert summary.startswith("✗ Cannot connect: credentials error"), summary
    assert "SDGUI_TEST_NOT_SET is not set" in dialog.test_steps.text()


# -- saving and secrets ----------------------------------------------------------------------------------------


def test_accept_saves_the_volume_and_puts_the_secret_in_the_keyring_only(
    qtbot: QtBot, memory_keyring: MemoryKeyring, moto_s3: S3Server
) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="photos",
        bucket="photos-bucket",
        endpoint=moto_s3.endpoint,
        access_key_id="AKIDEXAMPLE",
        secret="super-secret-value",
    )
    dialog.prefix.setText("/2024/")

    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = VolumeRegistry().get("photos")
    assert saved == VolumeConfig(
        "photos",
        "s3",
        bucket="photos-bucket",
        endpoint=moto_s3.endpoint,
        prefix="2024",
        path_style=True,
        access_key_id="AKIDEXAMPLE",
        allow_http=True,
    )
    assert memory_keyring.entries == {(SERVICE, "photos"): "super-secret-value"}
    text = VolumeRegistry().path.read_text()
    assert "super-secret-value" not in text
    assert "secret" not in text.lower()


def test_without_a_keyring_the_typed_secret_is_still_tried_after_switching_to_a_variable(
    qtbot: QtBot, no_keyring: None, rclone_s3: S3Server, rclone_bucket: str
) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="rclone",
        bucket=rclone_bucket,
        endpoint=rclone_s3.endpoint,
        access_key_id=rclone_s3.access_key_id,
        secret=rclone_s3.secret_access_key,
    )
    dialog.use_env_button.click()
    assert "SDGUI_SECRET_RCLONE is not set here" in dialog.env_status.text()

    assert run_test(qtbot, dialog).startswith("✓ All steps passed")


def test_editing_keeps_the_stored_secret_unless_a_new_one_is_typed(qtbot: QtBot, memory_keyring: MemoryKeyring) -> None:
    config = VolumeConfig("work", "s3", bucket="b", region="eu-west-1", access_key_id="AKID")
    registry = VolumeRegistry()
    registry.add(config)
    registry.save()
    memory_keyring.set_password(SERVICE, "work", "old-secret")

    dialog = open_dialog(qtbot, config)
    assert dialog.provider.currentData() == "aws"
    assert dialog.name.isReadOnly()
    assert dialog.secret.text() == ""  # never pre-filled
    assert dialog.secret.placeholderText() == "leave empty to keep the stored secret"
    assert dialog.problem() is None
    dialog.bucket.setText("b2")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert VolumeRegistry().get("work").bucket == "b2"
    assert memory_keyring.entries == {(SERVICE, "work"): "old-secret"}

    dialog = open_dialog(qtbot, VolumeRegistry().get("work"))
    dialog.secret.setText("new-secret")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert memory_keyring.entries == {(SERVICE, "work"): "new-secret"}


def test_switching_to_an_environment_variable_forgets_the_keyring_entry(
    qtbot: QtBot, memory_keyring: MemoryKeyring
) -> None:
    config = VolumeConfig("work", "s3", bucket="b", access_key_id="AKID")
    registry = VolumeRegistry()
    registry.add(config)
    registry.save()
    memory_keyring.set_password(SERVICE, "work", "old-secret")

    dialog = open_dialog(qtbot, config)
    dialog.use_env.setChecked(True)
    dialog.env_name.setText("WORK_SECRET")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    assert VolumeRegistry().get("work").secret_env == "WORK_SECRET"
    assert memory_keyring.entries == {}


# -- presets and validation ------------------------------------------------------------------------------------


def test_ok_stays_disabled_while_the_values_are_invalid(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    assert dialog.error_label.text() == "Enter a name for the volume."
    dialog.name.setText("bad name!")
    dialog.bucket.setText("bucket")
    assert "invalid volume name" in dialog.error_label.text().lower()
    assert not ok.isEnabled()
    dialog.name.setText("good")
    dialog.access_key_id.setText("AKID")
    assert dialog.error_label.text() == "Enter the secret, or keep it in an environment variable."
    assert not dialog.test_button.isEnabled()
    dialog.secret.setText("s3cr3t")
    assert ok.isEnabled() and dialog.test_button.isEnabled()
    assert dialog.error_label.text() == ""
    dialog.bucket.setText("a/b")
    assert "bare name" in dialog.error_label.text()
    assert not ok.isEnabled()


def test_http_endpoints_need_the_allow_http_box(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(dialog, name="m", bucket="b", endpoint="http://10.0.0.5:9000", access_key_id="k", secret="s")
    dialog.allow_http.setChecked(False)
    assert "plain http" in dialog.error_label.text()
    dialog.allow_http.setChecked(True)
    assert dialog.problem() is None
    assert dialog.config().path_style is True


def test_a_taken_name_blocks_saving_but_not_testing(qtbot: QtBot) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("taken", "s3", bucket="b"))
    registry.save()
    dialog = open_dialog(qtbot)
    dialog.name.setText("taken")
    dialog.bucket.setText("b")
    assert dialog.error_label.text() == "A volume named taken already exists."
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert dialog.test_button.isEnabled()


def test_r2_defaults_to_region_auto_and_needs_its_endpoint(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    choose(dialog, "r2")
    assert dialog.region.text() == "auto"
    assert dialog.endpoint.placeholderText() == "https://<account-id>.r2.cloudflarestorage.com"
    dialog.name.setText("r2")
    dialog.bucket.setText("b")
    assert "R2 endpoint" in dialog.error_label.text()
    dialog.endpoint.setText("https://abc.r2.cloudflarestorage.com")
    config = dialog.config()
    assert (config.kind, config.region, config.endpoint) == ("r2", "auto", "https://abc.r2.cloudflarestorage.com")
    choose(dialog, "aws")
    assert dialog.region.text() == ""
    assert not dialog.endpoint.isVisible()


def test_b2_derives_its_endpoint_from_the_region(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    choose(dialog, "b2")
    dialog.region.setText("us-west-004")
    assert dialog.endpoint.placeholderText() == "https://s3.us-west-004.backblazeb2.com"
    config = dialog.config()
    assert (config.kind, config.endpoint) == ("s3", "https://s3.us-west-004.backblazeb2.com")
    assert label_of(dialog, dialog.access_key_id) == "Application key ID:"


def test_azure_asks_for_account_and_container(qtbot: QtBot) -> None:
    dialog = open_dialog(qtbot)
    choose(dialog, "azure")
    assert label_of(dialog, dialog.bucket) == "Container:"
    assert label_of(dialog, dialog.access_key_id) == "Storage account name:"
    assert not dialog.region.isVisible()
    dialog.name.setText("az")
    dialog.bucket.setText("container")
    assert dialog.error_label.text() == "Enter the storage account name."
    dialog.access_key_id.setText("account")
    dialog.secret.setText("key==")
    config = dialog.config()
    assert (config.kind, config.bucket, config.access_key_id) == ("azure", "container", "account")
    assert dialog.problem() is None
    assert dialog.sas.isVisible() and config.sas is None
    dialog.sas.setChecked(True)
    assert dialog.config().sas is True and dialog.problem() is None
    choose(dialog, "aws")
    assert not dialog.sas.isVisible() and dialog.config().sas is None


def test_gcs_takes_a_service_account_key_from_a_file(qtbot: QtBot, tmp_path: Path) -> None:
    key = {"type": "service_account", "client_email": "a@b.iam", "private_key": "-----BEGIN…\n"}
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key, indent=2))
    dialog = open_dialog(qtbot)
    choose(dialog, "gcs")
    assert dialog.load_secret_button.isVisible()
    assert not dialog.access_key_id.isVisible()
    dialog.name.setText("gcs")
    dialog.bucket.setText("bucket")
    dialog.secret.setText("not json")
    assert "JSON" in dialog.error_label.text()
    dialog.load_secret_file(str(key_file))
    assert dialog.problem() is None
    assert json.loads(dialog.typed_secret() or "") == key
    assert dialog.secret.echoMode() == dialog.secret.EchoMode.Password
    assert dialog.config().kind == "gcs"


# -- the list of volumes ---------------------------------------------------------------------------------------


def test_volumes_dialog_lists_and_removes_after_confirmation(
    qtbot: QtBot, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("alpha", "s3", bucket="a", access_key_id="AKID"))
    registry.add(VolumeConfig("beta", "r2", bucket="b", endpoint="https://x.r2.cloudflarestorage.com", secret_env="B"))
    registry.add(VolumeConfig("disk", "local", root="/tmp"))
    registry.save()
    memory_keyring.set_password(SERVICE, "alpha", "alpha-secret")
    dialog = VolumesDialog()
    qtbot.addWidget(dialog)
    rows = [[item(dialog.tree, i).text(c) for c in range(5)] for i in range(dialog.tree.topLevelItemCount())]
    assert rows == [
        ["alpha", "Amazon S3", "a", "", "OS keyring"],
        ["beta", "Cloudflare R2", "b", "https://x.r2.cloudflarestorage.com", "$B"],
        ["disk", "Local folder", "", "/tmp", "none"],
    ]
    dialog.tree.setCurrentItem(item(dialog.tree, 2))
    assert not dialog.edit_button.isEnabled()  # local volumes are not edited here
    dialog.tree.setCurrentItem(item(dialog.tree, 0))
    assert dialog.edit_button.isEnabled()

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    dialog.remove_selected()
    assert [c.name for c in VolumeRegistry().list()] == ["alpha", "beta", "disk"]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.volumes_changed, timeout=1000):
        dialog.remove_selected()
    assert [c.name for c in VolumeRegistry().list()] == ["beta", "disk"]
    assert memory_keyring.entries == {}
    assert dialog.tree.topLevelItemCount() == 2


def test_removing_without_a_keyring_still_removes_the_volume(
    qtbot: QtBot, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("alpha", "s3", bucket="a"))
    registry.save()
    dialog = VolumesDialog()
    qtbot.addWidget(dialog)
    dialog.tree.setCurrentItem(item(dialog.tree, 0))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(dialog.volumes_changed, timeout=1000):
        dialog.remove_selected()
    assert VolumeRegistry().list() == []
    assert dialog.error_label.text() == ""


def test_closing_during_a_test_drops_its_late_report(qtbot: QtBot, closed_port_endpoint: str) -> None:
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="nowhere",
        bucket="bucket",
        endpoint=closed_port_endpoint,
        access_key_id="key",
        secret="wrong-secret-xyz",
    )
    dialog.test_button.click()
    assert dialog.test_summary.text().startswith("Testing…")
    assert not dialog.test_button.isEnabled()
    dialog.reject()
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)
    QApplication.processEvents()  # deliver queued reports, had any stayed connected
    assert dialog.test_summary.text().startswith("Testing…")
    assert dialog.probe_steps == []


def test_a_read_only_volume_is_only_listed(
    qtbot: QtBot, moto_s3: S3Server, moto_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDGUI_TEST_MOTO_SECRET", moto_s3.secret_access_key)
    dialog = open_dialog(qtbot)
    fill_other_s3(
        dialog,
        name="moto",
        bucket=moto_bucket,
        endpoint=moto_s3.endpoint,
        access_key_id=moto_s3.access_key_id,
        secret_env="SDGUI_TEST_MOTO_SECRET",
    )
    dialog.read_only.setChecked(True)
    assert run_test(qtbot, dialog).startswith("✓ The volume can be listed (read-only")
    assert [s.name for s in dialog.probe_steps] == ["list"]
