"""JobSummary: one account of a job, folded from its events; the job, the CLI and the window all read it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sdgui.core.copy.events import (
    ConcurrencyChanged,
    Direction,
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

JobStatus = Literal["queued", "running", "finished", "failed", "cancelled"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})
ENDED_STATES: frozenset[str] = frozenset({"finished", "failed", "cancelled"})
RETRY_LOG_LIMIT = 200
"""Retry messages kept per job (the count goes on): a flaky link over 10,000 files must not grow without end."""
FAILED_FILES_LIMIT = 1000
"""Failed files kept with their messages (the count goes on)."""


def retry_text(event: FileRetrying) -> str:
    """``retry 2 of 5 after network error at cloud:a.bin: reset (in 1.2 s)``: the attempt that comes next."""
    return f"retry {event.attempt + 1} of {event.max_attempts} after {event.message} (in {event.delay_s:.1f} s)"


@dataclass
class JobSummary:
    """What is known about one job; ``apply`` folds each of its events in. Not thread-safe: one owner applies."""

    job_id: str
    state: JobStatus = "queued"
    direction: Direction | None = None
    strategy: str = ""
    phase: str = ""
    counting: bool = False
    """True while the job's listing goes on: the totals still grow and there is no ETA."""
    current_file: str = ""
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    """Files processed: copied, skipped or failed."""
    files_total: int = 0
    files_copied: int = 0
    bytes_copied: int = 0
    """Bytes of the files copied (not of those in flight)."""
    files_skipped: int = 0
    files_copied_before: int = 0
    """Skipped because an earlier run of this job copied them (checked, not copied again)."""
    files_failed: int = 0
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    """(source, message) of the first FAILED_FILES_LIMIT files that failed."""
    rate: float = 0.0
    eta_s: float | None = None
    verified: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    """How many files each check verified ("blake3", "md5", "crc64nvme"…)."""
    provider_checked: int = 0
    unverified: int = 0
    error: str = ""
    error_kind: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    last_event_at: float | None = None
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
    """The configured number of files at once, when the owner knows it."""
    concurrency_lowest: int | None = None
    concurrency_reason: str = ""

    # -- derived --------------------------------------------------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def fraction(self) -> float | None:
        """Share done in 0..1; None while a running job does not yet know how much there is. A failed job's share is
        what it copied: a file that failed counts as processed while the job runs, not as done."""
        if self.state == "finished":
            return 1.0
        if self.state == "failed":
            if self.bytes_total > 0:
                return min(self.bytes_copied / self.bytes_total, 1.0)
            return min(self.files_copied / self.files_total, 1.0) if self.files_total > 0 else 0.0
        if self.bytes_total > 0:
            return min(self.bytes_done / self.bytes_total, 1.0)
        if self.files_total > 0:
            return min(self.files_done / self.files_total, 1.0)
        if self.state == "running" and self.phase in ("", "scanning", "counting"):
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

    @property
    def checks_text(self) -> str:
        """``blake3``, or ``md5 (3), blake3 (1)``: which checks proved the verified files, most used first."""
        ranked = sorted(self.checks.items(), key=lambda item: (-item[1], item[0]))
        if len(ranked) == 1:
            return ranked[0][0]
        return ", ".join(f"{name} ({count})" for name, count in ranked)

    # -- events ---------------------------------------------------------------------------------------------
    def apply(self, event: JobEvent, now: float | None = None) -> None:
        """Fold one event of this job in; events of other jobs, or after the job ended, are ignored."""
        if self.is_ended or event.job_id != self.job_id:
            return
        now = time.time() if now is None else now
        self.last_event_at = now
        if isinstance(event, Progress):
            self._apply_progress(event)
        elif isinstance(event, JobStarted):
            self._apply_started(event, now)
        elif isinstance(event, FileDone):
            self._apply_file_done(event)
        elif isinstance(event, FileSkipped):
            self.pending_retries.pop(event.source, None)
            self.files_skipped += 1
            if event.reason == "copied-before":
                self.files_copied_before += 1
        elif isinstance(event, FileFailed):
            self._apply_file_failed(event)
        elif isinstance(event, FileRetrying):
            self._apply_retrying(event)
        elif isinstance(event, ConcurrencyChanged):
            self.concurrency_limit = event.limit
            self.concurrency_reason = event.reason
            lowest = self.concurrency_lowest
            self.concurrency_lowest = event.limit if lowest is None else min(lowest, event.limit)
        else:
            self._apply_final(event, now)

    def _apply_started(self, event: JobStarted, now: float) -> None:
        self.state = "running"
        self.started_at = self.started_at or now
        self.strategy = event.strategy
        self.direction = event.direction or self.direction
        self.bytes_total = max(self.bytes_total, event.bytes_total)
        self.files_total = max(self.files_total, event.files)
        self.counting = event.counting

    def _apply_file_done(self, event: FileDone) -> None:
        self.pending_retries.pop(event.source, None)
        self.files_copied += 1
        self.bytes_copied += event.size
        self.bytes_resumed += event.bytes_resumed
        if event.note:
            self.notes.append(f"{event.source}: {event.note}")
        if event.verified == "verified":
            self.verified += 1
            if event.check:
                self.checks[event.check] = self.checks.get(event.check, 0) + 1
        elif event.verified == "provider-checked":
            self.provider_checked += 1
        else:
            self.unverified += 1

    def _apply_file_failed(self, event: FileFailed) -> None:
        self.pending_retries.pop(event.source, None)
        self.files_failed += 1
        if len(self.failed_files) < FAILED_FILES_LIMIT:
            self.failed_files.append((event.source, event.message))

    def _apply_retrying(self, event: FileRetrying) -> None:
        self.retries += 1
        self.pending_retries.pop(event.source, None)  # re-insert: the newest retry is shown
        self.pending_retries[event.source] = (event.attempt + 1, event.max_attempts)
        self.retry_log.append(f"{event.source}: {retry_text(event)}")
        del self.retry_log[:-RETRY_LOG_LIMIT]

    def _apply_progress(self, event: Progress) -> None:
        self.state = "running"
        self.phase = event.phase
        self.counting = event.phase in ("scanning", "counting")
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
            self.files_total = max(self.files_total, self.files_done)
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
        self.counting = False
        self.current_file = ""
        self.rate = 0.0
        self.eta_s = None
        self.pending_retries.clear()


@dataclass(frozen=True)
class DirectionTotals:
    """Bytes done and to do, and jobs running, in one direction over several jobs (a status bar's figures)."""

    jobs: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    rate: float = 0.0


def totals_by_direction(summaries: Iterable[JobSummary]) -> dict[Direction, DirectionTotals]:
    """The running jobs' totals per direction (jobs whose direction is not known yet are left out)."""
    totals: dict[Direction, DirectionTotals] = {}
    for summary in summaries:
        if summary.direction is None or summary.state != "running":
            continue
        was = totals.get(summary.direction, DirectionTotals())
        totals[summary.direction] = DirectionTotals(
            was.jobs + 1,
            was.bytes_done + summary.bytes_done,
            was.bytes_total + summary.bytes_total,
            was.rate + summary.rate,
        )
    return totals
