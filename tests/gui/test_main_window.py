"""MainWindow against real buckets: keys, menus and the clipboard start real jobs; panes, dock and settings follow.

The GUI-thread stall tests and big folders are in test_big_folder.py.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest
from PySide6.QtCore import (
    QItemSelectionModel,
    QPoint,
    QRect,
    QSize,
    Qt,
    QThreadPool,
)
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB
from sdgui.gui.dialogs.conflict_dialog import ConflictDialog
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.main_window import MainWindow
from sdgui.gui.models.transfers_model import Column as TransferColumn
from sdgui.gui.widgets.file_pane import FilePane
from tests.copying import put_multipart, read_object
from tests.servers import S3Server

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]

JOB_TIMEOUT_MS = 60_000
LIST_TIMEOUT_MS = 30_000
LOCAL_FILES = {"a.txt": b"alpha\n", "b.bin": os.urandom(100_000), "c.txt": b"gamma\n"}

OpenWindow = Callable[..., MainWindow]


# -- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    root = tmp_path / "local"
    root.mkdir()
    for name, data in LOCAL_FILES.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[OpenWindow]:
    """Open MainWindows (shown and active); every one still open is closed afterwards, which shuts its jobs down."""
    windows: list[MainWindow] = []

    def open_(*, left: SdPath | None = None, right: SdPath | None = None) -> MainWindow:
        window = MainWindow(right_location=right)
        windows.append(window)
        if left is not None:
            window.left.set_location(left)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitActive(window)
        return window

    yield open_
    for window in windows:
        window.ask_before_quitting = False  # a test's own transfers are shut down without the prompt
        if window.isVisible():
            window.close()
        assert window.jobs.running_count == 0, "a copy job outlived its window"
        window.deleteLater()
    QThreadPool.globalInstance().waitForDone(30_000)  # listings and background calls


@pytest.fixture
def window(open_window: OpenWindow, qtbot: QtBot, cloud: str, local_dir: Path) -> MainWindow:
    """Left: a local directory with three files; right: the empty bucket; both listed; the left pane has focus."""
    win = open_window(left=local_path(local_dir), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, win.left, local_path(local_dir))
    wait_listed(qtbot, win.right, SdPath.parse("cloud:"))
    focus(qtbot, win, win.left)
    return win


# -- helpers --------------------------------------------------------------------------------------------------


def local_path(path: Path) -> SdPath:
    return SdPath(None, str(path), True)


def wait_listed(qtbot: QtBot, pane: FilePane, location: SdPath, timeout: int = LIST_TIMEOUT_MS) -> None:
    """Wait until ``pane`` shows ``location`` and its listing has ended without an error."""

    def listed() -> None:
        assert pane.location() == location.as_dir()
        assert not pane.model.is_loading, "still listing"
        assert pane.model.last_error is None, pane.model.last_error

    qtbot.waitUntil(listed, timeout=timeout)


def wait_names(qtbot: QtBot, pane: FilePane, present: AbstractSet[str], absent: AbstractSet[str] = frozenset()) -> None:
    """Wait until the pane has listed and shows every name in ``present`` and none in ``absent``."""

    def shown() -> bool:
        names = pane.model.names()
        return not pane.model.is_loading and present <= names and not (absent & names)

    qtbot.waitUntil(shown, timeout=LIST_TIMEOUT_MS)


def focus(qtbot: QtBot, window: MainWindow, pane: FilePane) -> None:
    pane.view.setFocus()
    qtbot.waitUntil(lambda: window.active is pane and pane.view.hasFocus())


def select(pane: FilePane, *names: str) -> None:
    model, selection = pane.model, pane.view.selectionModel()
    selection.clearSelection()
    rows = {entry.name: row + model.first_entry_row for row, entry in enumerate(model.row_entries())}
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for name in names:
        selection.select(model.index(rows[name], 0), flags)
    assert sorted(path.name for path in pane.selected_paths()) == sorted(names)


def new_job(window: MainWindow, known: list[str], timeout: int = LIST_TIMEOUT_MS) -> str:
    """The one job a gesture started: it comes once the destination was looked at, off the GUI thread."""
    deadline = time.monotonic() + timeout / 1000
    while not (fresh := [job_id for job_id in window.jobs.job_ids() if job_id not in known]):
        assert time.monotonic() < deadline, "the gesture started no job"
        QTest.qWait(10)  # what qtbot.waitUntil does, for the helpers that are not handed a qtbot
    [job_id] = fresh
    return job_id


def wait_ended(qtbot: QtBot, window: MainWindow, job_id: str, timeout: int = JOB_TIMEOUT_MS) -> JobState:
    """Wait for ``job_id``'s job_ended (delivered only while the event loop runs, so checking first is no race)."""
    if not window.jobs.state(job_id).is_ended:
        with qtbot.waitSignal(window.jobs.job_ended, timeout=timeout, check_params_cb=lambda jid, *_: jid == job_id):
            pass
    return window.jobs.state(job_id)


def press(window: MainWindow, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> str:
    """Press ``key`` in the active pane; the id of the one job it started."""
    known = window.jobs.job_ids()
    QTest.keyClick(window.active.view, key, modifier)
    return new_job(window, known)


def start_big_upload(qtbot: QtBot, window: MainWindow, local_dir: Path, size: int) -> str:
    """F5 on a new sparse ``big.bin`` of ``size`` bytes in the left pane; returns once the job has moved bytes."""
    big = local_dir / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(size)
    window.left.refresh()
    wait_names(qtbot, window.left, {"big.bin"})
    select(window.left, "big.bin")
    job_id = press(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.jobs.state(job_id).bytes_done > 0, timeout=JOB_TIMEOUT_MS)
    return job_id


def object_keys(server: S3Server, bucket: str) -> list[str]:
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


# -- copy and move --------------------------------------------------------------------------------------------


def test_f5_copies_the_selection_to_the_other_pane(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    assert window.left.model.names() == set(LOCAL_FILES)
    assert window.right.model.names() == set()
    select(window.left, "a.txt", "b.bin")

    job_id = press(window, Qt.Key.Key_F5)
    state = wait_ended(qtbot, window, job_id)

    assert state.state == "finished", state.error
    assert not state.move
    for name in ("a.txt", "b.bin"):
        assert read_object(moto_s3, cloud, name) == LOCAL_FILES[name]
    assert object_keys(moto_s3, cloud) == ["a.txt", "b.bin"]
    wait_names(qtbot, window.right, {"a.txt", "b.bin"})
    assert (local_dir / "a.txt").exists()


def test_f6_moves_and_both_panes_follow(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    select(window.left, "c.txt")
    job_id = press(window, Qt.Key.Key_F6)
    state = wait_ended(qtbot, window, job_id)

    assert state.state == "finished", state.error
    assert state.move
    assert read_object(moto_s3, cloud, "c.txt") == LOCAL_FILES["c.txt"]
    assert not (local_dir / "c.txt").exists()
    wait_names(qtbot, window.right, {"c.txt"})
    wait_names(qtbot, window.left, {"a.txt", "b.bin"}, absent={"c.txt"})


def test_context_menu_copies_to_the_other_pane(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="from-cloud.txt", Body=b"downloaded")
    window.right.refresh()
    wait_names(qtbot, window.right, {"from-cloud.txt"})
    select(window.right, "from-cloud.txt")
    row_rect = window.right.view.visualRect(window.right.model.index(0, 0))

    window._context_menu(window.right, row_rect.center())
    menu = window.context_menu
    texts = [action.text() for action in menu.actions() if not action.isSeparator()]
    assert texts[:2] == ["Copy to other pane", "Move to other pane"]
    [copy_action] = [action for action in menu.actions() if action.text() == "Copy to other pane"]
    assert copy_action.isEnabled()
    known = window.jobs.job_ids()
    copy_action.trigger()
    menu.close()
    state = wait_ended(qtbot, window, new_job(window, known))

    assert state.state == "finished", state.error
    assert state.direction == "download"
    assert (local_dir / "from-cloud.txt").read_bytes() == b"downloaded"
    wait_names(qtbot, window.left, {"from-cloud.txt", *LOCAL_FILES})


def test_context_menu_without_a_selection_offers_no_copy(qtbot: QtBot, window: MainWindow) -> None:
    window.right.view.selectionModel().clearSelection()
    window._context_menu(window.right, QPoint(5, 5))
    assert window.active is window.right
    enabled = {action.text(): action.isEnabled() for action in window.context_menu.actions() if action.text()}
    window.context_menu.close()
    assert enabled["Copy to other pane"] is False and enabled["Delete…"] is False
    assert enabled["Paste"] is True and enabled["New folder…"] is True


def test_ctrl_c_then_tab_then_ctrl_v_copies_between_panes(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    select(window.left, "a.txt", "c.txt")
    QApplication.clipboard().clear()
    QTest.keyClick(window.left.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert window.jobs.job_ids() == []
    # The window's Copy (every selected path), not the table's own Ctrl+C (the current cell's text).
    assert QApplication.clipboard().text().splitlines() == [str(local_dir / "a.txt"), str(local_dir / "c.txt")]

    QTest.keyClick(window.left.view, Qt.Key.Key_Tab)
    assert window.active is window.right
    job_id = press(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    state = wait_ended(qtbot, window, job_id)

    assert state.state == "finished", state.error
    assert read_object(moto_s3, cloud, "a.txt") == LOCAL_FILES["a.txt"]
    assert read_object(moto_s3, cloud, "c.txt") == LOCAL_FILES["c.txt"]
    wait_names(qtbot, window.right, {"a.txt", "c.txt"})


# -- folders, delete, conflicts -------------------------------------------------------------------------------


def test_the_active_pane_is_framed_and_the_other_selection_greyed(qtbot: QtBot, window: MainWindow) -> None:
    """Tab and a click move the frame and the blue selection; the other pane's selection turns grey."""
    select(window.left, "a.txt")
    window.right.refresh()
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))

    def highlight(pane: FilePane) -> QColor:
        return pane.view.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)

    blue = window.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    frame = f"border: 2px solid {blue.name()}"
    assert window.left.is_active and window.left.property("active") is True
    assert highlight(window.left) == blue and frame in window.left.view.styleSheet()
    assert not window.right.is_active and highlight(window.right) != blue
    assert frame not in window.right.view.styleSheet()
    assert window.left.path_edit.font().bold() and not window.right.path_edit.font().bold()

    QTest.keyClick(window.left.view, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: window.right.view.hasFocus())
    assert window.active is window.right and window.right.is_active and not window.left.is_active
    assert highlight(window.right) == blue and frame in window.right.view.styleSheet()
    assert highlight(window.left) != blue and frame not in window.left.view.styleSheet()
    grey = highlight(window.left)
    assert abs(grey.hue() - blue.hue()) > 30 or grey.saturation() < 40  # grey, not another blue

    QTest.mouseClick(window.left.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, 5))
    qtbot.waitUntil(lambda: window.left.is_active)
    assert not window.right.is_active and highlight(window.left) == blue


@pytest.fixture
def folder_name(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer "fresh" to the New folder prompt; the list collects the prompts shown."""
    asked: list[str] = []

    def get_text(parent: object, title: str, label: str, *args: object, **kwargs: object) -> tuple[str, bool]:
        asked.append(label)
        return "fresh", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    return asked


def test_new_folder_on_disk(qtbot: QtBot, window: MainWindow, local_dir: Path, folder_name: list[str]) -> None:
    QTest.keyClick(window.left.view, Qt.Key.Key_F7)
    wait_names(qtbot, window.left, {"fresh", *LOCAL_FILES})
    assert (local_dir / "fresh").is_dir()
    assert folder_name == [f"Name of the new folder in {local_dir}/:"]
    first = window.left.model.row_entries()[0]
    assert first.name == "fresh" and first.is_dir


def test_new_folder_in_the_bucket_writes_a_marker(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, folder_name: list[str]
) -> None:
    focus(qtbot, window, window.right)
    QTest.keyClick(window.right.view, Qt.Key.Key_F7)
    wait_names(qtbot, window.right, {"fresh"})
    assert object_keys(moto_s3, cloud) == ["fresh/"]
    assert window.right.model.row_entries()[0].is_dir
    assert folder_name == [f"Name of the new folder in {window.right.location()}:"]


def test_delete_removes_the_selected_objects(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = moto_s3.client()
    for key in ("keep.txt", "old1.txt", "old2.txt", "dir/inner.txt"):
        client.put_object(Bucket=cloud, Key=key, Body=key.encode())
    questions: list[str] = []

    def question(parent: object, title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        questions.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    focus(qtbot, window, window.right)
    window.right.refresh()
    wait_names(qtbot, window.right, {"keep.txt", "old1.txt", "old2.txt", "dir"})
    select(window.right, "old1.txt", "old2.txt", "dir")
    QTest.keyClick(window.right.view, Qt.Key.Key_F8)

    wait_names(qtbot, window.right, {"keep.txt"}, absent={"old1.txt", "old2.txt", "dir"})
    assert object_keys(moto_s3, cloud) == ["keep.txt"]
    assert len(questions) == 1 and questions[0].startswith("Delete 3 item(s)?")


def test_a_conflict_asks_and_keep_both_writes_a_numbered_copy(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="a.txt", Body=b"already there")
    window.right.refresh()
    wait_names(qtbot, window.right, {"a.txt"})
    asked: list[tuple[str, str]] = []

    def ask(parent: object, name: str, destination: str, *args: object, **kwargs: object) -> tuple[str, bool]:
        asked.append((name, destination))
        return "rename", True

    monkeypatch.setattr(ConflictDialog, "ask", staticmethod(ask))
    select(window.left, "a.txt", "b.bin")
    focus(qtbot, window, window.left)
    with qtbot.waitSignal(window.copy_requests.submitted, timeout=LIST_TIMEOUT_MS) as submitted:
        QTest.keyClick(window.left.view, Qt.Key.Key_F5)
    states = [wait_ended(qtbot, window, job_id) for job_id in submitted.args[0]]

    assert asked == [("a.txt", "cloud:")]  # only the name that exists is asked about
    assert len(states) == 2  # one job per policy: "rename" for a.txt, the default for b.bin
    assert [s.state for s in states] == ["finished", "finished"], [s.error for s in states]
    assert read_object(moto_s3, cloud, "a.txt") == b"already there"
    assert read_object(moto_s3, cloud, "a (1).txt") == LOCAL_FILES["a.txt"]
    assert read_object(moto_s3, cloud, "b.bin") == LOCAL_FILES["b.bin"]
    wait_names(qtbot, window.right, {"a.txt", "a (1).txt", "b.bin"})


# -- the transfers dock ---------------------------------------------------------------------------------------


def test_cancel_a_big_upload_from_the_transfers_dock(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, local_dir: Path
) -> None:
    job_id = start_big_upload(qtbot, window, local_dir, 200 * MiB)

    dock = window.transfers
    row = dock.row_actions(job_id)
    assert row is not None and row.cancel_button.isVisible()
    QTest.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    state = wait_ended(qtbot, window, job_id, timeout=10_000)

    assert state.state == "cancelled"
    model_row = dock.model.row_of(job_id)
    assert dock.model.index(model_row, TransferColumn.STATE).data() == "Cancelled"
    dock.show_tab("Failed")
    assert dock.proxy_row_of(job_id) is None  # a cancel is not a failure
    dock.show_tab("Cancelled")
    proxy_row = dock.proxy_row_of(job_id)
    assert proxy_row is not None
    assert dock.proxy.index(proxy_row, TransferColumn.STATE).data() == "Cancelled"
    assert moto_s3.open_multipart_uploads(cloud) == []
    assert object_keys(moto_s3, cloud) == []


# -- settings -------------------------------------------------------------------------------------------------


def test_geometry_and_pane_locations_persist_across_windows(
    qtbot: QtBot, open_window: OpenWindow, settings_dir: Path, cloud: str, moto_s3: S3Server, local_dir: Path
) -> None:
    moto_s3.client().put_object(Bucket=cloud, Key="folder/x.txt", Body=b"x")
    (local_dir / "sub").mkdir()
    first = open_window(left=local_path(local_dir / "sub"), right=SdPath.parse("cloud:folder/"))
    # Smaller than the screen (offscreen's is 800x800): restoreGeometry shrinks a window to fit its screen.
    assert first.screen().availableGeometry().contains(QRect(0, 0, 720, 520))
    first.resize(700, 500)
    first.splitter.setSizes([250, 440])
    wait_listed(qtbot, first.right, SdPath.parse("cloud:folder/"))
    qtbot.waitUntil(lambda: first.size() == QSize(700, 500))
    sizes = first.splitter.sizes()
    first.close()

    ini = settings_dir / "sdgui-tests" / "main-window.ini"
    assert ini.is_file(), sorted(settings_dir.rglob("*"))
    assert "panes" in ini.read_text()

    second = open_window()
    assert second.size() == QSize(700, 500)
    assert second.splitter.sizes() == sizes
    assert second.left.location() == local_path(local_dir / "sub")
    assert second.right.location() == SdPath.parse("cloud:folder/")
    wait_listed(qtbot, second.right, SdPath.parse("cloud:folder/"))
    assert second.right.model.names() == {"x.txt"}

    # An explicit right location (the demo's) wins over the saved one; the left pane still comes back.
    second.close()
    third = open_window(right=SdPath.parse("cloud:"))
    assert third.right.location() == SdPath.parse("cloud:")
    assert third.left.location() == local_path(local_dir / "sub")


def test_properties_name_the_check_a_foreign_object_is_verified_by(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str
) -> None:
    """F3 on an object another tool wrote with an S3 additional checksum: the checksum is listed, and it is what a
    download is checked against."""
    body = b"written by another tool"
    moto_s3.client().put_object(Bucket=cloud, Key="other.txt", Body=body, ChecksumAlgorithm="SHA256")
    text = _properties_of(qtbot, window, "other.txt")
    assert f"SHA-256: {hashlib.sha256(body).hexdigest()}" in text
    assert f"MD5: {hashlib.md5(body).hexdigest()}" in text
    assert "Stored blake3: — (not copied by sdgui)" in text
    assert "every download is checked against its sha256" in text  # the strongest it holds


def test_properties_show_a_composite_checksum_and_its_parts(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str
) -> None:
    """A multipart object another tool wrote with per-part CRC32s: Properties show the composite checksum, the
    part count, and that downloads are checked against it."""
    put_multipart(moto_s3, cloud, "parts.bin", os.urandom(5 * 1024 * 1024 + 1000), "CRC32", 5 * 1024 * 1024)
    text = _properties_of(qtbot, window, "parts.bin")
    assert "CRC32-composite:" in text and "(composite of 2 parts)" in text
    assert "every download is checked against its crc32-composite" in text


def _properties_of(qtbot: QtBot, window: MainWindow, name: str) -> str:
    """What the dialog F3 opens on ``name`` in the right pane shows, once it has read the object."""
    focus(qtbot, window, window.right)
    window.right.refresh()
    wait_names(qtbot, window.right, {name})
    select(window.right, name)
    QTest.keyClick(window.right.view, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: window.properties_dialog is not None, timeout=5_000)
    dialog = window.properties_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.properties is not None, timeout=10_000)
    text = dialog.text()
    dialog.close()
    return text
