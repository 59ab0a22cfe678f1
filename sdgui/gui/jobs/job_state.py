"""JobState: what the window knows about one copy job: the core's JobSummary, plus what the window adds (its
title, the action to retry, a cancel asked for). Plain Python, no Qt."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import Direction, FileDone, FileFailed, FileRetrying, FileSkipped, JobEvent, JobFailed
from sdgui.core.copy.summary import ACTIVE_STATES, ENDED_STATES, RETRY_LOG_LIMIT, JobStatus, JobSummary, retry_text
from sdgui.core.delete import DeleteAction
from sdgui.core.journal import JobInfo
from sdgui.core.paths import SdPath
from sdgui.gui.error_text import exists_text, several_exist_text

__all__ = ["ACTIVE_STATES", "ENDED_STATES", "RETRY_LOG_LIMIT", "JobState", "JobStatus", "retry_text"]

DIRECTION_TEXT: dict[Direction, str] = {
    Direction.UPLOAD: "Upload",
    Direction.DOWNLOAD: "Download",
    Direction.LOCAL: "Copy",
    Direction.CROSS_VOLUME: "Copy",
    Direction.SERVER_SIDE: "Server-side",
}


def direction_of(action: CopyAction) -> Direction:
    """A first guess from the paths alone; the job's JobStarted says for sure once it starts."""
    sources_local = all(source.is_local for source in action.sources)
    destination = action.destination
    if sources_local:
        return Direction.LOCAL if destination.is_local else Direction.UPLOAD
    if destination.is_local:
        return Direction.DOWNLOAD
    if all(source.volume == destination.volume for source in action.sources):
        return Direction.SERVER_SIDE
    return Direction.CROSS_VOLUME


def action_title(action: CopyAction) -> str:
    """``Copy 3 items to cloud:photos/``: how the window names a job made from a gesture (or from the journal)."""
    verb = "Move" if action.options.delete_after_copy else "Copy"
    count = len(action.sources)
    return f"{verb} {count} item{'s' if count != 1 else ''} to {action.destination}"


def named_title(info: JobInfo, shown: int = 2) -> str:
    """``Copy p0.jpg, p1.jpg and 1 more to cloud:photos/``: a journaled job named by its first files (or folders),
    as the user picked them; ``Delete a.txt``."""
    if info.action.get("kind") == DeleteAction.KIND:
        return f"Delete {_first_names(DeleteAction.from_dict(info.action).targets, shown)}"
    action = CopyAction.from_dict(info.action)
    verb = "Move" if action.options.delete_after_copy else "Copy"
    return f"{verb} {_first_names(action.sources, shown)} to {action.destination}"


def _first_names(paths: list[SdPath], shown: int) -> str:
    names = [str(path) if path.is_root else path.name + ("/" if path.is_dir else "") for path in paths[:shown]]
    more = len(paths) - len(names)
    if not more:
        return " and ".join(names) if len(names) == 2 else ", ".join(names)
    return f"{', '.join(names)} and {more} more"


def describe_sources(action: CopyAction) -> str:
    """``/home/me/a.txt`` or ``/home/me/a.txt and 4 more``."""
    if not action.sources:
        return ""
    first = str(action.sources[0])
    more = len(action.sources) - 1
    return f"{first} and {more} more" if more else first


@dataclass(kw_only=True)
class JobState(JobSummary):
    """One job as the transfers list shows it: the core's account of it (``apply`` folds each event in) and the
    window's own parts."""

    action: CopyAction
    title: str = ""
    source_text: str = ""
    destination_text: str = ""
    move: bool = False
    cancel_requested: bool = False
    retry_of: str | None = None
    resumed: bool = False
    """Taken up from the journal: an earlier run (of this or another session) did part of it."""
    failed_targets: dict[str, str] = field(default_factory=dict)
    """Source → destination of the files that failed (what Retry needs)."""
    retry_due: dict[str, float] = field(default_factory=dict)
    """Source → when (time.time()) its next attempt starts, for the files waiting to be retried."""
    files_existing: int = 0
    """Files that failed because their destination already existed (the "fail" policy; worded for the window)."""

    @classmethod
    def for_action(
        cls, job_id: str, action: CopyAction, title: str = "", *, retry_of: str | None = None, resumed: bool = False
    ) -> JobState:
        direction = direction_of(action)
        sources = describe_sources(action)
        return cls(
            job_id=job_id,
            action=action,
            title=title or f"{DIRECTION_TEXT[direction]} {sources}",
            direction=direction,
            source_text=sources,
            destination_text=str(action.destination),
            move=action.options.delete_after_copy,
            retry_of=retry_of,
            resumed=resumed,
        )

    @property
    def direction_text(self) -> str:
        return DIRECTION_TEXT[self.direction] if self.direction is not None else ""

    # -- transitions made by the manager ---------------------------------------------------------------------
    def mark_running(self, now: float | None = None) -> None:
        """The job was handed to a worker; JobStarted follows once its sources are checked."""
        self.state = "running"
        self.started_at = time.time() if now is None else now

    def mark_cancelled(self, now: float | None = None) -> None:
        """Cancelled before it ever ran."""
        self.state = "cancelled"
        self.ended_at = time.time() if now is None else now

    def mark_stalled_if_quiet(self, quiet_s: float, now: float | None = None) -> bool:
        """Drop a rate and ETA no event has confirmed for ``quiet_s``: a stalled transfer shows a dash, not a guess."""
        now = time.time() if now is None else now
        if self.state != "running" or (self.rate == 0 and self.eta_s is None) or self.last_event_at is None:
            return False
        if now - self.last_event_at < quiet_s:
            return False
        self.rate, self.eta_s = 0.0, None
        return True

    def retry_countdown_s(self, now: float | None = None) -> float | None:
        """Seconds until the newest retried file's next attempt starts; None when none waits (or it has begun)."""
        if self.retry_status is None or not self.retry_due:
            return None
        due = next(reversed(self.retry_due.values()))
        left = due - (time.time() if now is None else now)
        return left if left > 0 else None

    def apply(self, event: JobEvent, now: float | None = None) -> None:
        if not self.is_ended and event.job_id == self.job_id:
            event = self._worded(event)
            if isinstance(event, FileFailed):
                self.failed_targets[event.source] = event.destination
            if isinstance(event, FileRetrying):
                self.retry_due.pop(event.source, None)  # re-insert: the newest retry is the one shown
                self.retry_due[event.source] = (time.time() if now is None else now) + event.delay_s
            elif isinstance(event, FileDone | FileFailed | FileSkipped):
                self.retry_due.pop(event.source, None)
        super().apply(event, now)

    def _worded(self, event: JobEvent) -> JobEvent:
        """A destination that existed is told in the window's words (its buttons), not the CLI's option."""
        if isinstance(event, FileFailed) and event.destination_exists:
            self.files_existing += 1
            return dataclasses.replace(event, message=exists_text(event.destination))
        if isinstance(event, JobFailed) and self.files_existing and self.files_existing == self.files_failed:
            if self.files_failed == 1:
                return dataclasses.replace(event, message=self.failed_files[0][1])
            total = max(self.files_total, self.files_failed)
            return dataclasses.replace(
                event, message=several_exist_text(self.files_failed, total, self.destination_text)
            )
        return event


def retry_action(state: JobState) -> CopyAction:
    """The action that finishes what ``state`` left undone.

    Files that failed in one directory are retried alone (a single file keeps its exact target, even a renamed
    one). Otherwise the whole action runs again; when the first run wrote files under the default ``fail``
    policy they would now conflict, so they are skipped instead (a failed or cancelled file leaves its
    destination absent, never partial).
    """
    action = state.action
    if state.state == "failed" and state.failed_files:
        only_failed = _failed_files_action(state)
        if only_failed is not None:
            return only_failed
    if state.files_copied and action.options.on_conflict == "fail":
        return dataclasses.replace(action, options=dataclasses.replace(action.options, on_conflict="skip"))
    return action


def _failed_files_action(state: JobState) -> CopyAction | None:
    try:
        pairs = [(SdPath.parse(src), SdPath.parse(state.failed_targets[src])) for src, _ in state.failed_files]
    except (KeyError, errors.InvalidPathError):
        return None
    options = state.action.options
    if len(pairs) == 1:
        source, target = pairs[0]
        return CopyAction([source], target, options)
    source_dirs = {source.parent() for source, _ in pairs}
    target_dirs = {target.parent() for _, target in pairs}
    if len(source_dirs) != 1 or len(target_dirs) != 1 or any(s.name != t.name for s, t in pairs):
        return None
    return CopyAction([source for source, _ in pairs], target_dirs.pop(), options)
