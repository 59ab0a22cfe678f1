"""Running jobs from the terminal: a copy job with the CLI's output and Ctrl-C handling; the unfinished jobs."""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from sdgui.cli_lines import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, error_line, print_json
from sdgui.cli_output import jobs_table, make_reporter
from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import JobEvent
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.journal import Journal, JournalError
from sdgui.core.volumes import VolumeRegistry

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    # The delete job is imported by what runs one (rm, resuming a delete), so that a copy does not pay for it.
    from sdgui.core.delete import DeleteAction


class CancellableJob(Protocol):
    """A copy or delete job: ``run(sink)`` reports events and returns the last; ``cancel()`` from another thread."""

    def run(self, sink: Callable[[JobEvent], None]) -> JobEvent: ...

    def cancel(self) -> None: ...


CLEANUP_GRACE_S = 10.0
"""After a second Ctrl-C, how long the command still waits for the job to clean up."""
BATCH_S = 0.02
"""How often a job's events are shown while they stream (the first after a quiet spell at once)."""


def run_copy(
    action: CopyAction,
    *,
    json_lines: bool = False,
    registry: VolumeRegistry | None = None,
    job_id: str | None = None,
    journal: Journal | None = None,
) -> int:
    """Run one copy job with the CLI's output and Ctrl-C handling; returns the exit code.

    The job is recorded in the journal (``journal``, else the user's), so an interrupted one can be resumed with
    ``sdgui jobs resume``; a ``job_id`` the journal holds is taken up where it stopped.
    """
    own_journal = journal is None
    if journal is None:
        try:
            journal = Journal()
        except JournalError as exc:
            error_line(f"{exc}; this job runs without it and cannot be resumed")
    backends = BackendCache(registry or VolumeRegistry())
    job = FileCopyJob(action, backends, job_id=job_id, journal=journal)
    reporter = make_reporter(json_lines)
    try:
        final = run_cancellable(job, reporter, on_cancel=reporter.note)
    except BaseException:
        reporter.close()
        raise
    finally:
        backends.close()
        if own_journal and journal is not None:
            journal.close()
    code = reporter.finish(final)
    if job.journal_record is not None and code == EXIT_CANCELLED and not json_lines:
        error_line(f"to carry on with this job later: sdgui jobs resume {job.job_id}")
    return code


# -- jobs -----------------------------------------------------------------------------------------------------


def jobs_list(args: argparse.Namespace) -> int:
    """The unfinished jobs: interrupted, cancelled, failed, or running in another process."""
    with Journal() as journal:
        jobs = journal.unfinished_jobs()
    if args.json:
        for info in jobs:
            print_json(info.to_dict())
    elif jobs:
        print(jobs_table(jobs))
    else:
        print("no unfinished jobs")
    return EXIT_OK


def jobs_resume(args: argparse.Namespace) -> int:
    """Run an unfinished job again: files done before are checked and skipped, partial downloads resumed."""
    with Journal() as journal:
        info = journal.job(args.id)
        if info.state == "finished":
            raise errors.ConflictError("the job has already finished", path=f"job {info.id}")
        if info.state == "running":
            raise errors.ConflictError("the job is running in another sdgui process", path=f"job {info.id}")
        from sdgui.core.delete import DeleteAction

        if info.action.get("kind") == DeleteAction.KIND:
            action = DeleteAction.from_dict(info.action)
            return run_delete(action, json_lines=args.json, job_id=info.id, journal=journal)
        return run_copy(CopyAction.from_dict(info.action), json_lines=args.json, job_id=info.id, journal=journal)


def jobs_discard(args: argparse.Namespace) -> int:
    with Journal() as journal:
        info = journal.job(args.id)
        removed = journal.discard(info.id)
    partials = f"; removed {len(removed)} partial {'file' if len(removed) == 1 else 'files'}" if removed else ""
    print(f"discarded job {info.id}{partials}")
    return EXIT_OK


def run_cancellable(
    job: CancellableJob, sink: Callable[[JobEvent], None], *, on_cancel: Callable[[str], None] = error_line
) -> JobEvent:
    """Run ``job`` in a worker thread while this (main) thread shows its events and turns SIGINT/SIGTERM into
    ``job.cancel()``.

    The job's threads only queue their events; ``sink`` runs here, one event at a time. Printing from the copy
    workers made them queue for the printer's lock while holding a Python slot (``core.python_slots``): with
    1,000 small files a quarter of the slots' time went to that wait. The first event after a quiet spell is shown
    at once, the ones that follow it every BATCH_S: a wake of this thread per event cost a context switch each.
    The first signal cancels and waits for the job to clean up; a later one waits at most CLEANUP_GRACE_S more.
    """
    outcome: list[JobEvent] = []
    failure: list[BaseException] = []
    events: queue.SimpleQueue[JobEvent | None] = queue.SimpleQueue()

    finished = threading.Event()

    def work() -> None:
        try:
            outcome.append(job.run(events.put))
        except BaseException as exc:  # handed to the main thread
            failure.append(exc)
        finally:
            events.put(None)
            finished.set()

    signals = 0
    deadline: float | None = None
    notes: list[str] = []  # said between events: a signal may arrive while ``sink`` holds the printer's lock

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal signals, deadline
        signals += 1
        job.cancel()
        if signals == 1:
            notes.append("cancelling: removing partial files and unfinished uploads (Ctrl-C again: wait 10 s at most)")
        elif deadline is None:
            deadline = time.monotonic() + CLEANUP_GRACE_S
            notes.append(f"still cleaning up; waiting at most {CLEANUP_GRACE_S:.0f} s more")

    worker = threading.Thread(target=work, name="sdgui-job", daemon=True)
    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
    try:
        worker.start()
        running = True
        while running:
            while notes:
                on_cancel(notes.pop(0))
            if deadline is not None and time.monotonic() > deadline and worker.is_alive():
                error_line("the job did not finish cleaning up in time; an unfinished upload may remain")
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_CANCELLED)  # the job's threads cannot be stopped; exiting normally would wait for them
            try:
                batch = [events.get(timeout=0.1)]  # the first event after a quiet spell shows at once...
            except queue.Empty:
                continue
            while True:
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            for event in batch:
                if event is None:
                    running = False
                    break
                try:
                    sink(event)
                except Exception:  # a broken listener must not break the copy
                    log.exception("event listener failed")
            sys.stdout.flush()
            if running:
                finished.wait(BATCH_S)  # ...and a stream of them is shown in batches, not a wake per event
        worker.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    while notes:
        on_cancel(notes.pop(0))
    if failure:
        raise failure[0]
    return outcome[0]


def run_delete(
    action: DeleteAction, *, json_lines: bool = False, job_id: str | None = None, journal: Journal | None = None
) -> int:
    """Run one delete with the CLI's output and Ctrl-C handling, recorded in the journal (``journal``, else the
    user's) until it finishes, so ``sdgui jobs resume`` carries on with an interrupted one."""
    from sdgui.core.delete import DeleteCancelled, DeleteFailed, DeleteFinished, DeleteJob

    own_journal = journal is None
    if journal is None:
        try:
            journal = Journal()
        except JournalError as exc:
            error_line(f"{exc}; this delete runs without it and cannot be resumed")
    backends = BackendCache(VolumeRegistry())
    job = DeleteJob(action, backends, job_id=job_id, journal=journal)

    def sink(event: JobEvent) -> None:
        if json_lines:
            print_json(event.to_dict())

    try:
        final = run_cancellable(job, sink, on_cancel=error_line)
    finally:
        backends.close()
        if own_journal and journal is not None:
            journal.close()
    if isinstance(final, DeleteFinished):
        if not json_lines:
            print(f"deleted {_files(final.deleted)}")
        return EXIT_OK
    if isinstance(final, DeleteCancelled):
        error_line(f"cancelled after deleting {_files(final.deleted)}; the rest is still there")
        if journal is not None and not json_lines:
            error_line(f"to carry on with it later: sdgui jobs resume {job.job_id}")
        return EXIT_CANCELLED
    assert isinstance(final, DeleteFailed), final
    error_line(final.message)
    return EXIT_FAILED


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"
