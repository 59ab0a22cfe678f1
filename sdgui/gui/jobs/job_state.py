"""JobState: what the window knows about one copy job, rebuilt from the core's events (plain Python, no Qt)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Literal

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import (
    ConcurrencyChanged,
    FileDone,
    FileFailed,
    FileRetrying,
    FileSkipped,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobStarted,
    Progress,
)
from sdgui.core.journal import JobInfo
from sdgui.core.paths import SdPath

Direction = Literal["upload", "download", "copy", "server-side"]
State = Literal["queued", "running", "finished", "failed", "cancelled"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})
ENDED_STATES: frozenset[str] = frozenset({"finished", "failed", "cancelled"})
RETRY_LOG_LIMIT = 200
"""Retry messages kept per job (the count goes on): a flaky link over 10,000 files must not grow without end."""

# The core names strategies; a job whose files all take one of these moves bytes in that direction.
_STRATEGY_DIRECTIONS: dict[str, Direction] = {
    "streaming upload": "upload",
    "streaming download": "download",
    "server-side copy": "server-side",
    "local copy": "copy",
    "cross-volume streaming": "copy",
}


def direction_of(action: CopyAction) -> Direction:
    """A first guess from the paths alone; the job's headline strategy refines it once it starts."""
    sources_local = all(source.is_local for source in action.sources)
    destination = action.destination
    if sources_local:
        return "copy" if destination.is_local else "upload"
    if destination.is_local:
        return "download"
    if all(source.volume == destination.volume for source in action.sources):
        return "server-side"
    return "copy"


def action_title(action: CopyAction) -> str:
    """``Copy 3 items to cloud:photos/``: how the window names a job made from a gesture (or from the journal)."""
    verb = "Move" if action.options.delete_after_copy else "Copy"
    count = len(action.sources)
    return f"{verb} {count} item{'s' if count != 1 else ''} to {action.destination}"


def journaled_title(info: JobInfo) -> str:
    """How the window names a job the journal holds."""
    return action_title(CopyAction.from_dict(info.action))


def retry_text(event: FileRetrying) -> str:
    """``retry 2 of 5 after network error at cloud:a.bin: reset (in 1.2 s)``: the attempt that comes next."""
    return f"retry {event.attempt + 1} of {event.max_attempts} after {event.message} (in {event.delay_s:.1f} s)"


def describe_sources(action: CopyAction) -> str:
    """``/home/me/a.txt`` or ``/home/me/a.txt and 4 more``."""
    if not action.sources:
        return ""
    first = str(action.sources[0])
    more = len(action.sources) - 1
    return f"{first} and {more} more" if more else first


@dataclass
class JobState:
    """One job as the transfers list shows it; ``apply`` folds each core event into it."""

    job_id: str
    action: CopyAction
    title: str = ""
    direction: Direction = "copy"
    state: State = "queued"
    strategy: str = ""
    source_text: str = ""
    destination_text: str = ""
    phase: str = ""
    current_file: str = ""
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    files_copied: int = 0
    files_skipped: int = 0
    rate: float = 0.0
    eta_s: float | None = None
    verified: int = 0
    provider_checked: int = 0
    unverified: int = 0
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    failed_targets: dict[str, str] = field(default_factory=dict)
    error: str = ""
    error_kind: str = ""
    move: bool = False
    cancel_requested: bool = False
    started_at: float | None = None
    ended_at: float | None = None
    last_event_at: float | None = None
    retry_of: str | None = None
    resumed: bool = False
    """Taken up from the journal: an earlier run (of this or another session) did part of it."""
    files_copied_before: int = 0
    """Skipped because an earlier run of this job copied them (checked, not copied again)."""
    bytes_resumed: int = 0
    """Bytes kept from partial files an interrupted run left."""
    bytes_transferred: int | None = None
    """Bytes this run moved, once the job has finished (less than ``bytes_done`` when it was resumed)."""
    notes: list[str] = field(default_factory=list)
    retries: int = 0
    """Retries so far, over all files."""
    retry_log: list[str] = field(default_factory=list)
    """``source: retry 2 of 5 after …``, oldest first, at most RETRY_LOG_LIMIT of them."""
    pending_retries: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Files waiting for (or in) another attempt: source → (that attempt, attempts allowed)."""
    concurrency_limit: int | None = None
    """How many files the job may copy at once, once the service has throttled it."""
    concurrency_max: int | None = None
    """The configured number of files at once (set by the manager when the job starts)."""
    concurrency_lowest: int | None = None
    concurrency_reason: str = ""

    @classmethod
    def for_action(
        cls, job_id: str, action: CopyAction, title: str = "", *, retry_of: str | None = None, resumed: bool = False
    ) -> JobState:
        direction = direction_of(action)
        sources = describe_sources(action)
        return cls(
            job_id=job_id,
            action=action,
            title=title or f"{direction.capitalize()} {sources}",
            direction=direction,
            source_text=sources,
            destination_text=str(action.destination),
            move=action.options.delete_after_copy,
            retry_of=retry_of,
            resumed=resumed,
        )

    # -- derived --------------------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def fraction(self) -> float | None:
        """Share done in 0..1; None while a running job does not yet know how much there is."""
        if self.state == "finished":
            return 1.0
        if self.bytes_total > 0:
            return min(self.bytes_done / self.bytes_total, 1.0)
        if self.files_total > 0:
            return min(self.files_done / self.files_total, 1.0)
        if self.state == "running" and self.phase in ("", "scanning"):
            return None
        return 0.0

    @property
    def elapsed_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(end - self.started_at, 0.0)

    @property
    def last_retry(self) -> str:
        """The newest retry message, or "" before any."""
        return self.retry_log[-1] if self.retry_log else ""

    @property
    def retry_status(self) -> tuple[int, int] | None:
        """(attempt, attempts allowed) of the file that most recently went back for another attempt and has not
        ended yet; None when no file is being retried."""
        if not self.pending_retries or self.is_ended:
            return None
        return next(reversed(self.pending_retries.values()))

    @property
    def throttled(self) -> bool:
        """True while the service's throttling holds the job below its configured number of files at once."""
        if self.concurrency_limit is None:
            return False
        if self.concurrency_max is not None:
            return self.concurrency_limit < self.concurrency_max
        return self.concurrency_reason == "throttled"

    @property
    def verification_summary(self) -> str:
        """``verified``, ``provider-checked`` or ``unverified`` when all files agree, else the counts of each."""
        counts = [
            (n, label)
            for n, label in (
                (self.verified, "verified"),
                (self.provider_checked, "provider-checked"),
                (self.unverified, "unverified"),
            )
            if n
        ]
        if not counts:
            return ""
        if len(counts) == 1:
            return counts[0][1]
        return ", ".join(f"{n} {label}" for n, label in counts)

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

    # -- events ---------------------------------------------------------------------------------------------
    def apply(self, event: JobEvent, now: float | None = None) -> None:
        """Fold one core event into this state; events after the job ended are ignored."""
        if self.is_ended or event.job_id != self.job_id:
            return
        now = time.time() if now is None else now
        self.last_event_at = now
        if isinstance(event, Progress):
            self._apply_progress(event)
        elif isinstance(event, JobStarted):
            self.state = "running"
            self.started_at = self.started_at or now
            self.strategy = event.strategy
            self.direction = _STRATEGY_DIRECTIONS.get(event.strategy, self.direction)
            self.bytes_total = event.bytes_total
            self.files_total = event.files
            self.move = event.move
        elif isinstance(event, FileDone):
            self._apply_file_done(event)
        elif isinstance(event, FileSkipped):
            self.pending_retries.pop(event.source, None)
            self.files_skipped += 1
            if event.reason == "copied-before":
                self.files_copied_before += 1
        elif isinstance(event, FileFailed):
            self.pending_retries.pop(event.source, None)
            self.failed_files.append((event.source, event.message))
            self.failed_targets[event.source] = event.destination
        elif isinstance(event, FileRetrying):
            self._apply_retrying(event)
        elif isinstance(event, ConcurrencyChanged):
            self.concurrency_limit = event.limit
            self.concurrency_reason = event.reason
            lowest = self.concurrency_lowest
            self.concurrency_lowest = event.limit if lowest is None else min(lowest, event.limit)
        else:
            self._apply_final(event, now)

    def _apply_file_done(self, event: FileDone) -> None:
        self.pending_retries.pop(event.source, None)
        self.files_copied += 1
        self.bytes_resumed += event.bytes_resumed
        if event.note:
            self.notes.append(f"{event.source}: {event.note}")
        if event.verified == "verified":
            self.verified += 1
        elif event.verified == "provider-checked":
            self.provider_checked += 1
        else:
            self.unverified += 1

    def _apply_retrying(self, event: FileRetrying) -> None:
        self.retries += 1
        self.pending_retries.pop(event.source, None)  # re-insert: the newest retry is shown
        self.pending_retries[event.source] = (event.attempt + 1, event.max_attempts)
        self.retry_log.append(f"{event.source}: {retry_text(event)}")
        del self.retry_log[:-RETRY_LOG_LIMIT]

    def _apply_progress(self, event: Progress) -> None:
        self.state = "running"
        self.phase = event.phase
        self.current_file = event.current_file
        self.bytes_done = event.bytes_done
        self.bytes_total = event.bytes_total
        self.files_done = event.files_done
        self.files_total = event.files_total
        self.rate = event.rate
        self.eta_s = event.eta_s

    def _apply_final(self, event: JobEvent, now: float) -> None:
        if isinstance(event, JobFinished):
            self.state = "finished"
            self.bytes_done = event.bytes_done
            self.bytes_total = max(self.bytes_total, event.bytes_done)
            self.files_done = event.files_done + event.files_skipped
            self.files_skipped = event.files_skipped
            self.verified = event.verified
            self.provider_checked = event.provider_checked
            self.unverified = event.unverified
            self.bytes_transferred = event.bytes_transferred
            self.bytes_resumed = event.bytes_resumed
        elif isinstance(event, JobFailed):
            self.state = "failed"
            self.error = event.message
            self.error_kind = event.error
        elif isinstance(event, JobCancelled):
            self.state = "cancelled"
        else:
            return
        self.ended_at = now
        self.current_file = ""
        self.rate = 0.0
        self.eta_s = None
        self.pending_retries.clear()


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
