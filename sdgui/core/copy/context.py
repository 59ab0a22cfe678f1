"""What a strategy needs to copy one file: the two backends, the item, settings, cancel and progress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.copy.cancel import CancelToken
from sdgui.core.copy.events import Verification
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.errors import SdError
from sdgui.core.settings import TransferSettings


@dataclass
class CopyItem:
    """One file to copy: where from, where to, and how big the listing said it was."""

    src: VolumeBackend
    src_key: str
    dst: VolumeBackend
    dst_key: str
    size: int
    entry: Entry | None = None
    refused: SdError | None = None
    """Set when the planner refused this file (e.g. a key that would escape the target directory)."""

    @property
    def source_label(self) -> str:
        return label_of(self.src, self.src_key)

    @property
    def destination_label(self) -> str:
        return label_of(self.dst, self.dst_key)


def label_of(backend: VolumeBackend, key: str) -> str:
    """How a user names ``key`` on ``backend``: ``/abs/path`` for local files, ``volume:key`` otherwise."""
    if backend.capabilities.is_local and backend.volume == "local":
        return "/" + key.lstrip("/")
    return f"{backend.volume}:{key}"


ProgressSink = Callable[[int], None]
"""Receives byte deltas; the job sums them."""


class FileProgress:
    """Bytes moved for one file. Until ``confirm`` it stays below the file's size, so a job never shows
    100 % before the destination has confirmed the last byte."""

    def __init__(self, size: int, on_change: ProgressSink) -> None:
        self.size = size
        self._sent = 0
        self._confirmed = False
        self._on_change = on_change
        self._lock = threading.Lock()

    @property
    def shown(self) -> int:
        if self._confirmed:
            return self.size
        return min(self._sent, max(self.size - 1, 0))

    def add(self, nbytes: int) -> None:
        with self._lock:
            before = self.shown
            self._sent += nbytes
            delta = self.shown - before
        if delta:
            self._on_change(delta)

    def confirm(self) -> None:
        with self._lock:
            before = self.shown
            self._confirmed = True
            delta = self.shown - before
        if delta:
            self._on_change(delta)


@dataclass
class CopyContext:
    """Settings shared by every file of one job."""

    settings: TransferSettings
    cancel: CancelToken
    verify: VerifyMode = "on"
    preserve_mtime: bool = True
    range_support: dict[str, bool] = field(default_factory=dict)
    """Per source volume: False once a server answered a ranged GET with the whole object."""


@dataclass(frozen=True)
class FileOutcome:
    """What a strategy proved about one copied file."""

    size: int
    blake3: str | None
    verified: Verification
