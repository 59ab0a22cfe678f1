"""A job's files as a bounded stream: a producer thread lists the sources page by page, journals each batch and
hands it to the copy workers, so the first file moves while a prefix of millions is still being listed and memory
stays flat however large the listing (rclone's march: a bounded channel between lister and transfers)."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sdgui.core import errors
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.action import ResolvedAction, ResolvedSource
from sdgui.core.copy.context import CopyItem, label_of
from sdgui.core.journal import JobRecord, JournalError
from sdgui.core.paths import relative_key, safe_relative_key

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
"""Files handed over at most at once (a listing page)."""
QUEUE_DEPTH = 2
"""Batches listed ahead of the copy workers: what bounds the memory of a job over a huge prefix."""
_PUT_SLICE_S = 0.2

Batch = list[CopyItem]


@dataclass(frozen=True)
class ExpansionTotals:
    """What the listing has found so far."""

    files: int
    bytes: int
    final: bool


class Expansion:
    """Lists the sources of a resolved action in a thread of its own; ``batches`` yields them as they come.

    ``on_batch`` is called (in the listing thread) with each batch before the workers see it: the job grows its
    totals there. A listing error ends the stream and is raised by ``batches`` after the batches before it.
    """

    def __init__(
        self,
        resolved: ResolvedAction,
        cancel: CancelToken,
        *,
        record: Callable[[], JobRecord | None],
        on_batch: Callable[[Batch], None],
        batch_size: int | None = None,
    ) -> None:
        self.resolved = resolved
        self.cancel = cancel
        self._record = record
        self._on_batch = on_batch
        self._batch_size = max(1, batch_size or BATCH_SIZE)
        self._local_roots: dict[str, str | None] = {}  # a target folder's key as the local destination names it
        self._queue: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._stop = threading.Event()
        self._first = threading.Event()
        self.ended = False
        self._thread = threading.Thread(target=self._produce, name="sdgui-listing", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_first(self) -> None:
        """Block until the first batch is listed (or the listing ended): a JobStarted then has something to say."""
        while not self._first.wait(_PUT_SLICE_S):
            if self.cancel.cancelled:
                return

    def batches(self) -> Iterator[Batch]:
        """The batches in listing order; raises the listing's error, if any, after the batches before it."""
        while True:
            try:
                item = self._queue.get(timeout=_PUT_SLICE_S)
            except queue.Empty:
                self.cancel.check()
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        """End the listing early (the job stops); returns once its thread has."""
        self._stop.set()
        self._thread.join(timeout=10)

    # -- the listing thread -------------------------------------------------------------------------------------
    def _produce(self) -> None:
        try:
            batch: Batch = []
            for item in self._items():
                batch.append(item)
                if len(batch) >= self._batch_size:
                    self._hand_over(batch)
                    batch = []
            if batch:
                self._hand_over(batch)
            self.ended = True
            self._first.set()
            self._offer(None)
        except _Stopped:
            self._first.set()
        except BaseException as exc:  # raised to the job by batches()
            self.ended = True
            self._first.set()
            with contextlib.suppress(_Stopped):
                self._offer(exc)

    def _hand_over(self, batch: Batch) -> None:
        self._journal(batch)
        self._on_batch(batch)
        self._first.set()
        self._offer(batch)

    def _offer(self, item: Batch | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_PUT_SLICE_S)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _journal(self, batch: Batch) -> None:
        record = self._record()
        if record is None:
            return
        files = [item for item in batch if not item.is_folder]  # an empty folder is made again on a resume
        try:
            records = record.files([(item.source_label, item.dst_key, item.size) for item in files])
        except JournalError as exc:
            log.warning("%s; the rest of this job is not journaled", exc)
            return
        for item, file_record in zip(files, records, strict=True):
            item.record = file_record

    def _items(self) -> Iterator[CopyItem]:
        for source in self.resolved.sources:
            yield from self._source_items(source)

    def _source_items(self, source: ResolvedSource) -> Iterator[CopyItem]:
        dst = self.resolved.dst_backend
        if not source.is_dir:
            yield CopyItem(source.backend, source.key, dst, source.target_key, source.size, stat=source.stat)
            return
        for page in source.backend.list(source.key, recursive=True):
            if self._stop.is_set():
                raise _Stopped
            self.cancel.check()
            for entry in page:
                if entry.is_dir and entry.key.strip("/") == source.key:
                    # The folder's own marker (an object store lists it): the folder is made at the target too.
                    yield CopyItem(source.backend, source.key, dst, source.target_key, 0, entry)
                    continue
                rel = relative_key(source.key, entry.key)
                refused: errors.SdError | None = None
                try:
                    target = self._target_key(source.target_key, rel)
                except errors.InvalidPathError as exc:
                    target = f"{source.target_key}/{rel}"
                    refused = exc.at(path=label_of(source.backend, entry.key))  # the object that cannot land
                yield CopyItem(source.backend, entry.key, dst, target, entry.size, entry, refused)

    def _target_key(self, base: str, rel: str) -> str:
        if base not in self._local_roots:
            self._local_roots[base] = self._local_root(base)
        root = self._local_roots[base]
        if root is None:
            return f"{base}/{rel}" if base else rel
        # Keys from a listing may try to climb out of the target directory: refuse, write nothing.
        checked = safe_relative_key(rel)
        return f"{root}/{checked}" if root else checked

    def _local_root(self, base: str) -> str | None:
        """The key of the target folder ``base`` as a local destination names it (once per folder, not per file);
        None where the destination is not a local disk."""
        dst = self.resolved.dst_backend
        path = dst.local_path(base)
        return None if path is None else dst.key_of_local(path)


class _Stopped(BaseException):
    """The job stopped the listing; nobody waits for its batches any more."""
