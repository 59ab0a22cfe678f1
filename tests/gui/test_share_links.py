"""Copy share link on a real window: the context menu, the Edit menu and Ctrl+Shift+C offer 1 hour / 1 day / 7 days for
one object on a cloud volume; the link on the clipboard downloads the object with a plain GET; local files and
volumes that cannot sign get no link and a clear word why."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.help_menu import shortcut_rows
from sdgui.gui.main_window import MainWindow
from tests.gui.test_main_window import OpenWindow, focus, local_path, select, wait_listed, wait_names
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def share_menu(menu: QMenu) -> QMenu:
    [found] = [a.menu() for a in menu.actions() if a.menu() is not None and a.text() == "Copy share link"]
    assert isinstance(found, QMenu)
    return found


def entries(menu: QMenu) -> dict[str, bool]:
    return {action.text(): action.isEnabled() for action in menu.actions()}


def context_menu_on(qtbot: QtBot, window: MainWindow, side: str, name: str) -> QMenu:
    pane = window.left if side == "left" else window.right
    focus(qtbot, window, pane)
    wait_names(qtbot, pane, {name})
    select(pane, name)
    pane.view.customContextMenuRequested.emit(QPoint(10, 10))
    menu = window.context_menu
    qtbot.waitUntil(menu.isVisible)
    return menu


@pytest.fixture
def shared_window(open_window: OpenWindow, qtbot: QtBot, moto_s3: S3Server, cloud: str, local_dir: Path) -> MainWindow:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.left, local_path(local_dir))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    return window


def test_the_context_menu_copies_a_link_that_downloads_the_object(
    qtbot: QtBot, shared_window: MainWindow, moto_s3: S3Server, cloud: str
) -> None:
    body = os.urandom(33_000)
    moto_s3.client().put_object(Bucket=cloud, Key="report.pdf", Body=body)
    shared_window.right.refresh()
    menu = context_menu_on(qtbot, shared_window, "right", "report.pdf")
    links = share_menu(menu)
    assert entries(links) == {"Valid for 1 hour": True, "Valid for 1 day": True, "Valid for 7 days": True}
    [action] = [a for a in links.actions() if a.text() == "Valid for 1 day"]
    action.trigger()
    qtbot.waitUntil(lambda: bool(shared_window.share_links.copied), timeout=10_000)
    url = QApplication.clipboard().text()
    assert url == shared_window.share_links.copied[-1]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["86400"]
    assert _get(url) == body
    assert "Share link to cloud:report.pdf copied: it works for 1 day" in shared_window.statusBar().currentMessage()
    menu.close()


def test_ctrl_shift_c_offers_the_lifetimes_at_the_selected_row(
    qtbot: QtBot, shared_window: MainWindow, moto_s3: S3Server, cloud: str
) -> None:
    body = b"seven days\n"
    moto_s3.client().put_object(Bucket=cloud, Key="week.txt", Body=body)
    shared_window.right.refresh()
    focus(qtbot, shared_window, shared_window.right)
    wait_names(qtbot, shared_window.right, {"week.txt"})
    select(shared_window.right, "week.txt")
    QTest.keyClick(
        shared_window.right.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: getattr(shared_window.share_links, "popup", None) is not None)
    popup = shared_window.share_links.popup
    qtbot.waitUntil(popup.isVisible)
    [week] = [a for a in popup.actions() if a.text() == "Valid for 7 days"]
    week.trigger()
    qtbot.waitUntil(lambda: bool(shared_window.share_links.copied), timeout=10_000)
    url = QApplication.clipboard().text()
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["604800"] and _get(url) == body
    popup.close()
    assert ("Ctrl+Shift+C", "Copy share link") in shortcut_rows(shared_window)  # Help lists the key


def test_local_files_and_folders_get_no_share_link(qtbot: QtBot, shared_window: MainWindow) -> None:
    menu = context_menu_on(qtbot, shared_window, "left", "a.txt")
    links = share_menu(menu)
    assert not links.menuAction().isEnabled() and not any(entries(links).values())
    menu.close()
    [edit] = [a.menu() for a in shared_window.menuBar().actions() if a.text() == "&Edit"]
    assert isinstance(edit, QMenu)
    edit.aboutToShow.emit()  # what opening the Edit menu does
    assert not share_menu(edit).menuAction().isEnabled()

    focus(qtbot, shared_window, shared_window.left)
    QTest.keyClick(
        shared_window.left.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert "Select one object on a cloud volume" in shared_window.statusBar().currentMessage()


def test_the_edit_menu_follows_the_selection(
    qtbot: QtBot, shared_window: MainWindow, moto_s3: S3Server, cloud: str
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="x.txt", Body=b"x")
    shared_window.right.refresh()
    focus(qtbot, shared_window, shared_window.right)
    wait_names(qtbot, shared_window.right, {"x.txt"})
    select(shared_window.right, "x.txt")
    [edit] = [a.menu() for a in shared_window.menuBar().actions() if a.text() == "&Edit"]
    assert isinstance(edit, QMenu)
    edit.aboutToShow.emit()
    assert share_menu(edit).menuAction().isEnabled()
    assert all(entries(share_menu(edit)).values())


def test_a_volume_that_cannot_sign_says_why(
    qtbot: QtBot, shared_window: MainWindow, moto_s3: S3Server, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bucket read anonymously (no access key): a warning naming the volume and the object, no link."""
    moto_s3.client().put_object(Bucket=cloud, Key="open.txt", Body=b"o")
    registry = VolumeRegistry()
    registry.add(VolumeConfig("public", "s3", bucket=cloud, endpoint=moto_s3.endpoint, allow_http=True))
    registry.save()
    shared_window._volumes_changed()
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warned.append(text))
    shared_window.right.set_location(SdPath.parse("public:"))
    wait_listed(qtbot, shared_window.right, SdPath.parse("public:"))
    menu = context_menu_on(qtbot, shared_window, "right", "open.txt")
    [hour] = [a for a in share_menu(menu).actions() if a.text() == "Valid for 1 hour"]
    hour.trigger()
    qtbot.waitUntil(lambda: bool(warned), timeout=10_000)
    assert "share links need an access key" in warned[0] and "public:open.txt" in warned[0]
    assert "F9 Volumes" in warned[0] and not shared_window.share_links.copied
    menu.close()
