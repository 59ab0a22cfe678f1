"""Opening a file from a pane with the desktop's default application (Enter or a double-click on a file).

A local file opens where it is. A cloud file is first downloaded into the user cache (a folder per volume) by an
ordinary verified copy job, so it shows in Transfers and its bytes are checked, then opened when the job is done.
What was downloaded is remembered by size, ETag and modification time: opening the object again while the service
still reports the same reuses the cached copy.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from sdgui.core.backends.base import Entry
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath, safe_local_target
from sdgui.core.volumes import cache_dir
from sdgui.gui.error_text import error_text
from sdgui.gui.jobs.job_manager import JobManager
from sdgui.gui.jobs.worker import run_task

log = logging.getLogger(__name__)


def _fingerprint(entry: Entry) -> dict[str, Any]:
    return {
        "size": entry.size,
        "etag": entry.etag,
        "modified": entry.modified.timestamp() if entry.modified else None,
    }


@dataclass(frozen=True)
class _Download:
    path: SdPath
    target: Path
    fingerprint: dict[str, Any]


class FileOpener(QObject):
    """Opens files with the desktop's default application; ``open_url`` is what launches it (tests replace it)."""

    message = Signal(str)  # what the status bar says: downloading, cannot open

    def __init__(self, jobs: JobManager, backends: BackendCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.cache_root = cache_dir() / "opened"
        self._jobs = jobs
        self._backends = backends
        self._downloads: dict[str, _Download] = {}  # job id -> what it downloads
        jobs.job_ended.connect(self._on_job_ended)

    def cached_path(self, path: SdPath) -> Path:
        """Where the cloud file ``path`` is (or would be) cached; InvalidPathError for a key no disk can hold."""
        assert path.volume is not None
        return safe_local_target(self.cache_root / "files" / path.volume, path.backend_key)

    def open(self, path: SdPath) -> None:
        """Open the file ``path``: at once when local; a cloud file once it is in the cache (after a download job,
        unless the cached copy is still the object's)."""
        if path.is_local:
            self._launch(QUrl.fromLocalFile(path.path), path)
            return
        try:
            target = self.cached_path(path)
        except SdError as exc:
            self.message.emit(f"Cannot open {path}: {exc}")
            return
        if any(download.path == path for download in self._downloads.values()):
            self.message.emit(f"{path.name} is still downloading; it opens when it is done")
            return
        backends, volume, key = self._backends, path.volume, path.backend_key
        run_task(  # the service's word on the object now, not the listing's: it may have changed since
            lambda: backends.get(volume).stat(key),
            lambda stat: self._stat_done(path, target, stat),
            lambda exc: self.message.emit(f"Cannot open {path}: {error_text(exc)}"),
            context=self,
        )

    def _stat_done(self, path: SdPath, target: Path, stat: Entry) -> None:
        fingerprint = _fingerprint(stat)
        if self._index(path).get(path.backend_key) == fingerprint and _size_of(target) == stat.size:
            self._launch(QUrl.fromLocalFile(str(target)), path)
            return
        options = CopyOptions(on_conflict="overwrite", verify="on", preserve_mtime=True)
        action = CopyAction([path.as_file()], SdPath(None, str(target), False), options)
        job_id = self._jobs.submit(action, f"Open {path}")
        self._downloads[job_id] = _Download(path, target, fingerprint)
        self.message.emit(f"Downloading {path.name} to open it…")

    def _on_job_ended(self, job_id: str, state: str, destination: str) -> None:
        download = self._downloads.pop(job_id, None)
        if download is None:
            return
        if state != "finished":
            self.message.emit(f"Cannot open {download.path}: its download {state} (see Transfers)")
            return
        self._remember(download)
        if self._launch(QUrl.fromLocalFile(str(download.target)), download.path):
            self.message.emit(f"Opened {download.path.name} (downloaded and checked; a copy stays in the cache)")

    def _launch(self, url: QUrl, path: SdPath) -> bool:
        if self.open_url(url) is False:
            self.message.emit(f"No application opens {path.name}")
            return False
        return True

    # -- what is cached -------------------------------------------------------------------
    def _index_file(self, volume: str) -> Path:
        # Apart from the files: a volume's keys may use any name, the index's included.
        return self.cache_root / "index" / f"{volume}.json"

    def _index(self, path: SdPath) -> dict[str, Any]:
        assert path.volume is not None
        try:
            data = json.loads(self._index_file(path.volume).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _remember(self, download: _Download) -> None:
        path = download.path
        assert path.volume is not None
        index = self._index(path)
        index[path.backend_key] = download.fingerprint
        index_file = self._index_file(path.volume)
        try:
            index_file.parent.mkdir(parents=True, exist_ok=True)
            partial = index_file.with_name(index_file.name + ".partial")
            partial.write_text(json.dumps(index), encoding="utf-8")
            os.replace(partial, index_file)
        except OSError as exc:  # the file still opens; the next open downloads it again
            log.warning("cannot record the cached copy of %s: %s", path, exc)


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
