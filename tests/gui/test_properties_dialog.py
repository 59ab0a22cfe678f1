"""The Properties dialog (F3) on a real window: a cloud object's headers, storage class and checksums as the service
holds them; Content-Type and Cache-Control typed into the dialog and saved, then checked with the service's own client
(new headers, the same bytes and user metadata) on S3, Azure and GCS; a local file's mode bits; read-only GCS
without a key; a missing object."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import pytest
from azure.storage.blob import ContentSettings
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui.dialogs.properties_dialog import PropertiesDialog
from sdgui.gui.main_window import MainWindow
from tests.cloud_servers import Azurite, FakeGcs, GcsXml
from tests.copying import add_azure_volume, add_gcs_volume
from tests.core.backends.test_gcs_headers import json_get, json_patch, media
from tests.core.backends.test_object_properties import adc_backend
from tests.core.copy.test_multipart_etags import put_in_parts
from tests.gui.test_main_window import OpenWindow, focus, local_path, select, wait_listed, wait_names
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.providers.common import open_backend
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def open_properties(qtbot: QtBot, window: MainWindow, pane_side: str, name: str) -> PropertiesDialog:
    """F3 on ``name`` in the left or right pane; the dialog once it has read the item."""
    pane = window.left if pane_side == "left" else window.right
    focus(qtbot, window, pane)
    wait_names(qtbot, pane, {name})
    select(pane, name)
    QTest.keyClick(pane.view, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: window.properties_dialog is not None, timeout=5_000)
    dialog = window.properties_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.properties is not None, timeout=10_000)
    return dialog


def type_headers(
    qtbot: QtBot, dialog: PropertiesDialog, content_type: str, cache_control: str, *, enter: bool = False
) -> None:
    """Type both headers as a person does (select all, type over), then press Save (or Enter in the last field)."""
    for edit, text in ((dialog.content_type, content_type), (dialog.cache_control, cache_control)):
        edit.setFocus()
        QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(edit, text)
    assert dialog.save_button.isVisible() and dialog.save_button.isEnabled()
    with qtbot.waitSignal(dialog.loaded, timeout=20_000):
        if enter:
            QTest.keyClick(dialog.cache_control, Qt.Key.Key_Return)
        else:
            QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.status.text().startswith("Saved"), dialog.status.text()


def test_an_s3_objects_headers_are_edited_through_the_dialog(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    body = os.urandom(25_000)
    client = moto_s3.client()
    client.put_object(
        Bucket=cloud, Key="page.html", Body=body, ContentType="text/plain", Metadata={"owner": "web-team"},
        ChecksumAlgorithm="SHA256",
    )  # fmt: skip
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    dialog = open_properties(qtbot, window, "right", "page.html")
    text = dialog.text()
    assert f"Size: {len(body):,} bytes" in text
    assert f"SHA-256: {hashlib.sha256(body).hexdigest()}" in text  # what was uploaded
    assert f"MD5: {hashlib.md5(body).hexdigest()}" in text
    assert "Storage class: STANDARD" in text and "User metadata: owner: web-team" in text
    assert (dialog.content_type.text(), dialog.cache_control.text()) == ("text/plain", "")
    assert not dialog.save_button.isEnabled()  # nothing changed yet

    type_headers(qtbot, dialog, "text/html; charset=utf-8", "public, max-age=86400")

    head = client.head_object(Bucket=cloud, Key="page.html", ChecksumMode="ENABLED")
    assert head["ContentType"] == "text/html; charset=utf-8" and head["CacheControl"] == "public, max-age=86400"
    assert head["Metadata"] == {"owner": "web-team"}
    assert client.get_object(Bucket=cloud, Key="page.html")["Body"].read() == body
    assert dialog.content_type.text() == "text/html; charset=utf-8"  # re-read from the service
    assert f"SHA-256: {hashlib.sha256(body).hexdigest()}" in dialog.text()
    dialog.close()


def test_a_multipart_object_without_checksums_shows_its_etag_as_the_check(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    """What s5cmd and older tools write: no checksum, a multipart ETag, which downloads are checked against."""
    data = os.urandom(11 * 1024 * 1024)
    put_in_parts(moto_s3, cloud, "video.mp4", data)
    etag = moto_s3.client().head_object(Bucket=cloud, Key="video.mp4")["ETag"].strip('"')
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    dialog = open_properties(qtbot, window, "right", "video.mp4")
    text = dialog.text()
    assert f"MD5-composite: {etag.split('-')[0]} (the ETag, over 3 parts)" in text
    assert "Verification: every download is checked against its md5-composite" in text
    dialog.close()


def test_an_azure_blobs_headers_are_edited_through_the_dialog(
    qtbot: QtBot, open_window: OpenWindow, azurite: Azurite, azure_container: str, local_dir: Path
) -> None:
    body = os.urandom(20_000)
    blob = azurite.blob(azure_container, "clip.mp4")
    blob.upload_blob(
        body,
        metadata={"owner": "media"},
        content_settings=ContentSettings(content_type="video/mp4", content_language="en"),
    )
    add_azure_volume(azurite, azure_container)
    window = open_window(left=local_path(local_dir), right=SdPath.parse("azure:"))
    wait_listed(qtbot, window.right, SdPath.parse("azure:"))
    dialog = open_properties(qtbot, window, "right", "clip.mp4")
    text = dialog.text()
    assert f"MD5: {hashlib.md5(body).hexdigest()}" in text and "Storage class: Hot" in text
    assert "Content-Language: en" in text

    type_headers(qtbot, dialog, "video/webm", "no-cache", enter=True)

    after = blob.get_blob_properties()
    assert (after.content_settings.content_type, after.content_settings.cache_control) == ("video/webm", "no-cache")
    assert after.content_settings.content_language == "en" and after.metadata == {"owner": "media"}
    assert blob.download_blob().readall() == body
    dialog.close()


def test_a_local_file_shows_what_the_os_tells_and_nothing_to_edit(
    qtbot: QtBot, open_window: OpenWindow, local_dir: Path
) -> None:
    os.chmod(local_dir / "a.txt", 0o640)
    window = open_window(left=local_path(local_dir))
    wait_listed(qtbot, window.left, local_path(local_dir))
    dialog = open_properties(qtbot, window, "left", "a.txt")
    text = dialog.text()
    assert "Permissions: -rw-r-----" in text and "Size: 6 bytes" in text and "Modified: " in text
    assert "Content-Type" not in text and not dialog.save_button.isVisible()
    dialog.close()


def test_a_gcs_objects_headers_are_edited_through_the_dialog(
    qtbot: QtBot, open_window: OpenWindow, fake_gcs: FakeGcs, local_dir: Path
) -> None:
    bucket = fake_gcs.new_bucket()
    body = os.urandom(15_000)
    fake_gcs.upload(bucket, "page.html", body)
    json_patch(fake_gcs.endpoint, bucket, "page.html", {"contentType": "text/plain", "metadata": {"owner": "web"}})
    before = json_get(fake_gcs.endpoint, bucket, "page.html")
    add_gcs_volume(fake_gcs.endpoint, bucket, "fakegcs")
    window = open_window(left=local_path(local_dir), right=SdPath.parse("fakegcs:"))
    wait_listed(qtbot, window.right, SdPath.parse("fakegcs:"))
    dialog = open_properties(qtbot, window, "right", "page.html")
    assert f"Size: {len(body):,} bytes" in dialog.text()
    assert dialog.content_type.text() == "text/plain" and not dialog.content_type.isReadOnly()
    assert dialog.save_button.isVisible() and "cannot be changed" not in dialog.status.text()

    type_headers(qtbot, dialog, "text/html; charset=utf-8", "public, max-age=300")

    after = json_get(fake_gcs.endpoint, bucket, "page.html")
    assert (after["contentType"], after["cacheControl"]) == ("text/html; charset=utf-8", "public, max-age=300")
    assert after["metadata"] == {"owner": "web"} and after["md5Hash"] == before["md5Hash"]
    assert media(fake_gcs.endpoint, bucket, "page.html") == body
    assert dialog.cache_control.text() == "public, max-age=300"  # re-read from the service
    dialog.close()


def test_a_gcs_volume_without_a_key_is_read_only_and_the_dialog_says_why(
    qtbot: QtBot, gcs_xml: GcsXml, gcs_bucket: str
) -> None:
    data = b"gcs\n" * 50
    put = urllib.request.Request(
        f"{gcs_xml.endpoint}/{gcs_bucket}/n.txt", data=data, method="PUT", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(put, timeout=10).close()
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    backend = adc_backend(open_backend("gcs"))  # application default credentials: no token of sdgui's own
    dialog = PropertiesDialog(SdPath.parse("gcs:n.txt"), lambda: backend)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.properties is not None, timeout=10_000)
    assert f"MD5: {hashlib.md5(data).hexdigest()}" in dialog.text()
    assert dialog.content_type.text() == "text/plain" and dialog.content_type.isReadOnly()
    assert not dialog.save_button.isVisible()
    assert "cannot be changed on GCS volumes without a service account key" in dialog.status.text()
    dialog.close()


def test_an_object_gone_since_the_listing_is_named_in_the_dialog(
    qtbot: QtBot, open_window: OpenWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="brief.txt", Body=b"x")
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    wait_names(qtbot, window.right, {"brief.txt"})
    moto_s3.client().delete_object(Bucket=cloud, Key="brief.txt")
    focus(qtbot, window, window.right)
    select(window.right, "brief.txt")
    dialog = window.show_properties()
    assert dialog is not None
    with qtbot.waitSignal(dialog.failed, timeout=10_000):
        pass
    assert "cloud:brief.txt" in dialog.status.text() and dialog.properties is None
    dialog.close()
