"""What a strategy needs to copy one file: the two backends, the item, settings, cancel and progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sdgui.core.backends.base import DeferredSync, Entry, VolumeBackend
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.events import Verification
from sdgui.core.copy.flow.bandwidth import BandwidthLimiter
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.errors import SdError
from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:
    from sdgui.core.journal import FileRecord


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
    record: FileRecord | None = None
    """The file's entry in the job journal, when the job is journaled (it can then resume)."""
    stat: Entry | None = None
    """The source's stat, metadata included, when validation just asked for it (a single-file source)."""

    @property
    def is_folder(self) -> bool:
        """An empty folder of the source (no file stands for it): made at the destination, not copied."""
        return self.entry is not None and self.entry.is_dir

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


def resume_id(item: CopyItem) -> str:
    """The name under which a file's resume token is kept: its source and destination labels."""
    return f"{item.source_label} -> {item.destination_label}"


class ResumeTokens(Protocol):
    """Where a job keeps the resume tokens of its unfinished uploads (the job journal provides one).

    A token is a JSON-able dict (see ``sdgui.core.copy.upload.resumable.ResumeToken``: upload id, part size, parts);
    ``put`` is called after every part from the thread copying that file, so it must be thread-safe and should
    persist before returning. Keys come from ``resume_id(item)``.
    """

    def get(self, file_id: str) -> dict[str, Any] | None:
        """The token stored for ``file_id``, or None."""
        ...

    def put(self, file_id: str, token: dict[str, Any]) -> None:
        """Store ``token`` for ``file_id``, replacing the previous one."""
        ...

    def clear(self, file_id: str) -> None:
        """Forget the token of ``file_id`` (its upload was completed or aborted)."""
        ...


VERIFYING_SHOWN_FROM = 16 * 1024 * 1024
"""Files from this size report their check (the ``verifying`` phase); a smaller file's check takes a moment."""

VerifyingSink = Callable[[str, bool], None]
"""Hears (source label, True) when a file's check after its bytes were sent begins, (label, False) when it ends."""

ProgressSink = Callable[[int], None]
"""Receives byte deltas; the job sums them."""


class TransferTally:
    """A job's byte counts for this run: moved over the wire (or disk), and kept from an interrupted run."""

    def __init__(self) -> None:
        self.transferred = 0
        self.resumed = 0
        self._lock = threading.Lock()

    def add(self, transferred: int = 0, resumed: int = 0) -> None:
        with self._lock:
            self.transferred += transferred
            self.resumed += resumed


class FileProgress:
    """Bytes moved for one file. Until ``confirm`` it stays below the file's size, so a job never shows
    100 % before the destination has confirmed the last byte."""

    def __init__(self, size: int, on_change: ProgressSink, tally: TransferTally | None = None) -> None:
        self.size = size
        self._sent = 0
        self._resumed = 0
        self._confirmed = False
        self._on_change = on_change
        self._tally = tally or TransferTally()
        self._lock = threading.Lock()

    @property
    def shown(self) -> int:
        if self._confirmed:
            return self.size
        return min(self._sent + self._resumed, max(self.size - 1, 0))

    def add(self, nbytes: int) -> None:
        with self._lock:
            before = self.shown
            self._sent += nbytes
            delta = self.shown - before
        self._tally.add(transferred=nbytes)
        if delta:
            self._on_change(delta)

    @property
    def resumed(self) -> int:
        """Bytes kept from an interrupted run so far."""
        return self._resumed

    def add_resumed(self, nbytes: int) -> None:
        """Bytes an interrupted run left that this run keeps: shown as done, not counted as transferred."""
        with self._lock:
            before = self.shown
            self._resumed += nbytes
            delta = self.shown - before
        self._tally.add(resumed=nbytes)
        if delta:
            self._on_change(delta)

    def forget_resumed(self) -> None:
        """The kept bytes turned out unusable and are fetched again (the bar does not move back)."""
        with self._lock:
            resumed, self._sent, self._resumed = self._resumed, self._sent + self._resumed, 0
        self._tally.add(resumed=-resumed)

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
    etag_parts: dict[str, bool] = field(default_factory=dict)
    """Per source volume: False once its multipart ETags turned out to be no MD5 of the parts' MD5s."""
    resume_tokens: ResumeTokens | None = None
    """When set, large uploads to s3/r2 volumes keep a resume token here and can resume after a crash."""
    bandwidth: BandwidthLimiter = field(default_factory=BandwidthLimiter)
    """The job's bandwidth limit (and the process-wide one); the transfer loops pay every chunk through it."""
    deferred_sync: DeferredSync = field(default_factory=DeferredSync)
    """Small downloads leave their fsyncs here; the job flushes it before it reports its end."""
    on_verifying: VerifyingSink | None = None
    """The job's ear for ``verifying``: a strategy checking a file's bytes after they were sent says so."""

    @contextlib.contextmanager
    def verifying(self, item: CopyItem) -> Iterator[None]:
        """Wrap the check of ``item``'s bytes after they were sent (a checksum of the written file, a read-back):
        the job shows a ``verifying`` phase while every file in flight is in one. Small files stay silent."""
        sink = self.on_verifying
        if sink is None or item.size < VERIFYING_SHOWN_FROM:
            yield
            return
        sink(item.source_label, True)
        try:
            yield
        finally:
            sink(item.source_label, False)

    def throttle_bytes(self, nbytes: int) -> None:
        """Wait as long as the bandwidth limits ask before moving ``nbytes`` more (no-op without a limit)."""
        self.bandwidth.throttle_bytes(nbytes, self.cancel)


@dataclass(frozen=True)
class FileOutcome:
    """What a strategy proved about one copied file."""

    size: int
    blake3: str | None
    verified: Verification
    bytes_resumed: int = 0
    """Bytes kept from an interrupted run's partial file instead of being fetched again."""
    note: str = ""
    """Something the user should know, e.g. why a resumable file was copied again from the start."""
    check: str | None = None
    """The check that proved a ``verified`` copy: "blake3", or the provider's checksum ("crc64nvme", "md5"…)."""
