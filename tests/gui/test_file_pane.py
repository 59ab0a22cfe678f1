"""FilePane on a real local directory and real S3 buckets (moto): navigation, keyboard, banner, drops."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from sdgui.core.backends.factory import BackendCache
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.widgets.file_pane import FilePane
from tests.copying import add_volume
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(120)

CLOUD_OBJECTS = {
    "docs/readme.md": b"# hello\n",
    "docs/guide.pdf": b"%PDF" + b"g" * 2_000,
    "photos/2024/a.jpg": b"\xff\xd8" + b"j" * 500,
    "report.pdf": b"%PDF" + b"r" * 1_234_563,
    "data.csv": b"a,b\n1,2\n",
}


@pytest.fixture(autouse=True)
def _drain_pool() -> Iterator[None]:
    yield
    QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def cloud(moto_s3: S3Server) -> Iterator[str]:
    """A bucket with two folders and three files, registered as volume "cloud"."""
    bucket = moto_s3.new_bucket("pane")
    client = moto_s3.client()
    for key, body in CLOUD_OBJECTS.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    add_volume(moto_s3, bucket, "cloud")
    yield "cloud"
    moto_s3.delete_bucket(bucket)


@pytest.fixture
def local_dir(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "old.txt").write_text("old")
    (tmp_path / "notes.txt").write_text("notes")
    return tmp_path


def make_pane(qtbot) -> FilePane:
    pane = FilePane(BackendCache(VolumeRegistry()))
    qtbot.addWidget(pane)
    pane.resize(720, 360)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def list_in(qtbot, pane: FilePane, location: SdPath) -> None:
    with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
        pane.set_location(location)


def names(pane: FilePane) -> list[str]:
    """The entries' names in row order (not "..")."""
    return [entry.name for entry in pane.model.row_entries()]


def row_of(pane: FilePane, name: str) -> int:
    return names(pane).index(name) + pane.model.first_entry_row


def test_bucket_listing_keyboard_and_status(qtbot, cloud: str) -> None:
    pane = make_pane(qtbot)
    labels = [pane.volume_box.itemText(i) for i in range(pane.volume_box.count())]
    assert labels[:2] == ["Home", "File system"] and labels[-1] == "cloud"
    list_in(qtbot, pane, SdPath.parse("cloud:"))
    assert names(pane) == ["docs", "photos", "data.csv", "report.pdf"]
    assert pane.status_label.text() == "4 items"
    assert pane.volume_box.currentText() == "cloud"
    assert pane.path_edit.text() == "cloud:"
    assert not pane.up_button.isEnabled()

    pane.view.selectRow(row_of(pane, "report.pdf"))
    assert pane.status_label.text() == "1 of 4 selected, 1.2 MB"
    assert pane.selected_paths() == [SdPath("cloud", "report.pdf")]

    pane.view.setCurrentIndex(pane.model.index(row_of(pane, "docs"), 0))
    with qtbot.waitSignal(pane.location_changed) as moved, qtbot.waitSignal(pane.model.finished_listing):
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    assert moved.args == [SdPath("cloud", "docs", True)]
    assert names(pane) == ["guide.pdf", "readme.md"]
    assert pane.path_edit.text() == "cloud:docs/" and pane.up_button.isEnabled()

    # Enter on a file asks the window to open it; the pane stays where it is.
    pane.view.setCurrentIndex(pane.model.index(row_of(pane, "guide.pdf"), 0))
    with qtbot.waitSignal(pane.open_requested) as opened:
        qtbot.keyClick(pane.view, Qt.Key.Key_Return)
    assert opened.args == [SdPath("cloud", "docs/guide.pdf")]
    assert pane.location() == SdPath("cloud", "docs", True)

    with qtbot.waitSignal(pane.model.finished_listing):
        qtbot.keyClick(pane.view, Qt.Key.Key_Backspace)
    assert pane.location() == SdPath("cloud", "", True)
    assert pane.selected_paths() == [SdPath("cloud", "docs", True)]  # the cursor lands on the folder we left


def test_double_click_opens_a_folder(qtbot, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath(None, str(local_dir), True))
    rect = pane.view.visualRect(pane.model.index(row_of(pane, "inbox"), 0))
    with qtbot.waitSignal(pane.model.finished_listing):
        # A real double-click is press, release, double-click: the view opens only what was pressed first.
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert pane.location() == SdPath(None, str(local_dir / "inbox"), True)
    assert names(pane) == ["old.txt"]


def test_choosing_a_volume_lists_its_root(qtbot, cloud: str, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath(None, str(local_dir), True))
    assert pane.volume_box.currentText() == "File system"
    index = pane.volume_box.findText("cloud")
    assert not pane.volume_box.itemIcon(index).isNull()
    with qtbot.waitSignal(pane.model.finished_listing):
        pane.volume_box.activated.emit(index)
    assert pane.location() == SdPath("cloud", "", True)


def test_path_bar_navigates_and_reports_bad_input(qtbot, cloud: str, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath.parse("cloud:"))

    def type_path(text: str) -> None:
        pane.path_edit.clear()
        qtbot.keyClicks(pane.path_edit, text)
        qtbot.keyClick(pane.path_edit, Qt.Key.Key_Return)

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path(str(local_dir))
    assert pane.location() == SdPath(None, str(local_dir), True)
    assert names(pane) == ["inbox", "notes.txt"]

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("inbox")  # relative to the listed folder
    assert pane.location() == SdPath(None, str(local_dir / "inbox"), True)

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("../inbox/..")
    assert pane.location() == SdPath(None, str(local_dir), True)

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("cloud:photos")
    assert pane.location() == SdPath("cloud", "photos", True) and names(pane) == ["2024"]

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("2024")
    assert pane.location() == SdPath("cloud", "photos/2024", True) and names(pane) == ["a.jpg"]

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("../..")
    assert pane.location() == SdPath("cloud", "", True)

    with qtbot.waitSignal(pane.model.finished_listing):
        type_path("cloud:photos")

    type_path("bad name:x")
    assert not pane.banner.isHidden() and "invalid volume name" in pane.error_text
    assert pane.location() == SdPath("cloud", "photos", True)

    with qtbot.waitSignal(pane.model.error, timeout=10_000):
        type_path("nosuch:dir")
    assert not pane.banner.isHidden()
    assert "no volume named nosuch" in pane.error_text
    assert pane.status_label.text() == "Listing failed"


def test_backspace_goes_up_to_the_parent(qtbot, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath(None, str(local_dir / "inbox"), True))
    with qtbot.waitSignal(pane.location_changed) as moved, qtbot.waitSignal(pane.model.finished_listing):
        qtbot.keyClick(pane.view, Qt.Key.Key_Backspace)
    assert moved.args == [SdPath(None, str(local_dir), True)]
    assert pane.selected_paths() == [SdPath(None, str(local_dir / "inbox"), True)]


def test_closed_port_shows_the_banner_and_retry_lists_again(qtbot, moto_s3: S3Server, closed_port_endpoint) -> None:
    add_volume(moto_s3, "unreachable", "down", endpoint=closed_port_endpoint)
    pane = make_pane(qtbot)
    with qtbot.waitSignal(pane.model.error, timeout=60_000):
        pane.set_location(SdPath.parse("down:"))
    assert not pane.banner.isHidden()
    assert "down" in pane.error_text and "network" in pane.error_text
    assert pane.status_label.text() == "Listing failed"
    with qtbot.waitSignal(pane.model.error, timeout=60_000):
        qtbot.mouseClick(pane.retry_button, Qt.MouseButton.LeftButton)
        assert pane.banner.isHidden() and pane.status_label.text() == "Loading…"
    assert not pane.banner.isHidden()


def test_retry_succeeds_once_the_bucket_exists(qtbot, moto_s3: S3Server) -> None:
    bucket = f"later-{uuid.uuid4().hex[:12]}"
    add_volume(moto_s3, bucket, "later")
    pane = make_pane(qtbot)
    with qtbot.waitSignal(pane.model.error, timeout=30_000):
        pane.set_location(SdPath.parse("later:"))
    assert "later" in pane.error_text and "bucket does not exist" in pane.error_text
    moto_s3.create_bucket(bucket)
    try:
        moto_s3.client().put_object(Bucket=bucket, Key="hello.txt", Body=b"hi")
        with qtbot.waitSignal(pane.model.finished_listing, timeout=30_000):
            qtbot.mouseClick(pane.retry_button, Qt.MouseButton.LeftButton)
        assert pane.banner.isHidden() and names(pane) == ["hello.txt"]
        assert pane.status_label.text() == "1 item"
    finally:
        moto_s3.delete_bucket(bucket)


def test_missing_secret_shows_in_the_banner(qtbot, moto_s3: S3Server, monkeypatch) -> None:
    add_volume(moto_s3, "whatever", "nokey")
    monkeypatch.delenv("SDGUI_TEST_SECRET_NOKEY")
    pane = make_pane(qtbot)
    with qtbot.waitSignal(pane.model.error, timeout=10_000):
        pane.set_location(SdPath.parse("nokey:"))
    assert "credentials" in pane.error_text and "nokey" in pane.error_text


def drag_event(cls: type[QDragMoveEvent], point: QPoint, *args: object) -> QDragMoveEvent:
    """Qt 6.12 takes a QPointF (and deprecates QPoint); earlier versions take only a QPoint."""
    try:
        return cls(QPointF(point), *args)  # type: ignore[call-overload]
    except TypeError:
        return cls(point, *args)  # type: ignore[call-overload]


def drop(target: FilePane, mime: QMimeData, point: QPoint, modifiers: Qt.KeyboardModifier) -> None:
    """Send the drag-enter/move/drop sequence a real drag produces to the target's viewport."""
    viewport = target.view.viewport()
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    button = Qt.MouseButton.LeftButton
    enter = drag_event(QDragEnterEvent, point, actions, mime, button, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = drag_event(QDragMoveEvent, point, actions, mime, button, modifiers)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), actions, mime, button, modifiers))


def test_drop_from_the_other_pane_requests_a_copy(qtbot, cloud: str, local_dir: Path) -> None:
    source = make_pane(qtbot)
    target = make_pane(qtbot)
    list_in(qtbot, source, SdPath.parse("cloud:"))
    list_in(qtbot, target, SdPath(None, str(local_dir), True))
    selection = source.view.selectionModel()
    for name in ("docs", "report.pdf"):
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        selection.select(source.model.index(row_of(source, name), 0), flags)
    mime = source.model.mimeData(selection.selectedIndexes())
    expected = [SdPath("cloud", "docs", True), SdPath("cloud", "report.pdf")]

    empty_area = QPoint(40, target.view.viewport().height() - 6)
    assert not target.view.indexAt(empty_area).isValid()
    with qtbot.waitSignal(target.copy_requested) as requested:
        drop(target, mime, empty_area, Qt.KeyboardModifier.NoModifier)
    assert requested.args == [expected, SdPath(None, str(local_dir), True), False]

    inbox = target.view.visualRect(target.model.index(row_of(target, "inbox"), 0)).center()
    with qtbot.waitSignal(target.copy_requested) as requested:
        drop(target, mime, inbox, Qt.KeyboardModifier.ShiftModifier)
    assert requested.args == [expected, SdPath(None, str(local_dir / "inbox"), True), True]


def test_drop_onto_its_own_folder_is_refused(qtbot, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath(None, str(local_dir), True))
    mime = pane.model.mimeData([pane.model.index(row_of(pane, "notes.txt"), 0)])
    requested: list[object] = []
    pane.copy_requested.connect(lambda *args: requested.append(args))
    point = QPoint(40, pane.view.viewport().height() - 6)
    move = drag_event(
        QDragMoveEvent, point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(pane.view.viewport(), move)
    assert not move.isAccepted()
    assert not pane.model.dropMimeData(mime, Qt.DropAction.CopyAction, -1, -1, QModelIndex())
    assert requested == []


def test_view_focus_is_reported(qtbot, local_dir: Path) -> None:
    pane = make_pane(qtbot)
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    pane.path_edit.setFocus()
    with qtbot.waitSignal(pane.focused):
        pane.view.setFocus()


def test_refresh_keeps_the_selection_and_the_cursor(qtbot, local_dir: Path) -> None:
    (local_dir / "zz.txt").write_text("z")
    pane = make_pane(qtbot)
    list_in(qtbot, pane, SdPath(None, str(local_dir), True))
    selection = pane.view.selectionModel()
    flags = selection.SelectionFlag.ClearAndSelect | selection.SelectionFlag.Rows
    selection.select(pane.model.index(row_of(pane, "notes.txt"), 0), flags)
    selection.setCurrentIndex(pane.model.index(row_of(pane, "zz.txt"), 0), selection.SelectionFlag.NoUpdate)
    (local_dir / "new.txt").write_text("new")
    with qtbot.waitSignal(pane.model.finished_listing):
        pane.refresh()
    assert names(pane) == ["inbox", "new.txt", "notes.txt", "zz.txt"]
    assert pane.selected_paths() == [SdPath(None, str(local_dir / "notes.txt"))]
    assert pane.model.entry(pane.view.currentIndex().row()).name == "zz.txt"
    assert pane.status_label.text() == "1 of 4 selected, 5 bytes"
