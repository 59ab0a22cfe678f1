"""New folder (F7) in a bucket of every S3 server of the matrix: what it makes lists as a folder afterwards, or the
window says plainly that the volume keeps no empty folders (``rclone serve s3`` stores a marker as a file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from tests.copying import add_volume, read_object
from tests.gui.test_main_window import (
    OpenWindow,
    focus,
    local_path,
    object_keys,
    press,
    select,
    wait_ended,
    wait_listed,
    wait_names,
)
from tests.gui.test_main_window import folder_name as folder_name
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the window said in message boxes: (kind, text)."""
    said: list[tuple[str, str]] = []
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *_, k=kind: said.append((k, text)))
    return said


def test_f7_makes_something_that_lists_as_a_folder_or_says_why_not(
    qtbot: QtBot,
    open_window: OpenWindow,
    s3_server: S3Server,
    bucket: str,
    local_dir: Path,
    folder_name: list[str],
    told: list[tuple[str, str]],
) -> None:
    add_volume(s3_server, bucket, "cloud")
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    focus(qtbot, window, window.right)

    QTest.keyClick(window.right.view, Qt.Key.Key_F7)
    if s3_server.name.startswith("rclone"):
        # rclone keeps the marker as a 0-byte file "fresh": the window removed it and said so.
        qtbot.waitUntil(lambda: bool(told), timeout=30_000)
        [(kind, text)] = told
        assert kind == "information" and "cannot keep empty folders" in text and "cloud:fresh/" in text
        assert object_keys(s3_server, bucket) == []  # no stray file "fresh"
        wait_listed(qtbot, window.right, SdPath.parse("cloud:fresh/"))  # the pane waits in the folder-to-be
        # What is copied there makes the folder, and it lists as one.
        focus(qtbot, window, window.left)
        select(window.left, "a.txt")
        assert wait_ended(qtbot, window, press(window, Qt.Key.Key_F5)).state == "finished"
        assert read_object(s3_server, bucket, "fresh/a.txt") == (local_dir / "a.txt").read_bytes()
        window.right.go_up()
    else:
        qtbot.waitUntil(lambda: window.right.model.names() == {"fresh"} and not window.right.model.is_loading)
        assert told == []
        assert object_keys(s3_server, bucket) == ["fresh/"]
    wait_names(qtbot, window.right, {"fresh"})
    first = window.right.model.row_entries()[0]
    assert first.name == "fresh" and first.is_dir
    assert window.right.selected_paths() == [SdPath("cloud", "fresh", True)]


def test_f7_refuses_a_name_a_file_already_has(
    qtbot: QtBot,
    open_window: OpenWindow,
    moto_s3: S3Server,
    cloud: str,
    local_dir: Path,
    folder_name: list[str],
    told: list[tuple[str, str]],
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="fresh", Body=b"a file")
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    focus(qtbot, window, window.right)
    QTest.keyClick(window.right.view, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: bool(told), timeout=30_000)
    [(kind, text)] = told
    assert kind == "warning" and "a file of this name is already here" in text
    assert object_keys(moto_s3, cloud) == ["fresh"]
