"""DeferredSync makes a batch durable: one filesystem sync per device where syncfs exists, else an fsync of every
file and of its folder; either way each folder of the batch is looked at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core.backends import atomic_file
from sdgui.core.backends.atomic_file import AtomicFile, DeferredSync

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an fd through /proc")


def _batch(tmp_path: Path, later: DeferredSync) -> dict[Path, bytes]:
    written = {}
    for folder in ("a", "b"):
        for i in range(3):
            target = tmp_path / folder / f"f{i}.bin"
            body = os.urandom(100 + i)
            file = AtomicFile(str(target), volume=None, key=str(target))
            file.pwrite(body, 0)
            file.commit(later=later)
            written[target] = body
    return written


def _count_syncs(monkeypatch: pytest.MonkeyPatch, *, syncfs_works: bool) -> tuple[list[str], list[str]]:
    syncfs_calls: list[str] = []
    fsynced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic_file, "_syncfs", lambda folder: (syncfs_calls.append(folder), syncfs_works)[1])

    def fsync(fd: int) -> None:
        fsynced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return syncfs_calls, fsynced


def _flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, syncfs_works: bool
) -> tuple[DeferredSync, list[str], list[str], dict[Path, bytes]]:
    later = DeferredSync()
    syncfs_calls, fsynced = _count_syncs(monkeypatch, syncfs_works=syncfs_works)
    written = _batch(tmp_path, later)
    later.flush()
    return later, syncfs_calls, fsynced, written


def test_one_filesystem_sync_for_a_batch_over_two_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, syncfs_calls, fsynced, written = _flushed(tmp_path, monkeypatch, syncfs_works=True)
    assert syncfs_calls == [str(tmp_path / "a")]  # the second folder is on the device already synced
    assert fsynced == []
    assert all(path.read_bytes() == body for path, body in written.items())


def test_without_syncfs_every_file_and_its_folder_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later, syncfs_calls, fsynced, written = _flushed(tmp_path, monkeypatch, syncfs_works=False)
    assert syncfs_calls == [str(tmp_path / "a"), str(tmp_path / "b")]  # tried once per folder, not per file
    assert sorted(p for p in fsynced if p.endswith(".bin")) == sorted(str(p) for p in written)
    assert fsynced.count(str(tmp_path / "a")) == 3 and fsynced.count(str(tmp_path / "b")) == 3
    later.flush()  # nothing left
    assert len(fsynced) == 12
