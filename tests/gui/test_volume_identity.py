"""The volume dialogs and credentials: AWS profiles in the volume dialog, the identity shown, rclone import."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.dialogs.volumes_dialog import VolumesDialog
from tests.aws_profiles import AwsFiles, aws_files
from tests.gui._volume_dialog import PROBE_TIMEOUT_MS, choose, open_dialog, run_test
from tests.gui.test_volume_dialog import item
from tests.keyrings import MemoryKeyring
from tests.servers import S3Server

SHOTS = os.environ.get("SDGUI_SCREENSHOTS")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    assert QThreadPool.globalInstance().waitForDone(PROBE_TIMEOUT_MS)
    keyring.set_keyring(previous)


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server) -> AwsFiles:
    files = aws_files(tmp_path, monkeypatch)
    files.write(
        config=f"[profile team]\nregion = eu-west-1\nendpoint_url = {rclone_s3.endpoint}\n[profile other]\n",
        credentials=f"[team]\naws_access_key_id = {rclone_s3.access_key_id}\n"
        f"aws_secret_access_key = {rclone_s3.secret_access_key}\n",
    )
    return files


def test_the_dialog_lists_profiles_and_saves_only_the_name(
    qtbot: QtBot, aws: AwsFiles, rclone_s3: S3Server, memory_keyring: MemoryKeyring
) -> None:
    bucket = rclone_s3.new_bucket()
    dialog = open_dialog(qtbot)
    choose(dialog, "minio")
    profiles = [dialog.credentials.itemData(i) for i in range(dialog.credentials.count())]
    assert profiles == [None, "other", "team"]
    dialog.name.setText("work")
    dialog.bucket.setText(bucket)
    dialog.endpoint.setText(rclone_s3.endpoint)
    dialog.allow_http.setChecked(True)
    dialog.credentials.setCurrentIndex(dialog.credentials.findData("team"))
    assert dialog.form.isRowVisible(dialog.credentials)
    assert not dialog.form.isRowVisible(dialog.access_key_id)
    assert not dialog.form.isRowVisible(dialog.secret_stack)
    assert dialog.identity.text().startswith("profile team")
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "volume-dialog-profile.png"))
    assert run_test(qtbot, dialog).startswith("✓ All steps passed"), dialog.test_steps.text()
    dialog.accept()
    saved = VolumeRegistry().get("work")
    assert (saved.profile, saved.access_key_id, saved.secret_env) == ("team", None, None)
    assert memory_keyring.entries == {}

    edit = open_dialog(qtbot, saved)
    assert edit.credentials.currentData() == "team" and edit.config() == saved
    rclone_s3.delete_bucket(bucket)


def test_the_volumes_list_shows_each_identity(qtbot: QtBot) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("keys", "s3", bucket="a", access_key_id="AKID"))
    registry.add(VolumeConfig("prof", "s3", bucket="b", profile="prod"))
    registry.add(VolumeConfig("public", "s3", bucket="c"))
    registry.save()
    dialog = VolumesDialog()
    qtbot.addWidget(dialog)
    identities = [item(dialog.tree, i).text(5) for i in range(dialog.tree.topLevelItemCount())]
    assert identities == ["access key AKID (keyring)", "profile prod", "anonymous"]


def test_import_from_rclone_asks_the_bucket_and_adds_the_volume(
    qtbot: QtBot, rclone_s3: S3Server, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "rclone.conf"
    path.write_text(
        f"[lab]\ntype = s3\nprovider = Minio\nendpoint = {rclone_s3.endpoint}\n"
        f"access_key_id = {rclone_s3.access_key_id}\nsecret_access_key = {rclone_s3.secret_access_key}\n\n"
        "[photos]\ntype = alias\nremote = lab:pics/2024\n\n[nas]\ntype = sftp\nhost = nas.local\n"
    )
    volumes = VolumesDialog()
    qtbot.addWidget(volumes)
    dialog = volumes.rclone_import_dialog(path)
    qtbot.addWidget(dialog)
    dialog.show()
    result = [dialog.table.item(row, 3).text() for row in range(dialog.table.rowCount())]  # type: ignore[union-attr]
    assert result[0] == "skipped: an rclone remote names no bucket; pass --bucket lab=BUCKET"
    assert result[1].startswith("volume photos (s3 pics/2024, access key")
    assert result[2] == "skipped: rclone type 'sftp' is not supported"
    dialog.set_bucket("lab", "labdata")
    assert dialog.table.item(0, 3).text().startswith("volume lab (s3")  # type: ignore[union-attr]
    if SHOTS:
        dialog.grab().save(str(Path(SHOTS) / "rclone-import.png"))
    with qtbot.waitSignal(volumes.volumes_changed, timeout=PROBE_TIMEOUT_MS):
        dialog.import_button.click()
    assert {v.name: (v.bucket, v.prefix) for v in VolumeRegistry().list()} == {
        "lab": ("labdata", ""),
        "photos": ("pics", "2024"),
    }
    assert memory_keyring.entries[("sdgui", "lab")] == rclone_s3.secret_access_key
    assert [item(volumes.tree, i).text(0) for i in range(volumes.tree.topLevelItemCount())] == ["lab", "photos"]
    assert dialog.intro.text().startswith("Added 2 volumes")
