"""ListingModel against a real local directory and a real S3 bucket (moto), with QAbstractItemModelTester attached."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QThreadPool, QUrl
from PySide6.QtTest import QAbstractItemModelTester

from sdgui.core.backends.factory import BackendCache
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from sdgui.gui.models.listing_model import PATHS_MIME, Column, ListingModel, paths_from_mime
from tests.copying import add_volume
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(120)

BIG_FILES = 2500
BIG_DIRS = 5
PAGE = 500


def fill_bucket(server: S3Server, bucket: str, keys: list[str]) -> None:
    client = server.client()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"x" * (len(key) % 7)), keys))


@pytest.fixture(scope="module")
def big_bucket(moto_s3: S3Server) -> Iterator[str]:
    """2,500 objects under big/ plus five sub-prefixes, and one object at the root."""
    name = moto_s3.new_bucket("listing")
    keys = [f"big/file-{i:04d}.bin" for i in range(BIG_FILES)]
    keys += [f"big/sub-{d}/inner-{j}.txt" for d in range(BIG_DIRS) for j in range(3)]
    keys.append("top.txt")
    fill_bucket(moto_s3, name, keys)
    yield name
    moto_s3.delete_bucket(name)


@pytest.fixture(autouse=True)
def _drain_pool() -> Iterator[None]:
    yield
    # A superseded listing may still be reading its page; let it end before the next test's servers change.
    QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def local_tree(tmp_path: Path) -> Path:
    for name in ("beta", "Alpha", "gamma"):
        (tmp_path / name).mkdir()
    for name, size in (("b.txt", 10), ("a.bin", 2_000_000), ("C.md", 0), ("d.tar.gz", 12_345_678)):
        (tmp_path / name).write_bytes(b"z" * size)
    return tmp_path


def watched_model(page_size: int = PAGE) -> tuple[ListingModel, QAbstractItemModelTester]:
    model = ListingModel(page_size=page_size)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    return model, tester


def test_local_directory_lists_folders_first_with_sizes(qtbot, local_tree: Path) -> None:
    model, _tester = watched_model()
    cache = BackendCache(VolumeRegistry())
    location = SdPath(None, str(local_tree), True)
    with qtbot.waitSignal(model.finished_listing, timeout=10_000) as finished:
        model.set_location(cache.get(None), location)
    assert finished.args == [7]
    names = [entry.name for entry in model.row_entries()]
    assert names == ["Alpha", "beta", "gamma", "a.bin", "b.txt", "C.md", "d.tar.gz"]
    assert model.rowCount() == 8 and model.entry(0) is None and model.is_parent_row(0)  # ".." first
    assert model.data(model.index(0, Column.NAME)) == ".."
    assert model.path_for(1) == SdPath(None, str(local_tree / "Alpha"), True)
    assert model.path_for(7) == SdPath(None, str(local_tree / "d.tar.gz"), False)
    big = model.index(7, Column.SIZE)
    assert model.data(big) == "12.3 MB"
    assert model.data(big, Qt.ItemDataRole.ToolTipRole) == "12,345,678 bytes"
    assert model.data(big, Qt.ItemDataRole.UserRole) == 12_345_678
    assert model.data(model.index(1, Column.SIZE)) == ""
    assert model.data(model.index(1, Column.KIND)) == "Folder"
    assert "Tar archive" in model.data(model.index(7, Column.KIND))
    assert not model.data(model.index(1, Column.NAME), Qt.ItemDataRole.DecorationRole).isNull()
    assert model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsDropEnabled
    assert not model.flags(model.index(5, 0)) & Qt.ItemFlag.ItemIsDropEnabled
    assert model.flags(model.index(5, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    parent_flags = model.flags(model.index(0, 0))  # "..": the cursor may stand on it, nothing selects or drags it
    assert not parent_flags & (Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
    with pytest.raises(LookupError):
        model.path_for(0)
    assert not model.is_loading and model.names() == set(names)  # ".." is no name of the folder


def test_sort_by_size_keeps_folders_first(qtbot, local_tree: Path) -> None:
    model, _tester = watched_model()
    with qtbot.waitSignal(model.finished_listing, timeout=10_000):
        model.set_location(BackendCache(VolumeRegistry()).get(None), SdPath(None, str(local_tree), True))
    model.sort(Column.SIZE, Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, Column.NAME)) == ".."  # first whatever the sort
    names = [entry.name for entry in model.row_entries()]
    assert names[:3] == ["gamma", "beta", "Alpha"]
    assert names[3:] == ["d.tar.gz", "a.bin", "b.txt", "C.md"]


def test_big_prefix_arrives_in_pages(qtbot, moto_s3: S3Server, big_bucket: str) -> None:
    add_volume(moto_s3, big_bucket, "big")
    model, _tester = watched_model()
    inserted: list[tuple[int, int, bool, bool]] = []
    model.rowsInserted.connect(
        lambda _parent, first, last: inserted.append((first, last, model.is_loading, model.canFetchMore(QModelIndex())))
    )
    arrived: list[int] = []
    model.arrived.connect(arrived.append)
    started = time.monotonic()
    with qtbot.waitSignal(model.finished_listing, timeout=60_000) as finished:
        model.set_location(BackendCache(VolumeRegistry()).get("big"), SdPath.parse("big:big/"))
        qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
        first_rows_after = time.monotonic() - started
    total = BIG_FILES + BIG_DIRS
    assert finished.args == [total]
    # The first page showed while the listing was still running, on its own.
    assert inserted[0][:3] == (1, PAGE, True)  # below ".."
    assert first_rows_after < 5.0, f"first rows took {first_rows_after:.2f} s"
    assert len(arrived) >= total // PAGE and arrived[-1] == total
    # Nobody asked for more, yet every entry became a row, in batches that each append at the end.
    assert model.rowCount() == total + 1 and not model.canFetchMore(QModelIndex())
    assert [first for first, *_ in inserted] == sorted(first for first, *_ in inserted)
    assert sum(last - first + 1 for first, last, *_ in inserted) == total
    # The sub-prefixes (listed last by S3) were merged into place: folders lead.
    entries = model.row_entries()
    assert [entry.name for entry in entries[:BIG_DIRS]] == [f"sub-{d}" for d in range(BIG_DIRS)]
    assert all(entry.is_dir for entry in entries[:BIG_DIRS])
    assert model.path_for(1) == SdPath("big", "big/sub-0", True)
    assert [entry.name for entry in entries[BIG_DIRS:]] == [f"file-{i:04d}.bin" for i in range(BIG_FILES)]
    assert not entries[BIG_DIRS].is_dir
    assert model.path_for(BIG_DIRS + 1) == SdPath("big", "big/file-0000.bin", False)


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_a_batch_out_of_order_merges_and_the_selection_follows(qtbot, tmp_path: Path, order: Qt.SortOrder) -> None:
    """A local folder lists in no order: later batches merge into the sorted rows; a selected row stays selected."""
    for i in range(0, 3000, 3):  # names whose listing order is scrambled against their sorted order
        (tmp_path / f"f-{(i * 7919) % 3000:04d}").write_bytes(b"")
    for name in ("zz-dir", "aa-dir"):
        (tmp_path / name).mkdir()
    model, _tester = watched_model(page_size=100)
    model.sort(Column.NAME, order)
    selected: list[str] = []

    def remember_first_rows(_parent: QModelIndex, first: int, last: int) -> None:
        if first == 1 and not selected:
            selected.append(model.entry(5).name)
            persistent.append(QPersistentModelIndex(model.index(5, 0)))

    persistent: list[QPersistentModelIndex] = []
    model.rowsInserted.connect(remember_first_rows)
    with qtbot.waitSignal(model.finished_listing, timeout=30_000) as finished:
        model.set_location(BackendCache(VolumeRegistry()).get(None), SdPath(None, str(tmp_path), True))
    names = [entry.name for entry in model.row_entries()]
    assert finished.args == [1002] and len(names) == 1002 and model.is_parent_row(0)
    descending = order == Qt.SortOrder.DescendingOrder
    assert names[:2] == (["zz-dir", "aa-dir"] if descending else ["aa-dir", "zz-dir"])  # folders first either way
    assert names[2:] == sorted(names[2:], reverse=descending)
    assert model.entry(persistent[0].row()).name == selected[0]


def test_location_change_drops_pages_of_the_old_listing(qtbot, moto_s3: S3Server, big_bucket: str, local_tree) -> None:
    add_volume(moto_s3, big_bucket, "big")
    cache = BackendCache(VolumeRegistry())
    model, _tester = watched_model(page_size=100)
    finished: list[int] = []
    model.finished_listing.connect(finished.append)
    model.set_location(cache.get("big"), SdPath.parse("big:big/"))
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
    old_generation = model.generation
    with qtbot.waitSignal(model.finished_listing, timeout=10_000):
        model.set_location(cache.get(None), SdPath(None, str(local_tree), True))
    assert model.generation > old_generation
    # Let the old reader notice the cancel (or finish) and deliver whatever it had queued.
    assert QThreadPool.globalInstance().waitForDone(30_000)
    QCoreApplication.processEvents()
    QCoreApplication.processEvents()
    assert finished == [7]
    assert model.rowCount() == 8 and not model.canFetchMore(QModelIndex())
    assert all(model.path_for(row).volume is None for row in range(1, model.rowCount()))


def test_unknown_bucket_reports_the_volume(qtbot, moto_s3: S3Server) -> None:
    add_volume(moto_s3, "no-such-bucket-for-sdgui", "ghost")
    model, _tester = watched_model()
    loading: list[bool] = []
    model.loading_changed.connect(loading.append)
    with qtbot.waitSignal(model.error, timeout=30_000) as failed:
        model.set_location(BackendCache(VolumeRegistry()).get("ghost"), SdPath.parse("ghost:"))
    assert "ghost" in failed.args[0] and "not-found" in failed.args[0]
    assert loading == [True, False] and model.last_error == failed.args[0]
    assert model.rowCount() == 0


def test_opening_the_backend_fails_in_the_reader(qtbot, moto_s3: S3Server, monkeypatch) -> None:
    add_volume(moto_s3, "whatever", "nokey")
    monkeypatch.delenv("SDGUI_TEST_SECRET_NOKEY")
    cache = BackendCache(VolumeRegistry())
    model, _tester = watched_model()
    with qtbot.waitSignal(model.error, timeout=10_000) as failed:
        model.set_location(lambda: cache.get("nokey"), SdPath.parse("nokey:"))
    assert "credentials" in failed.args[0] and "nokey" in failed.args[0]


def _listed(qtbot, location: SdPath, backend_volume: str | None = None) -> ListingModel:
    model = ListingModel(page_size=PAGE)
    with qtbot.waitSignal(model.finished_listing, timeout=30_000):
        model.set_location(BackendCache(VolumeRegistry()).get(backend_volume), location)
    return model


def test_mime_round_trip_local(qtbot, local_tree: Path) -> None:
    model = _listed(qtbot, SdPath(None, str(local_tree), True))
    indexes = [model.index(row, column) for row in (0, 1, 4) for column in range(4)]  # ".." is not dragged
    mime = model.mimeData(indexes)
    assert set(model.mimeTypes()) <= set(mime.formats())
    expected = [model.path_for(1), model.path_for(4)]
    assert paths_from_mime(mime) == expected
    assert [url.toLocalFile() for url in mime.urls()] == [str(local_tree / "Alpha"), str(local_tree / "a.bin")]
    # A desktop file manager sends only file:// URLs.
    desktop = QMimeData()
    desktop.setUrls([QUrl.fromLocalFile(str(local_tree / "beta")), QUrl("https://example.invalid/x")])
    assert paths_from_mime(desktop) == [SdPath(None, str(local_tree / "beta"), True)]
    # The clipboard form: one path a line.
    plain = QMimeData()
    plain.setData(PATHS_MIME, b"cloud:a/b\ncloud:dir/\n")
    assert paths_from_mime(plain) == [SdPath("cloud", "a/b"), SdPath("cloud", "dir", True)]


def test_mime_round_trip_cloud(qtbot, moto_s3: S3Server, big_bucket: str) -> None:
    add_volume(moto_s3, big_bucket, "big")
    model = _listed(qtbot, SdPath.parse("big:"), "big")
    assert not model.is_parent_row(0)  # a volume's root has no ".."
    rows = {entry.name: row for row, entry in enumerate(model.row_entries())}
    assert set(rows) == {"big", "top.txt"} and model.rowCount() == 2
    mime = model.mimeData([model.index(rows["big"], 0), model.index(rows["top.txt"], 1)])
    assert paths_from_mime(mime) == [SdPath("big", "big", True), SdPath("big", "top.txt")]
    assert not mime.hasUrls()


def test_drop_emits_request_and_refuses_drops_onto_themselves(qtbot, local_tree: Path) -> None:
    model = _listed(qtbot, SdPath(None, str(local_tree), True))
    sources = [SdPath("cloud", "x/report.pdf"), SdPath("cloud", "x/photos", True)]
    mime = QMimeData()
    mime.setData(PATHS_MIME, ('["' + '", "'.join(str(s) for s in sources) + '"]').encode())
    copy, move = Qt.DropAction.CopyAction, Qt.DropAction.MoveAction
    assert model.canDropMimeData(mime, copy, -1, -1, QModelIndex())
    with qtbot.waitSignal(model.drop_requested) as dropped:
        assert model.dropMimeData(mime, copy, -1, -1, QModelIndex())
    assert dropped.args == [sources, SdPath(None, str(local_tree), True), False]
    with qtbot.waitSignal(model.drop_requested) as dropped:
        assert model.dropMimeData(mime, move, -1, -1, model.index(1, 0))  # onto the folder "Alpha"
    assert dropped.args == [sources, SdPath(None, str(local_tree / "Alpha"), True), True]
    # Dropped onto a file row: lands in the listed folder.
    with qtbot.waitSignal(model.drop_requested) as dropped:
        assert model.dropMimeData(mime, copy, -1, -1, model.index(5, 0))
    assert dropped.args[1] == SdPath(None, str(local_tree), True)
    # Dropped onto "..": lands in the parent folder, as in Double Commander.
    with qtbot.waitSignal(model.drop_requested) as dropped:
        assert model.dropMimeData(mime, copy, -1, -1, model.index(0, 0))
    assert dropped.args[1] == SdPath(None, str(local_tree.parent), True)
    own = model.mimeData([model.index(1, 0), model.index(5, 0)])
    assert not model.canDropMimeData(own, copy, -1, -1, QModelIndex())  # already here
    assert not model.canDropMimeData(own, copy, -1, -1, model.index(1, 0))  # a folder into itself
    assert not model.canDropMimeData(mime, Qt.DropAction.LinkAction, -1, -1, QModelIndex())
    assert not model.canDropMimeData(QMimeData(), copy, -1, -1, QModelIndex())


def test_paths_from_mime_skips_bad_entries() -> None:
    mime = QMimeData()
    mime.setData(PATHS_MIME, b'["cloud:ok", "bad name:x", 3, ""]')
    assert paths_from_mime(mime) == [SdPath("cloud", "ok")]


def test_filter_narrows_widens_and_keeps_the_parent_row_and_the_sort(qtbot, local_tree: Path) -> None:
    model, _tester = watched_model()
    with qtbot.waitSignal(model.finished_listing, timeout=10_000):
        model.set_location(BackendCache(VolumeRegistry()).get(None), SdPath(None, str(local_tree), True))
    kept = QPersistentModelIndex(model.index(5, 0))  # b.txt
    assert model.entry(kept.row()).name == "b.txt"
    gone = QPersistentModelIndex(model.index(4, 0))  # a.bin

    with qtbot.waitSignal(model.filter_changed):
        model.set_filter("T")  # case-insensitive substring
    assert [entry.name for entry in model.row_entries()] == ["beta", "b.txt", "d.tar.gz"]
    assert model.rowCount() == 4 and model.is_parent_row(0)
    assert model.match_count == 3 and model.total_count == 7 and model.filter_text == "T"
    assert model.entry(kept.row()).name == "b.txt" and not gone.isValid()  # the entries that stay keep their index

    model.set_filter("tx")
    assert [entry.name for entry in model.row_entries()] == ["b.txt"]
    model.sort(Column.SIZE, Qt.SortOrder.DescendingOrder)
    model.set_filter("a")  # wider again: from every entry, in the sort of the moment
    assert [entry.name for entry in model.row_entries()] == ["gamma", "beta", "Alpha", "d.tar.gz", "a.bin"]
    assert model.data(model.index(0, 0)) == ".."
    model.set_filter("")
    assert [entry.name for entry in model.row_entries()] == [
        "gamma",
        "beta",
        "Alpha",
        "d.tar.gz",
        "a.bin",
        "b.txt",
        "C.md",
    ]
    assert model.names() == {"gamma", "beta", "Alpha", "d.tar.gz", "a.bin", "b.txt", "C.md"}
    model.set_filter("nothing-matches")
    assert model.rowCount() == 1 and model.row_entries() == []
    assert model.names() >= {"b.txt"}  # still known, for conflict checks


def test_filter_holds_for_pages_that_arrive_later(qtbot, moto_s3: S3Server, big_bucket: str) -> None:
    add_volume(moto_s3, big_bucket, "big")
    model, _tester = watched_model(page_size=100)
    model.set_filter("-00")  # file-0000 … file-0099, before the listing starts: it holds for every page
    inserted: list[list[str]] = []
    model.rowsInserted.connect(
        lambda _parent, first, last: inserted.append([model.entry(row).name for row in range(first, last + 1)])
    )
    with qtbot.waitSignal(model.finished_listing, timeout=60_000) as finished:
        model.set_location(BackendCache(VolumeRegistry()).get("big"), SdPath.parse("big:big/"))
    assert finished.args == [BIG_FILES + BIG_DIRS] and model.total_count == BIG_FILES + BIG_DIRS
    assert [entry.name for entry in model.row_entries()] == [f"file-{i:04d}.bin" for i in range(100)]
    assert all("-00" in name for batch in inserted for name in batch)
    model.set_filter("sub-")  # the folders S3 listed last were kept aside in order
    assert [entry.name for entry in model.row_entries()] == [f"sub-{d}" for d in range(BIG_DIRS)]
    model.set_filter("")
    assert model.rowCount() == BIG_FILES + BIG_DIRS + 1
