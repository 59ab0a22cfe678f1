"""Incomplete multipart uploads: `sdgui volume cleanup` and the Volumes dialog's button, against moto and rclone.

Server quirks: moto reports every upload as started on 2010-11-10 (so every one is "old"); rclone serve s3 reports
the real start time and answers a listing with nothing open with 404 NoSuchUpload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.cli import main
from sdgui.core.backends.base import OpenUpload
from sdgui.core.backends.s3 import S3Config
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.cleanup import abort_uploads, find_stale_uploads, parse_age
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.dialogs.volumes_dialog import VolumesDialog
from tests.copying import add_volume
from tests.servers import S3Server

KEYS = ("photos/a.iso", "photos/b.iso", "c.bin")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def open_uploads(server: S3Server, bucket: str, keys: tuple[str, ...] = KEYS) -> dict[str, str]:
    """Start one multipart upload per key, with a part each; upload id → key."""
    s3 = server.client()
    made: dict[str, str] = {}
    for key in keys:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part")
        made[upload_id] = key
    return made


# -- the command ---------------------------------------------------------------------------------------------


def test_dry_run_lists_and_leaves_them(capsys: pytest.CaptureFixture[str], s3_server: S3Server, bucket: str) -> None:
    made = open_uploads(s3_server, bucket)
    add_volume(s3_server, bucket)
    code, out, err = run(capsys, "volume", "cleanup", "cloud", "--older-than", "0s", "--dry-run")
    assert code == 0, err
    for upload_id, key in made.items():
        assert any(key in line and upload_id in line and "would abort" in line for line in out.splitlines())
    assert "would abort 3 incomplete upload(s)" in out
    assert len(s3_server.open_multipart_uploads(bucket)) == 3


def test_cleanup_aborts_them(capsys: pytest.CaptureFixture[str], s3_server: S3Server, bucket: str) -> None:
    made = open_uploads(s3_server, bucket)
    add_volume(s3_server, bucket)
    code, out, err = run(capsys, "volume", "cleanup", "cloud", "--older-than", "0s", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    uploads = [row for row in rows if row["type"] == "upload"]
    assert {(row["key"], row["upload_id"]) for row in uploads} == {(k, u) for u, k in made.items()}
    assert all(row["action"] == "aborted" and row["age_s"] >= 0 for row in uploads)
    assert rows[-1] == {
        "type": "summary",
        "volume": "cloud",
        "dry_run": False,
        "older_than_s": 0.0,
        "aborted": 3,
        "failed": 0,
        "kept": 0,
    }
    assert s3_server.open_multipart_uploads(bucket) == []
    # Nothing open any more (rclone: 404 NoSuchUpload) is still a clean run.
    code, out, _ = run(capsys, "volume", "cleanup", "cloud", "--older-than", "0s")
    assert code == 0 and "aborted 0 incomplete upload(s)" in out


def test_young_uploads_are_left_alone(capsys: pytest.CaptureFixture[str], rclone_s3: S3Server) -> None:
    """rclone reports real start times; moto's fixed 2010 date makes every upload old, so it cannot show this."""
    bucket = rclone_s3.new_bucket()
    try:
        open_uploads(rclone_s3, bucket)
        add_volume(rclone_s3, bucket)
        code, out, err = run(capsys, "volume", "cleanup", "cloud")  # default: older than 24 h
        assert code == 0, err
        assert "aborted 0 incomplete upload(s) older than" in out and "3 younger than" in out
        code, out, _ = run(capsys, "volume", "cleanup", "cloud", "--older-than", "1h")
        assert code == 0 and len(rclone_s3.open_multipart_uploads(bucket)) == 3
        code, out, _ = run(capsys, "volume", "cleanup", "cloud", "--older-than", "0s")
        assert code == 0 and rclone_s3.open_multipart_uploads(bucket) == []
    finally:
        rclone_s3.delete_bucket(bucket)


def test_moto_dates_every_upload_in_2010(capsys: pytest.CaptureFixture[str], moto_s3: S3Server) -> None:
    bucket = moto_s3.new_bucket()
    try:
        open_uploads(moto_s3, bucket)
        add_volume(moto_s3, bucket)
        code, out, err = run(capsys, "volume", "cleanup", "cloud")  # the default 24 h catches them all
        assert code == 0, err
        assert "aborted 3 incomplete upload(s)" in out
        assert moto_s3.open_multipart_uploads(bucket) == []
    finally:
        moto_s3.delete_bucket(bucket)


def test_a_volume_prefix_limits_the_cleanup(
    capsys: pytest.CaptureFixture[str], s3_server: S3Server, bucket: str
) -> None:
    open_uploads(s3_server, bucket)
    add_volume(s3_server, bucket)
    registry = VolumeRegistry()
    config = registry.get("cloud")
    config.prefix = "photos"
    registry.add(config, replace=True)
    registry.save()
    code, out, err = run(capsys, "volume", "cleanup", "cloud", "--older-than", "0s")
    assert code == 0, err
    assert "a.iso" in out and "c.bin" not in out
    assert [key for key, _ in s3_server.open_multipart_uploads(bucket)] == ["c.bin"]


def test_refusals(capsys: pytest.CaptureFixture[str], moto_s3: S3Server, tmp_path: Any) -> None:
    registry = VolumeRegistry()
    registry.add(VolumeConfig("disk", "local", root=str(tmp_path)))
    registry.save()
    code, _, err = run(capsys, "volume", "cleanup", "disk")
    assert code == 1 and "only on s3 and r2 volumes" in err
    code, _, err = run(capsys, "volume", "cleanup", "disk", "--older-than", "soon")
    assert code == 2 and "invalid age" in err

    bucket = moto_s3.new_bucket()
    try:
        open_uploads(moto_s3, bucket, ("k",))
        config = add_volume(moto_s3, bucket, "ro")
        config.read_only = True
        registry = VolumeRegistry()
        registry.add(config, replace=True)
        registry.save()
        code, _, err = run(capsys, "volume", "cleanup", "ro")
        assert code == 1 and "read-only" in err
        code, out, _ = run(capsys, "volume", "cleanup", "ro", "--dry-run")
        assert code == 0 and "would abort 1" in out
        assert len(moto_s3.open_multipart_uploads(bucket)) == 1
    finally:
        moto_s3.delete_bucket(bucket)


def test_a_wrong_secret_fails_with_a_credentials_error(capsys: pytest.CaptureFixture[str], rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    try:
        add_volume(rclone_s3, bucket, secret="wrong-secret-value")
        code, _, err = run(capsys, "volume", "cleanup", "cloud")
        assert code == 1 and "credentials error" in err and "wrong-secret-value" not in err
    finally:
        rclone_s3.delete_bucket(bucket)


# -- the core, without a server ------------------------------------------------------------------------------


def test_ages_parse_with_units() -> None:
    assert parse_age("24h") == timedelta(hours=24)
    assert parse_age("90s") == parse_age("90") == timedelta(seconds=90)
    assert parse_age("30m") == timedelta(minutes=30)
    assert parse_age("7d") == timedelta(days=7)
    assert parse_age("0.5h") == timedelta(minutes=30)
    for bad in ("", "h", "-1h", "3w", "1h30m"):
        with pytest.raises(ValueError):
            parse_age(bad)


class ListedUploads:
    """Stands in for S3MultipartClient where only the listing and aborts matter."""

    def __init__(self, uploads: list[OpenUpload]) -> None:
        self.uploads = uploads
        self.aborted: list[str] = []

    def list_uploads(self, prefix: str = "") -> list[OpenUpload]:
        return list(self.uploads)

    def abort(self, key: str, upload_id: str) -> None:
        self.aborted.append(upload_id)


def test_the_age_filter() -> None:
    now = datetime(2030, 1, 2, tzinfo=UTC)
    fake = ListedUploads(
        [
            OpenUpload("old", "1", now - timedelta(days=3)),
            OpenUpload("edge", "2", now - timedelta(hours=24)),
            OpenUpload("young", "3", now - timedelta(minutes=5)),
            OpenUpload("undated", "4", None),
        ]
    )
    client: Any = fake
    report = find_stale_uploads(client, timedelta(hours=24), now=now)
    assert [s.key for s in report.stale] == ["edge", "old"] and report.kept == 2
    assert len(find_stale_uploads(client, timedelta(0), now=now).stale) == 4
    abort_uploads(client, report.stale, report)
    assert sorted(fake.aborted) == ["1", "2"] and len(report.aborted) == 2


# -- the window ----------------------------------------------------------------------------------------------


def test_the_volumes_dialog_cleans_up_after_confirmation(
    qtbot: QtBot, moto_s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = moto_s3.new_bucket()
    try:
        open_uploads(moto_s3, bucket)  # moto dates them 2010: older than 24 h
        add_volume(moto_s3, bucket)
        registry = VolumeRegistry()
        registry.add(VolumeConfig("disk", "local", root="/tmp"))
        registry.save()
        dialog = VolumesDialog()
        qtbot.addWidget(dialog)
        rows = {dialog.tree.topLevelItem(i).text(0): dialog.tree.topLevelItem(i) for i in range(2)}
        dialog.tree.setCurrentItem(rows["disk"])
        assert not dialog.cleanup_button.isEnabled()
        dialog.tree.setCurrentItem(rows["cloud"])
        assert dialog.cleanup_button.isEnabled()

        asked: list[str] = []

        def answer(button: QMessageBox.StandardButton) -> Any:
            def ask(parent: Any, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
                asked.append(text)
                return button

            return ask

        monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
        dialog.cleanup_button.click()
        qtbot.waitUntil(lambda: dialog.status_label.text() == "Nothing was aborted.", timeout=20_000)
        assert "Abort 3 incomplete uploads" in asked[0]
        assert len(moto_s3.open_multipart_uploads(bucket)) == 3

        monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
        dialog.cleanup_button.click()
        assert not dialog.cleanup_button.isEnabled()  # one cleanup at a time
        qtbot.waitUntil(lambda: dialog.status_label.text() == "Aborted 3 incomplete uploads.", timeout=20_000)
        assert moto_s3.open_multipart_uploads(bucket) == []
        assert dialog.cleanup_button.isEnabled()

        dialog.cleanup_button.click()
        qtbot.waitUntil(lambda: "No incomplete uploads" in dialog.status_label.text(), timeout=20_000)
        assert len(asked) == 2
    finally:
        moto_s3.delete_bucket(bucket)


def test_the_dialog_explains_a_failure(qtbot: QtBot, rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    try:
        add_volume(rclone_s3, bucket, secret="wrong-secret-value")
        dialog = VolumesDialog()
        qtbot.addWidget(dialog)
        dialog.tree.setCurrentItem(dialog.tree.topLevelItem(0))
        dialog.clean_up_selected()
        qtbot.waitUntil(lambda: dialog.error_label.text().startswith("Cannot clean up"), timeout=20_000)
        assert "credentials" in dialog.error_label.text()
        assert dialog.cleanup_button.isEnabled()
    finally:
        rclone_s3.delete_bucket(bucket)


def test_a_multipart_client_is_built_only_when_used(moto_s3: S3Server) -> None:
    config = VolumeConfig("v", "s3", bucket="b", endpoint=moto_s3.endpoint, allow_http=True)
    client = S3MultipartClient(S3Config.from_volume(config, None))
    assert client._client is None  # building botocore's client costs a few hundred ms: not at volume open
    client.close()
