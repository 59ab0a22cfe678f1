"""Everyday commands in a pane, in a real window against real folders and a real bucket: the ".." row, the name
filter, and Enter on a file (opened with the desktop's application; a cloud file through a verified download into
the cache first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui.help_menu import shortcut_rows
from sdgui.gui.main_window import MainWindow
from sdgui.gui.widgets.file_pane import FilePane
from tests.gui.test_main_window import (
    LOCAL_FILES,
    OpenWindow,
    focus,
    local_path,
    new_job,
    wait_ended,
    wait_listed,
    wait_names,
)
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def names(pane: FilePane) -> list[str]:
    return [entry.name for entry in pane.model.row_entries()]


def put_cursor(pane: FilePane, name: str) -> None:
    row = names(pane).index(name) + pane.model.first_entry_row
    pane.view.setCurrentIndex(pane.model.index(row, 0))


def test_parent_row_is_first_except_at_a_root_and_enter_on_it_goes_up(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "sub").mkdir()
    (local_dir / "sub" / "inner.txt").write_bytes(b"inner")
    window = open_window(left=local_path(local_dir / "sub"), right=SdPath.parse("cloud:"))
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir / "sub"))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    assert window.right.model.rowCount() == 0 and not window.right.model.is_parent_row(0)  # a volume's root
    assert pane.model.data(pane.model.index(0, 0)) == ".." and names(pane) == ["inner.txt"]
    assert pane.view.currentIndex().row() == 0  # a new folder starts with the cursor on ".."
    assert pane.status_label.text() == "1 item"  # ".." is not an item

    pane.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert pane.model.data(pane.model.index(0, 0)) == ".."  # first whatever the sort
    focus(qtbot, window, pane)
    with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
        QTest.keyClick(pane.view, Qt.Key.Key_Home)
        QTest.keyClick(pane.view, Qt.Key.Key_Return)
    assert pane.location() == local_path(local_dir)
    assert pane.model.is_parent_row(0)  # local_dir has a parent too
    assert pane.selected_paths() == [local_path(local_dir / "sub")]  # the cursor is on the folder we left

    rect = pane.view.visualRect(pane.model.index(0, 0))
    with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
        QTest.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert pane.location() == local_path(local_dir.parent)


def test_parent_row_is_never_selected_copied_or_dragged(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path, moto_s3: S3Server
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    focus(qtbot, window, pane)
    QTest.keyClick(pane.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    expected = [local_path(local_dir).join(name) for name in sorted(LOCAL_FILES)]
    assert pane.selected_paths() == expected
    assert not pane.view.selectionModel().isRowSelected(0)
    assert pane.status_label.text().startswith("3 of 3 selected")
    mime = pane.model.mimeData(pane.view.selectionModel().selectedIndexes())
    assert sorted(url.toLocalFile() for url in mime.urls()) == [str(path.path) for path in expected]
    QTest.keyClick(pane.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert sorted(QApplication.clipboard().text().splitlines()) == [str(path) for path in expected]

    known = window.jobs.job_ids()
    QTest.keyClick(pane.view, Qt.Key.Key_F5)
    job_id = new_job(window, known)  # queued once the destination was looked at
    assert window.jobs.state(job_id).action.sources == expected  # not the folder above
    assert wait_ended(qtbot, window, job_id).state == "finished"
    wait_names(qtbot, window.right, set(LOCAL_FILES))
    assert window.right.model.names() == set(LOCAL_FILES)


def test_typing_filters_the_names_and_escape_clears(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    (local_dir / "Alpha-dir").mkdir()
    (local_dir / "Alpha-dir" / "x").write_bytes(b"x")
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir))
    focus(qtbot, window, pane)
    assert pane.filter_edit.isHidden()

    QTest.keyClicks(pane.view, "A")  # a letter typed in the list
    qtbot.waitUntil(pane.filter_edit.hasFocus)
    assert pane.filter_edit.isVisible() and pane.filter_edit.text() == "A"
    assert names(pane) == ["Alpha-dir", "a.txt"]  # any case
    assert pane.model.data(pane.model.index(0, 0)) == ".."  # still there
    assert pane.status_label.text() == "2 of 4 items match"
    QTest.keyClicks(pane.filter_edit, ".t")
    assert names(pane) == ["a.txt"] and pane.status_label.text() == "1 of 4 items match"
    assert window.active is pane

    QTest.keyClick(pane.filter_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(pane.view.hasFocus)
    assert pane.filter_edit.isHidden() and pane.filter_edit.text() == ""
    assert names(pane) == ["Alpha-dir", "a.txt", "b.bin", "c.txt"] and pane.status_label.text() == "4 items"

    QTest.keyClick(pane.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # the menu's way in
    qtbot.waitUntil(pane.filter_edit.hasFocus)
    QTest.keyClicks(pane.filter_edit, "alpha")
    assert names(pane) == ["Alpha-dir"]
    with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
        QTest.keyClick(pane.filter_edit, Qt.Key.Key_Down)  # the cursor moves in the list while typing
        QTest.keyClick(pane.filter_edit, Qt.Key.Key_Return)  # and Enter opens what it is on
    assert pane.location() == local_path(local_dir / "Alpha-dir")
    assert pane.filter_edit.isHidden() and pane.model.filter_text == ""  # a filter is for one folder


def test_a_filter_holds_through_a_refresh_and_escape_in_the_list_clears_it(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir))
    focus(qtbot, window, pane)
    QTest.keyClick(pane.view, Qt.Key.Key_T)
    QTest.keyClicks(pane.filter_edit, "xt")
    assert names(pane) == ["a.txt", "c.txt"]
    (local_dir / "new.txt").write_bytes(b"n")
    (local_dir / "new.bin").write_bytes(b"n")
    with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
        pane.refresh()
    assert names(pane) == ["a.txt", "c.txt", "new.txt"] and pane.status_label.text() == "3 of 5 items match"
    pane.view.setFocus()
    QTest.keyClick(pane.view, Qt.Key.Key_Escape)
    assert pane.filter_edit.isHidden() and len(names(pane)) == 5


def test_enter_on_a_local_file_opens_it_with_the_desktop_application(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    opened: list[QUrl] = []
    window.file_opener.open_url = lambda url: opened.append(url) or True
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir))
    focus(qtbot, window, pane)
    put_cursor(pane, "c.txt")
    QTest.keyClick(pane.view, Qt.Key.Key_Return)
    assert opened == [QUrl.fromLocalFile(str(local_dir / "c.txt"))]
    assert pane.location() == local_path(local_dir) and window.jobs.job_ids() == []  # nothing to download

    rect = pane.view.visualRect(pane.model.index(names(pane).index("a.txt") + 1, 0))
    QTest.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.mouseDClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened[1:] == [QUrl.fromLocalFile(str(local_dir / "a.txt"))]

    window.file_opener.open_url = lambda url: False  # as QDesktopServices says when nothing handles the type
    QTest.keyClick(pane.view, Qt.Key.Key_Return)
    assert window.statusBar().currentMessage() == "No application opens a.txt"


def test_enter_on_a_cloud_file_downloads_it_verified_then_opens_it_and_reuses_the_copy(
    qtbot: QtBot,
    open_window: OpenWindow,
    moto_s3: S3Server,
    cloud: str,
    local_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SDGUI_CACHE_DIR", str(tmp_path / "cache"))
    body = bytes(range(256)) * 4000
    moto_s3.client().put_object(Bucket=cloud, Key="docs/report.pdf", Body=body)
    window: MainWindow = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:docs/"))
    opened: list[QUrl] = []
    window.file_opener.open_url = lambda url: opened.append(url) or True
    pane = window.right
    wait_listed(qtbot, pane, SdPath.parse("cloud:docs/"))
    focus(qtbot, window, pane)
    put_cursor(pane, "report.pdf")

    QTest.keyClick(pane.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(window.jobs.job_ids()), timeout=30_000)  # a transfer, in the Transfers dock
    [job_id] = window.jobs.job_ids()
    state = wait_ended(qtbot, window, job_id)
    assert state.state == "finished", state.error
    assert state.verification_summary in ("verified", "provider-checked"), state.verification_summary
    cached = tmp_path / "cache" / "opened" / "files" / "cloud" / "docs" / "report.pdf"
    qtbot.waitUntil(lambda: len(opened) == 1)
    assert opened == [QUrl.fromLocalFile(str(cached))]
    assert cached.read_bytes() == body
    assert window.statusBar().currentMessage().startswith("Opened report.pdf")
    assert window.transfers.model.rowCount() >= 1

    QTest.keyClick(pane.view, Qt.Key.Key_Return)  # the object is unchanged: the cached copy opens, no download
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=30_000)
    assert opened[1] == opened[0] and window.jobs.job_ids() == [job_id]

    changed = b"a new version" * 1000
    moto_s3.client().put_object(Bucket=cloud, Key="docs/report.pdf", Body=changed)
    QTest.keyClick(pane.view, Qt.Key.Key_Return)  # changed: downloaded again
    qtbot.waitUntil(lambda: len(window.jobs.job_ids()) == 2, timeout=30_000)
    assert wait_ended(qtbot, window, window.jobs.job_ids()[1]).state == "finished"
    qtbot.waitUntil(lambda: len(opened) == 3)
    assert opened[2] == opened[0] and cached.read_bytes() == changed

    moto_s3.client().delete_object(Bucket=cloud, Key="docs/report.pdf")  # gone since the listing
    QTest.keyClick(pane.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Cannot open cloud:docs/report.pdf"))
    assert "not-found" in window.statusBar().currentMessage() and len(opened) == 3


def test_the_selection_follows_the_entries_that_still_match(
    qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path
) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    pane = window.left
    wait_listed(qtbot, pane, local_path(local_dir))
    focus(qtbot, window, pane)
    QTest.keyClick(pane.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # every entry
    pane.start_filter("txt")
    assert names(pane) == ["a.txt", "c.txt"]
    assert pane.selected_paths() == [local_path(local_dir).join("a.txt"), local_path(local_dir).join("c.txt")]
    assert pane.status_label.text() == "2 of 2 selected, 12 bytes (2 of 3 items match)"
    QTest.keyClick(pane.filter_edit, Qt.Key.Key_Escape)
    assert names(pane) == ["a.txt", "b.bin", "c.txt"]
    # What the filter hid was not selected behind the user's back: F5 now would copy what was seen selected.
    assert pane.selected_paths() == [local_path(local_dir).join("a.txt"), local_path(local_dir).join("c.txt")]


def test_help_lists_the_pane_keys(qtbot: QtBot, open_window: OpenWindow, cloud: str, local_dir: Path) -> None:
    window = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    rows = dict(shortcut_rows(window))
    assert rows["Ctrl+F"] == "Filter names"
    assert "“..” go up" in rows["Enter, double-click"] and "file" in rows["Enter, double-click"]
    assert rows["Typing a letter"].startswith("Filter names")
    assert rows["Escape (in the list or the filter)"] == "Clear the filter"
