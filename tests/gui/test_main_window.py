"""MainWindow against real buckets: keys, menus and the clipboard start real jobs; panes, dock and settings follow.

The GUI-thread stall tests at the end keep a 10 ms heartbeat timer running while a pane pages through 20,000
objects and while a job copies a thousand small files, and fail when the GUI thread stalls for 100 ms or more; they
print their figures (run with -s to see them), and the time to the first rows of a 100,000-object prefix.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import tempfile
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
    QTimer,
)
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
from tests.copying import add_volume, put_multipart, read_object
from tests.servers import S3Server, start_rclone

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
    rows = {model.entry(row).name: row for row in range(model.rowCount())}
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for name in names:
        selection.select(model.index(rows[name], 0), flags)
    assert sorted(path.name for path in pane.selected_paths()) == sorted(names)


def new_job(window: MainWindow, known: list[str]) -> str:
    [job_id] = [job_id for job_id in window.jobs.job_ids() if job_id not in known]
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
    assert window.left.model.entry(0).name == "fresh" and window.left.model.entry(0).is_dir


def test_new_folder_in_the_bucket_writes_a_marker(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, folder_name: list[str]
) -> None:
    focus(qtbot, window, window.right)
    QTest.keyClick(window.right.view, Qt.Key.Key_F7)
    wait_names(qtbot, window.right, {"fresh"})
    assert object_keys(moto_s3, cloud) == ["fresh/"]
    assert window.right.model.entry(0).is_dir
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

    def ask(parent: object, name: str, destination: str, *args: object) -> tuple[str, bool]:
        asked.append((name, destination))
        return "rename", True

    monkeypatch.setattr(ConflictDialog, "ask", staticmethod(ask))
    select(window.left, "a.txt", "b.bin")
    focus(qtbot, window, window.left)
    ids_before = window.jobs.job_ids()
    QTest.keyClick(window.left.view, Qt.Key.Key_F5)
    new_ids = [job_id for job_id in window.jobs.job_ids() if job_id not in ids_before]
    states = [wait_ended(qtbot, window, job_id) for job_id in new_ids]

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
    big = local_dir / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(200 * MiB)
    window.left.refresh()
    wait_names(qtbot, window.left, {"big.bin"})
    select(window.left, "big.bin")
    job_id = press(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.jobs.state(job_id).bytes_done > 0, timeout=JOB_TIMEOUT_MS)

    dock = window.transfers
    row = dock.row_actions(job_id)
    assert row is not None and row.cancel_button.isVisible()
    QTest.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    state = wait_ended(qtbot, window, job_id, timeout=10_000)

    assert state.state == "cancelled"
    model_row = dock.model.row_of(job_id)
    assert dock.model.index(model_row, TransferColumn.STATE).data() == "Cancelled"
    dock.show_tab("Failed")
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


# -- GUI-thread stalls ----------------------------------------------------------------------------------------

STALL_LIMIT_S = 0.100


def cpu_wait_ns() -> int:
    """Nanoseconds the calling thread has spent runnable but waiting for a CPU (Linux schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as stats:
            return int(stats.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0


class Heartbeat:
    """A 10 ms timer on the GUI thread; the longest gap between two ticks is the longest the GUI thread stalled.

    A stall counts the time the GUI thread was busy or blocked (on the GIL, on I/O), not the time it was ready but
    the machine gave the CPU to other processes: on a loaded box (load 7 on 2 cores here) that alone makes 150 ms
    gaps. Both figures are reported.

    While it runs, the objects that existed before it started are frozen out of the cyclic garbage collector: the
    test process carries pytest, boto3's service models and the servers' clients, which the app does not, and a
    full collection over them stalls every thread (40-120 ms measured here, against ~25 ms for a bare window
    holding 100,000 entries). Objects created during the measurement, the listing's included, are still collected.
    """

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest_s = 0.0
        self.longest_gap_s = 0.0
        self.ticks = 0
        self.long_stalls: list[tuple[float, float]] = []  # (seconds after the start, stall) over half the limit
        self._started = self._last = 0.0
        self._cpu_wait = 0
        self._load = 0.0

    def summary(self) -> str:
        stalls = ", ".join(f"{stall * 1000:.0f} ms at +{at:.2f} s" for at, stall in self.long_stalls[:5])
        return (
            f"longest GUI stall {self.longest_s * 1000:.1f} ms (longest tick gap {self.longest_gap_s * 1000:.1f} ms "
            f"with CPU waits; load {self._load:.1f} on {os.cpu_count()} CPUs) over {self.ticks} ticks"
            + (f"; long stalls: {stalls}" if stalls else "")
        )

    def __enter__(self) -> Heartbeat:
        gc.freeze()
        self._load = os.getloadavg()[0]
        self._cpu_wait = cpu_wait_ns()
        self._started = self._last = time.perf_counter()
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._tick()  # the gap up to now counts too
        self.timer.stop()
        gc.unfreeze()

    def _tick(self) -> None:
        now, cpu_wait = time.perf_counter(), cpu_wait_ns()
        gap = now - self._last
        stall = max(0.0, gap - (cpu_wait - self._cpu_wait) / 1e9)
        self.longest_gap_s = max(self.longest_gap_s, gap)
        self.longest_s = max(self.longest_s, stall)
        if stall > STALL_LIMIT_S / 2:
            self.long_stalls.append((self._last - self._started, stall))
        self._last, self._cpu_wait = now, cpu_wait
        self.ticks += 1


def write_objects(folder: Path, count: int) -> None:
    """Empty files under an rclone bucket's folder are its objects: far faster than ``count`` PUTs."""
    folder.mkdir(parents=True)
    for i in range(count):
        os.close(os.open(folder / f"object-{i:06d}.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))


@pytest.fixture(scope="module")
def rclone_in_ram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A private `rclone serve s3` whose data dir is in RAM (/dev/shm) when there is one: 100,000 files are
    written there in about a second, against 7 s and more on a busy disk."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        work_dir = Path(tempfile.mkdtemp(prefix="sdgui-rclone-", dir=shm))
    else:
        work_dir = tmp_path_factory.mktemp("rclone-ram")
    try:
        server = start_rclone(work_dir)
        try:
            yield server
        finally:
            server.close()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture
def rclone_cloud(rclone_in_ram: S3Server) -> Iterator[tuple[S3Server, str]]:
    """A fresh bucket on the file-backed rclone server, registered as volume ``cloud``; removed from disk after."""
    server = rclone_in_ram
    server.ensure_running()
    bucket = server.new_bucket("stall")
    add_volume(server, bucket, "cloud")
    yield server, bucket
    assert server.data_dir is not None
    shutil.rmtree(server.data_dir / bucket, ignore_errors=True)


def wait_visible(server: S3Server, bucket: str, key: str, timeout_s: float = 10.0) -> None:
    """Wait until the server lists ``key`` (rclone caches a directory's listing for a second)."""
    client, deadline = server.client(), time.monotonic() + timeout_s
    while not client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount"):
        assert time.monotonic() < deadline, f"{key} did not show up on {server.name} in {timeout_s} s"
        time.sleep(0.05)


def time_to_first_rows(qtbot: QtBot, pane: FilePane, location: SdPath) -> tuple[float, int]:
    """Seconds from set_location to the first rows in the model, and how many entries had arrived by then (the
    listing must still be running then: rows show before the last page)."""
    first: list[tuple[float, int]] = []

    def on_rows(*_: object) -> None:
        if not first:
            first.append((time.perf_counter(), pane.model.total_count if pane.model.is_loading else -1))

    pane.model.rowsInserted.connect(on_rows)
    started = time.perf_counter()
    pane.set_location(location)
    qtbot.waitUntil(lambda: bool(first), timeout=LIST_TIMEOUT_MS)
    pane.model.rowsInserted.disconnect(on_rows)
    return first[0][0] - started, first[0][1]


def test_paging_through_20k_objects_never_stalls_the_gui(
    qtbot: QtBot, open_window: OpenWindow, rclone_cloud: tuple[S3Server, str], local_dir: Path
) -> None:
    server, bucket = rclone_cloud
    assert server.data_dir is not None
    count = 20_000
    write_objects(server.data_dir / bucket / "many", count)
    wait_visible(server, bucket, f"many/object-{count - 1:06d}.txt")
    window = open_window(left=local_path(local_dir), right=local_path(local_dir))
    wait_listed(qtbot, window.right, local_path(local_dir))
    model, view = window.right.model, window.right.view

    def scrolled_to_the_end() -> bool:
        # As a user dragging the scroll bar down: reaching the bottom makes the view call fetchMore. A bar already
        # at the bottom when more rows arrive fetches nothing (see the xfail test below): nudge it up and back.
        bar = view.verticalScrollBar()
        if bar.value() == bar.maximum() and model.canFetchMore():
            bar.setValue(bar.maximum() - 1)
        view.scrollToBottom()
        return not model.is_loading and not model.canFetchMore()

    with Heartbeat() as beat:
        started = time.perf_counter()
        first_rows_s, arrived = time_to_first_rows(qtbot, window.right, SdPath.parse("cloud:many/"))
        qtbot.waitUntil(scrolled_to_the_end, timeout=LIST_TIMEOUT_MS)
        all_rows_s = time.perf_counter() - started

    figures = (
        f"20,000 objects: first rows after {first_rows_s * 1000:.0f} ms ({arrived:,} entries in by then), "
        f"all {model.rowCount():,} rows after "
        f"{all_rows_s:.2f} s; {beat.summary()}"
    )
    print(f"\n{figures}")
    assert 0 < arrived < count, f"the first rows waited for the whole listing ({arrived}); {figures}"
    assert model.rowCount() == count, figures
    assert model.entry(count - 1).name == f"object-{count - 1:06d}.txt"
    assert window.right.status_label.text() == f"{count:,} items", figures
    assert beat.longest_s < STALL_LIMIT_S, figures


def test_a_pane_scrolled_to_the_bottom_shows_pages_that_arrive_later(
    qtbot: QtBot, open_window: OpenWindow, rclone_cloud: tuple[S3Server, str], local_dir: Path
) -> None:
    server, bucket = rclone_cloud
    assert server.data_dir is not None
    count = 3_000
    write_objects(server.data_dir / bucket / "some", count)
    wait_visible(server, bucket, f"some/object-{count - 1:06d}.txt")
    window = open_window(left=local_path(local_dir), right=local_path(local_dir))
    wait_listed(qtbot, window.right, local_path(local_dir))
    model = window.right.model

    time_to_first_rows(qtbot, window.right, SdPath.parse("cloud:some/"))
    window.right.view.scrollToBottom()  # the user goes to the end of the first page and waits there
    wait_listed(qtbot, window.right, SdPath.parse("cloud:some/"))
    assert model.total_count == count
    # A page that arrived while the user waited at the end is on screen without any scrolling.
    qtbot.waitUntil(lambda: model.rowCount() > 1_000, timeout=2_000)
    view = window.right.view

    def all_rows_after_scrolling() -> bool:
        view.scrollToBottom()
        return model.rowCount() == count

    qtbot.waitUntil(all_rows_after_scrolling, timeout=5_000)


def test_copying_1000_small_files_never_stalls_the_gui(
    qtbot: QtBot, open_window: OpenWindow, rclone_cloud: tuple[S3Server, str], tmp_path: Path
) -> None:
    server, bucket = rclone_cloud
    source = tmp_path / "small"
    source.mkdir()
    for i in range(1000):
        (source / f"file-{i:04d}.bin").write_bytes(os.urandom(4096))
    window = open_window(left=local_path(tmp_path), right=SdPath.parse("cloud:"))
    wait_listed(qtbot, window.left, local_path(tmp_path))
    wait_listed(qtbot, window.right, SdPath.parse("cloud:"))
    focus(qtbot, window, window.left)
    select(window.left, "small")

    with Heartbeat() as beat:
        started = time.perf_counter()
        job_id = press(window, Qt.Key.Key_F5)
        state = wait_ended(qtbot, window, job_id)
        job_s = time.perf_counter() - started
        wait_names(qtbot, window.right, {"small"})  # the refresh after the job is measured too

    figures = f"1,000 x 4 KiB upload: {job_s:.2f} s; {beat.summary()}"
    print(f"\n{figures}")
    assert state.state == "finished", state.error
    assert state.files_copied == 1000, figures
    assert read_object(server, bucket, "small/file-0999.bin") == (source / "file-0999.bin").read_bytes()
    assert beat.longest_s < STALL_LIMIT_S, figures


def test_first_rows_of_a_100k_prefix_come_quickly(
    qtbot: QtBot, open_window: OpenWindow, rclone_cloud: tuple[S3Server, str], local_dir: Path
) -> None:
    server, bucket = rclone_cloud
    assert server.data_dir is not None
    count = 100_000
    write_objects(server.data_dir / bucket / "huge", count)
    wait_visible(server, bucket, f"huge/object-{count - 1:06d}.txt")
    window = open_window(left=local_path(local_dir), right=local_path(local_dir))
    wait_listed(qtbot, window.right, local_path(local_dir))

    with Heartbeat() as beat:
        first_rows_s, arrived = time_to_first_rows(qtbot, window.right, SdPath.parse("cloud:huge/"))
    figures = (
        f"100,000 objects: first rows after {first_rows_s * 1000:.0f} ms ({arrived:,} entries in by then); "
        f"{beat.summary()}"
    )
    print(f"\n{figures}")
    window.right.set_location(local_path(local_dir))  # leave: the rest of the listing is cancelled
    wait_listed(qtbot, window.right, local_path(local_dir))
    assert 0 < arrived < count, f"the first rows waited for the whole listing ({arrived}); {figures}"
    assert beat.longest_s < STALL_LIMIT_S, figures


def test_properties_name_the_check_a_foreign_object_is_verified_by(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F3 on an object another tool wrote with an S3 additional checksum: the checksum is listed, and it is what a
    download is checked against."""
    body = b"written by another tool"
    moto_s3.client().put_object(Bucket=cloud, Key="other.txt", Body=body, ChecksumAlgorithm="SHA256")
    text = _properties_of(qtbot, window, monkeypatch, "other.txt")
    assert f"sha256 {hashlib.sha256(body).hexdigest()}" in text
    assert f"md5 {hashlib.md5(body).hexdigest()}" in text
    assert "Stored blake3: — (not copied by sdgui)" in text
    assert "every download is checked against its sha256" in text  # the strongest it holds


def test_properties_show_a_composite_checksum_and_its_parts(
    qtbot: QtBot, window: MainWindow, moto_s3: S3Server, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multipart object another tool wrote with per-part CRC32s: Properties show the composite checksum, the
    part count, and that downloads are checked against it."""
    put_multipart(moto_s3, cloud, "parts.bin", os.urandom(5 * 1024 * 1024 + 1000), "CRC32", 5 * 1024 * 1024)
    text = _properties_of(qtbot, window, monkeypatch, "parts.bin")
    assert "crc32-composite" in text and "(2 parts)" in text
    assert "every download is checked against its crc32-composite" in text


def _properties_of(qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    """What F3 on ``name`` in the right pane shows."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    focus(qtbot, window, window.right)
    window.right.refresh()
    wait_names(qtbot, window.right, {name})
    select(window.right, name)
    QTest.keyClick(window.right.view, Qt.Key.Key_F3)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    return shown[0]
