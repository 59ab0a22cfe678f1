"""JobManager: runs copy jobs on its own thread pool and turns their events into coalesced GUI-thread signals.

Workers never touch a model or a widget. A job's sink only appends to a locked buffer; a timer in the GUI thread
drains it every 250 ms, folds the events into JobState objects and emits one ``jobs_changed`` for the jobs that
moved, so a thousand small files cost four signals a second, not a thousand.

Every job is recorded in the user's job journal under its manager id, so a job the window did not finish (closed,
crashed, killed) can be resumed in a later session with ``resume(id)``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import JobEvent, JobFailed
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.journal import JobInfo, Journal, JournalError
from sdgui.core.settings import TransferSettings
from sdgui.gui.jobs.job_state import JobState, action_title, retry_action
from sdgui.gui.jobs.worker import Task, run_task

log = logging.getLogger(__name__)
T = TypeVar("T")

TICK_MS = 250
DEFAULT_MAX_CONCURRENT = 2
# The manager's own queue enforces max_concurrent. The pool must start whatever it is handed at once (a thread
# still returning from a finished job counts as busy for a moment), so its cap only guards against runaways.
POOL_THREADS = 64
STALL_S = 3.0
"""A running job that reported nothing for this long shows no rate or ETA (the core reports on bytes moved)."""


class EventBuffer:
    """Events reported by worker threads, taken by the GUI thread in one batch per tick."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[JobEvent] = []

    def put(self, event: JobEvent) -> None:
        with self._lock:
            self._events.append(event)

    def take_all(self) -> list[JobEvent]:
        with self._lock:
            events, self._events = self._events, []
        return events

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)


def run_job(job: FileCopyJob, backends: BackendCache, buffer: EventBuffer) -> None:
    """What a job's worker runs: the job, reporting into ``buffer``; its backends are closed however it ends."""
    try:
        job.run(buffer.put)
    finally:
        try:
            backends.close()
        except Exception:
            log.exception("closing the backends of job %s failed", job.job_id)


class JobManager(QObject):
    """Queues copy jobs, runs at most ``max_concurrent`` at once and reports their progress to the GUI thread.

    ``jobs_changed(ids)`` comes at most once per tick for the jobs whose state moved; ``job_ended(id, state,
    destination)`` once per job when it finishes, fails or is cancelled.
    """

    job_added = Signal(str)
    jobs_changed = Signal(list)
    job_ended = Signal(str, str, str)
    jobs_removed = Signal(list)
    queue_paused_changed = Signal(bool)

    def __init__(
        self,
        backends_factory: Callable[[], BackendCache],
        settings: TransferSettings | None = None,
        *,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        tick_ms: int = TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._backends_factory = backends_factory
        self._settings = settings
        self._max_concurrent = max(1, max_concurrent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(POOL_THREADS, self._max_concurrent))
        self._states: dict[str, JobState] = {}
        self._queue: deque[str] = deque()
        self._running: dict[str, FileCopyJob] = {}
        self._buffer = EventBuffer()
        self._dirty: dict[str, None] = {}
        self._paused = False
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)
        self._journal = _open_journal()

    # -- queries --------------------------------------------------------------------------------------------
    def state(self, job_id: str) -> JobState:
        return self._states[job_id]

    def job_ids(self) -> list[str]:
        """Every known job, oldest first."""
        return list(self._states)

    def active_states(self) -> list[JobState]:
        """The jobs queued or running, oldest first."""
        return [state for state in self._states.values() if state.is_active]

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def max_concurrent(self) -> int:
        return self._max_concurrent

    @property
    def running_count(self) -> int:
        return len(self._running)

    @property
    def queued_count(self) -> int:
        return len(self._queue)

    @property
    def journal(self) -> Journal | None:
        """The user's job journal, or None when it could not be opened (jobs then run without it)."""
        return self._journal

    def unfinished_jobs(self) -> list[JobInfo]:
        """Journaled jobs an earlier run left unfinished (interrupted, cancelled, failed) that can be resumed now:
        not running in some process, not known to this manager. Raises JournalError if the journal is unreadable."""
        if self._journal is None:
            return []
        jobs = _read(self._journal, self._journal.unfinished_jobs)
        return [info for info in jobs if info.state != "running" and info.id not in self._states]

    # -- commands -------------------------------------------------------------------------------------------
    def submit(self, action: CopyAction, title: str = "") -> str:
        """Queue ``action``; it starts as soon as a slot is free and the queue is not paused."""
        return self._submit(action, title)

    def resume(self, journal_job_id: str, info: JobInfo | None = None) -> str:
        """Queue an unfinished journaled job again under its own id: the core skips the files it copied before
        (after checking them) and resumes partial downloads. Returns the id; NotFoundError / ConflictError /
        JournalError when it cannot be resumed. With ``info`` (as the window read it off the GUI thread) the journal
        is not read again here; the job's own start checks it once more."""
        if self._journal is None:
            raise JournalError("the job journal could not be opened, so no job can be resumed")
        journal = self._journal
        if info is None or info.id != journal_job_id:
            info = _read(journal, lambda: journal.job(journal_job_id))
        where = f"job {info.id}"
        known = self._states.get(info.id)
        if info.state == "finished":
            raise errors.ConflictError("the job has already finished", path=where)
        if info.state == "running" or (known is not None and known.is_active):
            raise errors.ConflictError("the job is running", path=where)
        if known is not None:  # an ended row of this session: the resumed job takes its place
            self._forget([info.id])
        action = CopyAction.from_dict(info.action)
        return self._submit(action, action_title(action), job_id=info.id, resumed=True)

    def discard_unfinished(self, journal_job_id: str) -> list[str]:
        """Forget an unfinished journaled job and delete the partial files it left; returns those files' paths.
        Blocking (SQLite, the disk): the window uses ``discard_unfinished_in_background``."""
        journal = self._discardable(journal_job_id)
        return _discard(journal, journal_job_id)

    def discard_unfinished_in_background(
        self, job_ids: list[str], on_done: Callable[[list[str], list[errors.SdError]], object]
    ) -> Task[list[str]]:
        """Discard each of ``job_ids`` off the GUI thread (the journal may wait on another process's write lock);
        then ``on_done(discarded ids, problems)`` runs in the GUI thread."""
        problems: list[errors.SdError] = []
        wanted: list[tuple[str, Journal]] = []
        for job_id in job_ids:  # what this manager knows is checked here, in the GUI thread
            try:
                wanted.append((job_id, self._discardable(job_id)))
            except errors.SdError as exc:
                problems.append(exc)

        def discard_all() -> list[str]:
            done = []
            for job_id, journal in wanted:
                try:
                    _discard(journal, job_id)
                except errors.SdError as exc:
                    problems.append(exc)
                else:
                    done.append(job_id)
            return done

        def failed(exc: Exception) -> None:
            problems.append(exc if isinstance(exc, errors.SdError) else errors.SdError(f"unexpected error: {exc}"))
            on_done([], problems)

        return run_task(discard_all, lambda done: on_done(done, problems), failed, context=self)

    def _discardable(self, journal_job_id: str) -> Journal:
        if self._journal is None:
            raise JournalError("the job journal could not be opened, so there is nothing to discard")
        known = self._states.get(journal_job_id)
        if known is not None and known.is_active:
            raise errors.ConflictError("the job is running; cancel it first", path=f"job {journal_job_id}")
        return self._journal

    def _submit(
        self,
        action: CopyAction,
        title: str,
        retry_of: str | None = None,
        *,
        job_id: str | None = None,
        resumed: bool = False,
    ) -> str:
        if self._closed:
            raise RuntimeError("the job manager has shut down")
        job_id = job_id or uuid.uuid4().hex[:12]
        self._states[job_id] = JobState.for_action(job_id, action, title, retry_of=retry_of, resumed=resumed)
        self._queue.append(job_id)
        self.job_added.emit(job_id)
        self._start_queued()
        return job_id

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job at once, or ask a running one to stop; False if it had already ended."""
        state = self._states[job_id]
        if state.state == "queued":
            self._queue.remove(job_id)
            state.mark_cancelled()
            self.jobs_changed.emit([job_id])
            self._emit_ended(job_id)
            return True
        job = self._running.get(job_id)
        if state.state == "running" and job is not None:
            job.cancel()
            state.cancel_requested = True
            self.jobs_changed.emit([job_id])
            return True
        return False

    def retry(self, job_id: str) -> str:
        """A new job doing what ``job_id`` left undone (only its failed files when that is exact)."""
        state = self._states[job_id]
        if not state.is_ended:
            raise ValueError(f"job {job_id} is still {state.state}")
        return self._submit(retry_action(state), state.title, retry_of=job_id)

    def pause_queue(self) -> None:
        """Queued jobs stay queued; running ones continue."""
        if not self._paused:
            self._paused = True
            self.queue_paused_changed.emit(True)

    def resume_queue(self) -> None:
        if self._paused:
            self._paused = False
            self.queue_paused_changed.emit(False)
            self._start_queued()

    @property
    def settings(self) -> TransferSettings | None:
        """What jobs started from now on are given (None: the core's defaults)."""
        return self._settings

    def set_settings(self, settings: TransferSettings | None) -> None:
        """Jobs started from now on use ``settings``; running ones keep theirs."""
        self._settings = settings

    def set_max_concurrent(self, n: int) -> None:
        """At most ``n`` jobs run at once; lowering it lets running jobs finish."""
        self._max_concurrent = max(1, n)
        self._pool.setMaxThreadCount(max(POOL_THREADS, self._max_concurrent))
        self._start_queued()

    def clear_finished(self) -> list[str]:
        """Forget the jobs that finished successfully; failed and cancelled ones stay for Retry."""
        removed = [job_id for job_id, state in self._states.items() if state.state == "finished"]
        self._forget(removed)
        return removed

    def _forget(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            del self._states[job_id]
            self._dirty.pop(job_id, None)
        if job_ids:
            self.jobs_removed.emit(job_ids)

    def shutdown(self, timeout_s: float = 5.0, *, discard: bool = False) -> bool:
        """Cancel everything and wait up to ``timeout_s`` for the workers; True if they all stopped. With
        ``discard`` the jobs that were still active are forgotten by the journal and their partial files deleted
        (the user cancelled them), else the next start offers to resume them."""
        self._closed = True
        self._paused = True
        active = [state.job_id for state in self.active_states()]
        for job_id in list(self._queue):
            self.cancel(job_id)
        for job in list(self._running.values()):
            job.cancel()
        stopped = self._pool.waitForDone(max(0, int(timeout_s * 1000)))
        if stopped:
            self._running.clear()
        self._tick()
        self._timer.stop()
        if discard and self._journal is not None:
            for job_id in active:
                if job_id in self._running:
                    continue  # still stopping: the next start offers it
                try:
                    _discard(self._journal, job_id)
                except errors.SdError as exc:
                    log.warning("cannot discard job %s on quitting: %s", job_id, exc)
        if not stopped:
            # Their threads still write to the journal; it is left open for them (the process is closing anyway).
            log.warning("%d copy jobs did not stop within %.1f s", len(self._running), timeout_s)
        elif self._journal is not None:
            self._journal.close()
            self._journal = None
        return stopped

    # -- running --------------------------------------------------------------------------------------------
    def _start_queued(self) -> None:
        while self._queue and not self._paused and len(self._running) < self._max_concurrent:
            self._dispatch(self._queue.popleft())

    def _dispatch(self, job_id: str) -> None:
        state = self._states[job_id]
        state.mark_running()
        self._mark_dirty(job_id)
        try:
            backends = self._backends_factory()
        except Exception as exc:  # e.g. an unreadable volumes file: the job fails, the window stays up
            log.exception("cannot open the volumes for job %s", job_id)
            self._buffer.put(JobFailed(job_id, "config", f"cannot open the volumes: {exc}"))
            return
        if state.retry_of is not None:
            self._discard_replaced(state.retry_of)
        job = FileCopyJob(state.action, backends, settings=self._settings, job_id=job_id, journal=self._journal)
        state.concurrency_max = job.settings.file_concurrency
        self._running[job_id] = job
        run_task(
            lambda: run_job(job, backends, self._buffer),
            lambda _: self._on_worker_done(job_id),
            lambda exc: self._on_job_crashed(job_id, exc),
            context=self,
            pool=self._pool,
        )

    def _discard_replaced(self, job_id: str) -> None:
        """A retry does what ``job_id`` left undone under a new id: the old journal record must not be offered for
        resuming later as well."""
        if self._journal is None:
            return
        try:
            self._journal.discard(job_id)
        except (errors.SdError, sqlite3.Error) as exc:
            log.warning("cannot remove job %s, replaced by a retry, from the journal: %s", job_id, exc)

    def _on_job_crashed(self, job_id: str, exc: Exception) -> None:
        """A bug below the job must still end it visibly, not leave it "running"."""
        log.error("copy job %s crashed: %s", job_id, exc)
        self._buffer.put(JobFailed(job_id, "internal", f"internal error: {exc}"))
        self._on_worker_done(job_id)

    def _on_worker_done(self, job_id: str) -> None:
        self._running.pop(job_id, None)
        self._start_queued()

    def _mark_dirty(self, job_id: str) -> None:
        self._dirty[job_id] = None
        if not self._timer.isActive():
            self._timer.start()

    def _tick(self) -> None:
        """Apply every buffered event; one jobs_changed for all the jobs that moved, then their job_ended."""
        changed, self._dirty = self._dirty, {}
        ended: list[str] = []
        for event in self._buffer.take_all():
            state = self._states.get(event.job_id)
            if state is None:
                continue
            was_ended = state.is_ended
            state.apply(event)
            changed[event.job_id] = None
            if state.is_ended and not was_ended:
                ended.append(event.job_id)
        now = time.time()
        for job_id in self._running:
            state = self._states.get(job_id)
            if state is not None and state.mark_stalled_if_quiet(STALL_S, now):
                changed[job_id] = None
        if changed:
            self.jobs_changed.emit(list(changed))
        for job_id in ended:
            self._emit_ended(job_id)
        if not self._running and not self._dirty and not len(self._buffer):
            self._timer.stop()

    def _emit_ended(self, job_id: str) -> None:
        state = self._states[job_id]
        self.job_ended.emit(job_id, state.state, state.destination_text)


def _read(journal: Journal, query: Callable[[], T]) -> T:
    """``query``'s answer; a damaged database or row becomes a JournalError (the journal's own errors pass)."""
    try:
        return query()
    except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        raise JournalError(f"cannot read the job journal {journal.path}: {exc}") from None


def _discard(journal: Journal, job_id: str) -> list[str]:
    try:
        removed = journal.discard(job_id)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot write the job journal {journal.path}: {exc}") from None
    return [str(path) for path in removed]


def _open_journal() -> Journal | None:
    try:
        return Journal()
    except (JournalError, OSError) as exc:
        log.warning("%s; copy jobs run without the journal and cannot be resumed after a crash", exc)
        return None
