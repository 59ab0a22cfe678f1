"""Rename (F2, Shift+F6) in the real window: the name is edited over its row, a local file is renamed at once, a cloud
object or folder by a move job in Transfers; a name taken behind the pane's back is refused and nothing changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.gui import help_menu, rename
from sdgui.gui.main_window import MainWindow
from sdgui.gui.widgets.file_pane import FilePane
from sdgui.gui.widgets.name_editor import InlineNameEditor, stem_length
from tests.copying import read_object
from tests.gui.test_main_window import (
    LOCAL_FILES,
    focus,
    local_path,
    object_keys,
    select,
    wait_ended,
    wait_listed,
    wait_names,
)
from tests.gui.test_main_window import local_dir as local_dir
from tests.gui.test_main_window import open_window as open_window
from tests.gui.test_main_window import window as window
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

WAIT_MS = 30_000


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the window said in message boxes: (kind, text); a question is answered No."""
    said: list[tuple[str, str]] = []
    for kind in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *_, k=kind: said.append((k, text)))

    def question(parent: object, title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        said.append(("question", text))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    return said


def open_editor(qtbot: QtBot, window: MainWindow, pane: FilePane, name: str, key: Qt.Key = Qt.Key.Key_F2,
                modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> InlineNameEditor:  # fmt: skip
    focus(qtbot, window, pane)
    select(pane, name)
    QTest.keyClick(pane.view, key, modifier)
    editor = window.renamer.editor
    assert editor is not None and editor.is_open
    qtbot.waitUntil(editor.hasFocus)
    return editor


def type_name(editor: InlineNameEditor, text: str) -> None:
    """Type over the preselected part of the name, then Enter."""
    QTest.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)


def put_objects(server: S3Server, bucket: str, objects: dict[str, bytes]) -> None:
    client = server.client()
    for key, data in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)


def cloud_window(qtbot: QtBot, window: MainWindow) -> FilePane:
    window.right.refresh()
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    return window.right


# -- the editor -----------------------------------------------------------------------------------------------


def test_stem_is_the_name_without_its_last_extension() -> None:
    assert [stem_length(n, False) for n in ("a.txt", "archive.tar.gz", ".bashrc", "README")] == [1, 11, 7, 6]
    assert stem_length("photos.2024", True) == len("photos.2024")


@pytest.mark.parametrize(
    ("key", "modifier"),
    [(Qt.Key.Key_F2, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)],
    ids=["F2", "Shift+F6"],
)
def test_the_key_opens_the_editor_over_the_name_and_escape_changes_nothing(
    qtbot: QtBot, window: MainWindow, local_dir: Path, key: Qt.Key, modifier: Qt.KeyboardModifier
) -> None:
    pane = window.left
    editor = open_editor(qtbot, window, pane, "b.bin", key, modifier)
    assert editor.text() == "b.bin" and editor.selectedText() == "b"
    cell = pane.view.visualRect(pane.model.index(_row(pane, "b.bin"), 0))
    assert editor.isVisible() and cell.top() <= editor.geometry().center().y() <= cell.bottom()
    assert window.jobs.job_ids() == []  # Shift+F6 is not F6 Move

    QTest.keyClicks(editor, "zzz")
    QTest.keyClick(editor, Qt.Key.Key_F8)  # a window key typed by habit is the editor's while it is open
    QTest.keyClick(editor, Qt.Key.Key_Escape)

    assert not editor.is_open and window.renamer.editor is not None
    qtbot.waitUntil(pane.view.hasFocus)
    assert sorted(p.name for p in local_dir.iterdir()) == sorted(LOCAL_FILES)
    assert window.statusBar().currentMessage() == "Rename cancelled"
    assert window.delete_progress.is_running is False


def _row(pane: FilePane, name: str) -> int:
    return next(row for row in range(pane.model.rowCount()) if getattr(pane.model.entry(row), "name", None) == name)


def test_rename_is_listed_in_help_the_menus_and_the_key_bar(qtbot: QtBot, window: MainWindow) -> None:
    rows = dict(help_menu.shortcut_rows(window))
    assert rows.get("F2, Shift+F6") == "Rename", rows
    assert window.function_buttons["F2"].text() == "F2 Rename"
    select(window.left, "a.txt")
    window._context_menu(window.left, QPoint(5, 5))
    enabled = {action.text(): action.isEnabled() for action in window.context_menu.actions() if action.text()}
    window.context_menu.close()
    assert enabled["Rename"] is True


# -- local ----------------------------------------------------------------------------------------------------


def test_renaming_a_local_file(qtbot: QtBot, window: MainWindow, local_dir: Path) -> None:
    editor = open_editor(qtbot, window, window.left, "a.txt")
    type_name(editor, "renamed")

    wait_names(qtbot, window.left, {"renamed.txt"}, absent={"a.txt"})
    assert (local_dir / "renamed.txt").read_bytes() == LOCAL_FILES["a.txt"] and not (local_dir / "a.txt").exists()
    qtbot.waitUntil(lambda: window.left.selected_paths() == [local_path(local_dir).join("renamed.txt")])
    assert window.jobs.job_ids() == []  # a local rename is one step, not a job


def test_a_local_name_created_behind_the_panes_back_is_refused(
    qtbot: QtBot, window: MainWindow, local_dir: Path, told: list[tuple[str, str]]
) -> None:
    (local_dir / "taken.txt").write_bytes(b"theirs")  # the pane has not listed it
    assert "taken.txt" not in window.left.model.names()
    editor = open_editor(qtbot, window, window.left, "a.txt")
    editor.selectAll()
    type_name(editor, "taken.txt")

    qtbot.waitUntil(lambda: bool(told), timeout=WAIT_MS)
    [(kind, text)] = told
    assert kind == "warning" and "already exists" in text and str(local_dir / "taken.txt") in text
    assert (local_dir / "taken.txt").read_bytes() == b"theirs"
    assert (local_dir / "a.txt").read_bytes() == LOCAL_FILES["a.txt"]
    wait_names(qtbot, window.left, {"taken.txt", "a.txt"})  # the pane lists what is really there


@pytest.mark.parametrize(("typed", "said"), [("", "empty"), ("x/y", "cannot contain “/”")])
def test_a_name_that_cannot_be_is_refused(
    qtbot: QtBot, window: MainWindow, local_dir: Path, told: list[tuple[str, str]], typed: str, said: str
) -> None:
    editor = open_editor(qtbot, window, window.left, "c.txt")
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Delete)
    type_name(editor, typed)
    [(kind, text)] = told
    assert kind == "warning" and said in text and "nothing was renamed" in text
    assert sorted(p.name for p in local_dir.iterdir()) == sorted(LOCAL_FILES)


def test_the_same_name_renames_nothing_and_says_so(
    qtbot: QtBot, window: MainWindow, local_dir: Path, told: list[tuple[str, str]]
) -> None:
    type_name(open_editor(qtbot, window, window.left, "c.txt"), "c")
    assert told == []
    assert window.statusBar().currentMessage() == "c.txt: the name is unchanged; nothing was renamed"
    assert sorted(p.name for p in local_dir.iterdir()) == sorted(LOCAL_FILES)


# -- cloud ----------------------------------------------------------------------------------------------------


def test_renaming_a_cloud_object_is_a_move_job(qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str) -> None:
    data = os.urandom(300_000)
    put_objects(moto_s3, cloud, {"old.bin": data, "other.txt": b"stays"})
    pane = cloud_window(qtbot, window)
    editor = open_editor(qtbot, window, pane, "old.bin")
    assert editor.selectedText() == "old"
    type_name(editor, "new")

    qtbot.waitUntil(lambda: len(window.jobs.job_ids()) == 1, timeout=WAIT_MS)
    [job_id] = window.jobs.job_ids()
    state = wait_ended(qtbot, window, job_id)
    assert state.state == "finished", state.error
    assert state.move and state.title == "Rename file old.bin to new.bin in cloud:"
    assert object_keys(moto_s3, cloud) == ["new.bin", "other.txt"]
    assert read_object(moto_s3, cloud, "new.bin") == data
    wait_names(qtbot, pane, {"new.bin", "other.txt"}, absent={"old.bin"})
    qtbot.waitUntil(lambda: pane.selected_paths() == [SdPath("cloud", "new.bin")], timeout=WAIT_MS)


def test_renaming_a_cloud_folder_moves_every_object_under_it(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, told: list[tuple[str, str]]
) -> None:
    objects = {f"photos/{n}.jpg": os.urandom(1000 + n) for n in range(4)} | {"photos/2024/x.jpg": b"x", "photos/": b""}
    put_objects(moto_s3, cloud, objects | {"photos-old.txt": b"not under it"})
    pane = cloud_window(qtbot, window)
    editor = open_editor(qtbot, window, pane, "photos")
    assert editor.selectedText() == "photos"  # a folder's whole name
    type_name(editor, "pictures")

    qtbot.waitUntil(lambda: len(window.jobs.job_ids()) == 1, timeout=WAIT_MS)
    state = wait_ended(qtbot, window, window.jobs.job_ids()[0])
    assert state.state == "finished", state.error
    assert told == []  # a few objects: no question
    assert state.files_done == 5
    keys = object_keys(moto_s3, cloud)
    assert [k for k in keys if k.startswith("photos/")] == []
    for key, data in objects.items():
        assert read_object(moto_s3, cloud, key.replace("photos/", "pictures/", 1)) == data
    wait_names(qtbot, pane, {"pictures", "photos-old.txt"}, absent={"photos"})
    qtbot.waitUntil(lambda: pane.selected_paths() == [SdPath("cloud", "pictures", True)], timeout=WAIT_MS)


def test_a_cloud_folder_of_many_objects_asks_first(
    qtbot: QtBot,
    window: MainWindow,
    moto_s3: S3Server,
    cloud: str,
    told: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rename, "CONFIRM_ABOVE", 2)
    put_objects(moto_s3, cloud, {f"big/{n}": b"x" for n in range(3)})
    pane = cloud_window(qtbot, window)
    type_name(open_editor(qtbot, window, pane, "big"), "bigger")

    qtbot.waitUntil(lambda: bool(told), timeout=WAIT_MS)
    [(kind, text)] = told
    assert kind == "question" and "each of its 3 objects is copied" in text and "Transfers" in text
    assert window.jobs.job_ids() == []  # answered No
    assert object_keys(moto_s3, cloud) == ["big/0", "big/1", "big/2"]


def test_a_cloud_name_created_behind_the_panes_back_is_refused(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, told: list[tuple[str, str]]
) -> None:
    put_objects(moto_s3, cloud, {"old.txt": b"mine"})
    pane = cloud_window(qtbot, window)
    put_objects(moto_s3, cloud, {"new.txt/inside": b"theirs"})  # a prefix of that name, which the pane never saw
    assert pane.model.names() == {"old.txt"}
    type_name(open_editor(qtbot, window, pane, "old.txt"), "new")

    qtbot.waitUntil(lambda: bool(told), timeout=WAIT_MS)
    [(kind, text)] = told
    assert kind == "warning" and "already exists" in text and "cloud:new.txt" in text
    assert window.jobs.job_ids() == []
    assert object_keys(moto_s3, cloud) == ["new.txt/inside", "old.txt"]
    wait_names(qtbot, pane, {"old.txt", "new.txt"})


def test_leaving_the_editor_keeps_the_name_typed(qtbot: QtBot, window: MainWindow, local_dir: Path) -> None:
    editor = open_editor(qtbot, window, window.left, "c.txt")
    QTest.keyClicks(editor, "kept")
    QTest.mouseClick(window.right.view.viewport(), Qt.MouseButton.LeftButton)  # as in Explorer: a click elsewhere

    qtbot.waitUntil(lambda: (local_dir / "kept.txt").exists(), timeout=WAIT_MS)
    assert not (local_dir / "c.txt").exists()


def test_a_listing_that_replaces_the_rows_closes_the_editor(qtbot: QtBot, window: MainWindow, local_dir: Path) -> None:
    editor = open_editor(qtbot, window, window.left, "c.txt")
    QTest.keyClicks(editor, "never")
    window.left.refresh()  # the row under the editor goes away

    assert not editor.is_open
    wait_names(qtbot, window.left, set(LOCAL_FILES))
    assert sorted(p.name for p in local_dir.iterdir()) == sorted(LOCAL_FILES)
