"""Deleting files, objects and whole folders as one cancellable job that reports typed events (``sdgui rm``, F8).

A folder is deleted by its backend's ``delete_tree`` (local: files first, then the emptied directories bottom-up,
never following a symlink; object stores: object by object). Cancelling stops between objects: what was not
deleted yet stays whole.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.events import JobEvent
from sdgui.core.journal import JobRecord, Journal, JournalError
from sdgui.core.paths import SdPath

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.25
"""At most this often a DeleteProgress (one per object would flood a window and a terminal)."""


@dataclass(frozen=True)
class DeleteStarted(JobEvent):
    type: ClassVar[str] = "delete_started"
    targets: list[str] = field(default_factory=list)
    recursive: bool = False


@dataclass(frozen=True)
class DeleteProgress(JobEvent):
    type: ClassVar[str] = "delete_progress"
    deleted: int
    current: str


@dataclass(frozen=True)
class DeleteFinished(JobEvent):
    type: ClassVar[str] = "delete_finished"
    deleted: int
    elapsed_s: float


@dataclass(frozen=True)
class DeleteFailed(JobEvent):
    type: ClassVar[str] = "delete_failed"
    error: str
    message: str
    deleted: int = 0


@dataclass(frozen=True)
class DeleteCancelled(JobEvent):
    type: ClassVar[str] = "delete_cancelled"
    deleted: int = 0


DeleteEnd = DeleteFinished | DeleteFailed | DeleteCancelled


@dataclass(frozen=True)
class DeleteAction:
    """What to delete: ``targets`` (files, or folders when ``recursive``)."""

    targets: list[SdPath]
    recursive: bool = False

    KIND: ClassVar[str] = "delete"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data the job journal keeps (``kind`` tells it from a copy or move)."""
        return {"kind": self.KIND, "targets": [t.to_dict() for t in self.targets], "recursive": self.recursive}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeleteAction:
        return cls([SdPath.from_dict(t) for t in data["targets"]], bool(data.get("recursive", False)))

    def summary(self) -> str:
        """``delete /data/old/`` or ``delete 3 targets (a.txt, …)``."""
        first = str(self.targets[0]) if self.targets else "?"
        return f"delete {first}" if len(self.targets) == 1 else f"delete {len(self.targets)} targets ({first}, …)"

    def validate(self) -> None:
        """InvalidPathError for an empty list or a volume's root (deleting a whole bucket is not a gesture)."""
        if not self.targets:
            raise errors.InvalidPathError("nothing to delete")
        for target in self.targets:
            if target.volume is not None and not target.backend_key.strip("/"):
                raise errors.InvalidPathError("refusing to delete a whole volume", volume=target.volume, path="")
            if target.volume is None and target.path.rstrip("/") in ("", "/"):
                raise errors.InvalidPathError("refusing to delete the root directory", path=target.path)


class DeleteJob:
    """Runs one DeleteAction; ``run(sink)`` reports events and returns the last one; ``cancel()`` from any thread."""

    def __init__(
        self,
        action: DeleteAction,
        backends: BackendCache,
        *,
        job_id: str | None = None,
        journal: Journal | None = None,
    ) -> None:
        """With a ``journal`` the job is recorded there until it finishes, so an interrupted delete is offered
        again (``sdgui jobs``, the window's unfinished bar); running it again deletes what is left."""
        self.action = action
        self.backends = backends
        self.job_id = job_id or os.urandom(6).hex()  # uuid4().hex[:12] without uuid, which imports platform
        self.journal = journal
        self._record: JobRecord | None = None
        self._resumed = False
        self.token = CancelToken()
        self.deleted = 0
        self._last_progress = 0.0

    def cancel(self) -> None:
        self.token.cancel()

    def run(self, sink: Callable[[JobEvent], None]) -> DeleteEnd:
        started = time.monotonic()
        sink(DeleteStarted(self.job_id, [str(t) for t in self.action.targets], self.action.recursive))
        final: DeleteEnd
        try:
            self.action.validate()
            self._begin_journal()
            for target in self.action.targets:
                self._delete(target, sink)
        except errors.CancelledError:
            final = DeleteCancelled(self.job_id, self.deleted)
        except errors.SdError as exc:
            final = DeleteFailed(self.job_id, exc.kind, str(exc), self.deleted)
        else:
            final = DeleteFinished(self.job_id, self.deleted, time.monotonic() - started)
        if self._record is not None:
            finished, cancelled = isinstance(final, DeleteFinished), isinstance(final, DeleteCancelled)
            self._record.end("finished" if finished else "cancelled" if cancelled else "failed")
        sink(final)
        return final

    def _begin_journal(self) -> None:
        if self.journal is None:
            return
        try:
            try:
                self._resumed = self.journal.job(self.job_id).id == self.job_id
            except errors.NotFoundError:
                self._resumed = False
            self._record = self.journal.begin(self.job_id, self.action)
        except JournalError as exc:
            log.warning("%s; this delete runs without it", exc)

    def _delete(self, target: SdPath, sink: Callable[[JobEvent], None]) -> None:
        self.token.check()
        backend = self.backends.get(target.volume)
        key = target.backend_key
        if target.is_dir or backend.is_dir(key):
            if not self.action.recursive:
                raise errors.InvalidPathError("is a folder; delete it with its contents (-r)", path=str(target))

            def deleted(child: str) -> None:
                self.deleted += 1
                now = time.monotonic()
                if now - self._last_progress >= PROGRESS_EVERY_S:
                    self._last_progress = now
                    sink(DeleteProgress(self.job_id, self.deleted, child))

            backend.delete_tree(key, self.token, on_deleted=deleted)
        else:
            try:
                backend.stat(key)  # NotFoundError for a typo: `rm` of nothing must not look like success
            except errors.NotFoundError:
                if not self._resumed:  # ... unless an interrupted run of this job deleted it already
                    raise
                return
            backend.delete(key)
            self.deleted += 1
        sink(DeleteProgress(self.job_id, self.deleted, str(target)))
