"""What the sdgui command prints: job progress (a rich bar on a terminal, plain lines in a pipe, JSON lines with
--json), job summaries, listings, volume tables and one-line errors."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable

from sdgui.cli_lines import (
    EXIT_CANCELLED,
    EXIT_FAILED,
    EXIT_OK,
    error_line,
    one_line,
    print_json,
)
from sdgui.core.copy.events import (
    FileDone,
    FileFailed,
    FileSkipped,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobStarted,
    Progress,
)
from sdgui.core.copy.summary import JobSummary
from sdgui.core.identity import describe_identity
from sdgui.core.journal import JobInfo
from sdgui.core.units import format_duration, format_size
from sdgui.core.volumes import VolumeConfig

PLAIN_PROGRESS_INTERVAL_S = 2.0
"""A pipe or log file gets a progress line at most this often."""


def human_duration(seconds: float | None) -> str:
    return "?" if seconds is None else format_duration(seconds)


# -- listings and volumes -------------------------------------------------------------------------------------


def volume_table(volumes: Iterable[VolumeConfig]) -> str:
    """The configured volumes as aligned columns: name, kind, bucket (or root), endpoint, identity."""
    rows = [("NAME", "KIND", "BUCKET/ROOT", "ENDPOINT", "IDENTITY")]
    for config in volumes:
        where = (config.root if config.kind == "local" else config.bucket) or "-"
        if config.prefix:
            where = f"{where}/{config.prefix}"
        rows.append((config.name, config.kind, where, config.endpoint or "-", describe_identity(config)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)), row[4]]).rstrip()
        for row in rows
    )


# -- copy jobs ------------------------------------------------------------------------------------------------


class JobReporter:
    """Receives a job's events from any of its threads and prints them; ``finish`` prints the outcome.

    The counting is the core's JobSummary (the window folds the same events the same way); subclasses decide how
    events look.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.move = False
        self.account: JobSummary | None = None
        self.failures: list[FileFailed] = []

    def __call__(self, event: JobEvent) -> None:
        with self.lock:
            if self.account is None:
                self.account = JobSummary(event.job_id)
            self.account.apply(event)
            if isinstance(event, JobStarted):
                self.move = event.move
            elif isinstance(event, FileFailed):
                self.failures.append(event)
            self.show(event)

    def show(self, event: JobEvent) -> None:
        """Print one event (called under the lock)."""

    def close(self) -> None:
        """Stop any live display before the outcome is printed."""

    def note(self, message: str) -> None:
        """A remark from the command itself (cancelling...), on stderr."""
        with self.lock:
            error_line(message)

    def finish(self, final: JobEvent) -> int:
        """Print the outcome and return the exit code: 0 finished, 1 failed, 130 cancelled."""
        self.close()
        if isinstance(final, JobFinished):
            self.summary(final)
            return EXIT_OK
        if isinstance(final, JobCancelled):
            verb = "moved" if self.move else "copied"
            error_line(f"cancelled; {final.files_done} files were {verb} before, nothing partial was left")
            return EXIT_CANCELLED
        if isinstance(final, JobFailed):
            if self.account is not None and self.account.started_at is not None:
                # (a request refused before any file was looked at has nothing to sum up)
                self.summary(None)
            messages = [failure.message for failure in self.failures]
            if final.message not in messages:  # a fatal error (bad credentials...) also failed its file
                messages.append(final.message)
            for message in messages:
                error_line(message)
        return EXIT_FAILED

    def summary(self, final: JobFinished | None) -> None:
        print(self.summary_text(final), flush=True)

    def summary_text(self, final: JobFinished | None) -> str:
        if final is not None:
            done, skipped, size, elapsed = final.files_done, final.files_skipped, final.bytes_done, final.elapsed_s
            checks = (final.verified, final.provider_checked, final.unverified)
        else:
            account = self.account or JobSummary("")
            done, skipped, size = account.files_copied, account.files_skipped, account.bytes_copied
            elapsed = time.monotonic() - self.started
            checks = (account.verified, account.provider_checked, account.unverified)
        rate = f", {format_size(int(size / elapsed))}/s" if elapsed > 0 and size else ""
        text = (
            f"{'moved' if self.move else 'copied'} {done} {'file' if done == 1 else 'files'}, {format_size(size)} "
            f"in {elapsed:.1f} s{rate}: {checks[0]} verified, {checks[1]} provider-checked, {checks[2]} unverified"
        )
        before = self.account.files_copied_before if self.account is not None else 0
        if skipped - before:
            text += f"; {skipped - before} skipped (already there)"
        if before:
            text += f"; {before} copied by an earlier run"
        if final is not None and (before or final.bytes_resumed):
            kept = f", {format_size(final.bytes_resumed)} kept from partial files" if final.bytes_resumed else ""
            text += f"; {format_size(final.bytes_transferred)} transferred this time{kept}"
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


class JsonReporter(JobReporter):
    """Every event as one JSON object per line on stdout (flushed by ``run_cancellable`` after each batch of
    events); errors also as a line on stderr."""

    def show(self, event: JobEvent) -> None:
        print_json(event.to_dict(), flush=False)

    def finish(self, final: JobEvent) -> int:
        if isinstance(final, JobFinished):
            return EXIT_OK
        if isinstance(final, JobCancelled):
            error_line("cancelled")
            return EXIT_CANCELLED
        if isinstance(final, JobFailed):
            error_line(final.message)
        return EXIT_FAILED


class PlainReporter(JobReporter):
    """For pipes and logs: a line per file and a progress line every few seconds."""

    def __init__(self) -> None:
        super().__init__()
        self._last_progress = 0.0

    def _print(self, text: str) -> None:
        print(text, flush=True)

    def show(self, event: JobEvent) -> None:
        if isinstance(event, JobStarted):
            self._print(started_text(event))
        elif isinstance(event, Progress) and event.phase == "transferring" and event.bytes_done:
            now = time.monotonic()
            if now - self._last_progress >= PLAIN_PROGRESS_INTERVAL_S:
                self._last_progress = now
                self._print("  " + progress_text(event))
        elif isinstance(event, FileDone):
            resumed = f", resumed after {format_size(event.bytes_resumed)}" if event.bytes_resumed else ""
            verified = f"{event.verified} by {event.check}" if event.check else event.verified
            self._print(f"  ✓ {event.source} → {event.destination} ({format_size(event.size)}, {verified}{resumed})")
            if event.note:
                self._print(f"    {event.note}")
        elif isinstance(event, FileSkipped):
            self._print(f"  - {event.source}: {skipped_text(event)}")
        elif isinstance(event, FileFailed):
            self._print(f"  ✗ {event.source}: {event.error}")


def skipped_text(event: FileSkipped) -> str:
    if event.reason == "copied-before":
        return "already copied by an earlier run of this job (checked)"
    return f"skipped, {event.destination} already exists"


def started_text(event: JobStarted) -> str:
    verb = "moving" if event.move else "copying"
    files = "file" if event.files == 1 else "files"
    return f"{verb} {event.files} {files} ({format_size(event.bytes_total)}) to {event.destination} [{event.strategy}]"


def progress_text(event: Progress) -> str:
    percent = f" ({100 * event.bytes_done // event.bytes_total}%)" if event.bytes_total else ""
    return (
        f"{format_size(event.bytes_done)} of {format_size(event.bytes_total)}{percent}, "
        f"{format_size(int(event.rate))}/s, ETA {human_duration(event.eta_s)}, "
        f"{event.files_done}/{event.files_total} files"
    )


class RichReporter(JobReporter):
    """For a terminal: a live bar with bytes, rate, ETA and the current file; skips and failures above it."""

    def __init__(self) -> None:
        # rich costs ~0.1 s to import: only a terminal that shows its bar pays for it.
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, TextColumn
        from rich.progress import Progress as ProgressBar

        super().__init__()
        self.console = Console()
        self.progress = ProgressBar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("[dim]{task.fields[current]}"),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None, rate="", eta="?", current="")
        self.progress.start()

    def show(self, event: JobEvent) -> None:
        if isinstance(event, JobStarted):
            self.console.print(started_text(event), highlight=False, markup=False)
            verb = "moving" if event.move else "copying"
            self.progress.update(self.task, total=event.bytes_total or None, description=verb)
        elif isinstance(event, Progress):
            from rich.markup import escape

            current = event.current_file.rsplit("/", 1)[-1]
            self.progress.update(
                self.task,
                completed=event.bytes_done,
                total=event.bytes_total or None,
                description=event.phase,
                rate=f"{format_size(int(event.rate))}/s",
                eta=human_duration(event.eta_s),
                current=escape(current[:40]),
            )
        elif isinstance(event, FileSkipped):
            self.console.print(f"  - {event.source}: {skipped_text(event)}", highlight=False, markup=False)
        elif isinstance(event, FileDone) and event.note:
            self.console.print(f"  {event.source}: {event.note}", highlight=False, markup=False)
        elif isinstance(event, FileFailed):
            self.console.print(f"  ✗ {event.source}: {event.error}", highlight=False, markup=False)

    def close(self) -> None:
        self.progress.stop()


def jobs_table(jobs: Iterable[JobInfo]) -> str:
    """Unfinished jobs as aligned columns: id, created (local time), state, files, bytes, what."""
    rows = [("ID", "CREATED", "STATE", "FILES", "BYTES", "ACTION")]
    for job in jobs:
        files = f"{job.files_done}/{job.files_total}" + (f" ({job.files_failed} failed)" if job.files_failed else "")
        size = f"{format_size(job.bytes_done)} of {format_size(job.bytes_total)}"
        created = job.created.astimezone().strftime("%Y-%m-%d %H:%M")
        rows.append((job.id, created, job.state, files, size, one_line(job.summary)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)), row[5]]).rstrip()
        for row in rows
    )


def make_reporter(json_lines: bool) -> JobReporter:
    """JSON lines when asked, a live bar on a terminal, plain lines otherwise."""
    if json_lines:
        return JsonReporter()
    if sys.stdout.isatty():
        return RichReporter()
    return PlainReporter()
