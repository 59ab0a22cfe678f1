"""FileCopyJob: expands a validated CopyAction into files, copies them with bounded concurrency, reports events."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.action import CopyAction, ResolvedAction
from sdgui.core.copy.already_copied import copied_before
from sdgui.core.copy.conflicts import DestinationIndex
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, TransferTally
from sdgui.core.copy.events import (
    ConcurrencyChanged,
    FileDone,
    FileFailed,
    FileSkipped,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobStarted,
    Phase,
    Progress,
)
from sdgui.core.copy.expand import Expansion
from sdgui.core.copy.flow.bandwidth import BandwidthLimiter
from sdgui.core.copy.flow.concurrency import ChangeReason, ConcurrencyGate
from sdgui.core.copy.flow.in_flight import InFlight
from sdgui.core.copy.flow.rate import RateMeter
from sdgui.core.copy.flow.retry import FileAttempts, FileRetrier, RetryPolicy
from sdgui.core.copy.flow.size_slots import SizeSlots
from sdgui.core.copy.router import CopyStrategyRouter
from sdgui.core.copy.summary import JobSummary
from sdgui.core.journal import JobRecord, Journal, JournalError
from sdgui.core.memory import release_free_memory
from sdgui.core.python_slots import SLOTS
from sdgui.core.settings import TransferSettings

log = logging.getLogger(__name__)

EventSink = Callable[[JobEvent], None]
PROGRESS_INTERVAL_S = 0.1
_FATAL = (errors.CredentialsError, errors.KeyringUnavailableError, errors.DiskFullError)


class FileCopyJob:
    """One copy or move job. ``run`` blocks; call it from a worker thread and cancel through the token."""

    def __init__(
        self,
        action: CopyAction,
        backends: BackendCache,
        *,
        settings: TransferSettings | None = None,
        job_id: str | None = None,
        router: CopyStrategyRouter | None = None,
        journal: Journal | None = None,
    ) -> None:
        """With a ``journal`` the job and each file's state are recorded there, and a job whose ``job_id`` the
        journal already holds carries on where it stopped: done files are skipped, partial downloads resumed."""
        self.action = action
        self.backends = backends
        self.settings = settings or backends.settings
        self.job_id = job_id or os.urandom(6).hex()  # uuid4().hex[:12] without uuid, which imports platform
        self.router = router or CopyStrategyRouter()
        self.cancel_token = CancelToken()
        self._lock = threading.Lock()
        self._bytes_done = 0
        self._bytes_total = 0
        self._files_total = 0
        self._counting = True
        self._first_strategies: list[str] | None = None
        """The strategies of the first batch's files: the job's headline strategy."""
        self._failure_kinds: set[str] = set()
        self.account = JobSummary(self.job_id)
        """The job's own account of its events: the same reducer the CLI and the window use."""
        self._current = ""
        self._in_flight = 0
        """Files inside their strategy's copy_file right now."""
        self._verifying: dict[str, None] = {}
        """Source labels of the files checking their bytes after sending them (ctx.verifying)."""
        self._last_phase: Phase | None = None
        self._last_emit = 0.0
        self._rate = RateMeter()
        self._sink: EventSink = lambda event: None
        self._first_failure: errors.SdError | None = None
        self.journal = journal
        self.journal_record: JobRecord | None = None
        """Set once the job is recorded in the journal (before its files are listed)."""
        self._tally = TransferTally()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    # -- running ----------------------------------------------------------------
    def run(self, sink: EventSink) -> JobEvent:
        """Run to the end; returns the final event (finished, failed or cancelled), which ``sink`` also got."""
        self._sink = sink
        started = time.monotonic()
        try:
            resolved = self.action.validate(self.backends)
            self._begin_journal()
            self._progress("scanning", force=True)
            expansion = Expansion(
                resolved, self.cancel_token, record=lambda: self.journal_record, on_batch=self._listed
            )
            expansion.start()
            try:
                expansion.wait_first()
                self.cancel_token.check()
                self._emit(self._started_event(resolved, expansion))
                self._copy_all(resolved, expansion)
            finally:
                expansion.stop()
            if resolved.options.delete_after_copy:
                _remove_moved_dirs(resolved)
        except errors.CancelledError:
            return self._final(JobCancelled(self.job_id, files_done=self.account.files_copied))
        except errors.SdError as exc:
            account = self.account
            return self._final(JobFailed(self.job_id, exc.kind, str(exc), account.files_copied, account.files_failed))
        self._progress("finishing", force=True)
        account = self.account
        if account.files_failed:
            kinds = sorted(self._failure_kinds)
            message = f"{account.files_failed} of {self._files_total} files failed; first: {self._first_failure}"
            return self._final(
                JobFailed(
                    self.job_id,
                    kinds[0] if len(kinds) == 1 else "several",
                    message,
                    account.files_copied,
                    account.files_failed,
                )
            )
        return self._final(
            JobFinished(
                self.job_id,
                files_done=account.files_copied,
                files_skipped=account.files_skipped,
                bytes_done=self._bytes_done,
                elapsed_s=round(time.monotonic() - started, 3),
                verified=account.verified,
                provider_checked=account.provider_checked,
                unverified=account.unverified,
                bytes_transferred=self._tally.transferred,
                bytes_resumed=self._tally.resumed,
            )
        )

    def _started_event(self, resolved: ResolvedAction, expansion: Expansion) -> JobStarted:
        """What the job knows once its first files are listed: all of them, unless the listing goes on."""
        first = resolved.sources[0]
        with self._lock:
            files, size, strategies = self._files_total, self._bytes_total, Counter(self._first_strategies or [])
            self._counting = not expansion.ended
        headline = (
            strategies.most_common(1)[0][0]
            if strategies
            else self.router.select(first.backend, resolved.dst_backend).name
        )
        return JobStarted(
            self.job_id,
            files=files,
            bytes_total=size,
            strategy=headline if len(strategies) <= 1 else "mixed",
            sources=[str(s) for s in self.action.sources],
            destination=str(self.action.destination),
            move=self.action.options.delete_after_copy,
            direction=self.router.select(first.backend, resolved.dst_backend).direction,
            counting=not expansion.ended,
        )

    def _listed(self, batch: list[CopyItem]) -> None:
        """A batch of files is listed (called in the listing thread): the totals grow."""
        files = [item for item in batch if not item.is_folder]
        with self._lock:
            self._files_total += len(files)
            self._bytes_total += sum(item.size for item in files)
            if self._first_strategies is None:
                self._first_strategies = [self.router.select(i.src, i.dst, i.size).name for i in batch]

    def _final(self, event: JobEvent) -> JobEvent:
        if self.journal_record is not None:
            finished, cancelled = isinstance(event, JobFinished), isinstance(event, JobCancelled)
            self.journal_record.end("finished" if finished else "cancelled" if cancelled else "failed")
        self._emit(event)
        return event

    def _begin_journal(self) -> None:
        """Record the job, or take up the journal's record of it when resuming; its files follow in batches."""
        if self.journal is None:
            return
        try:
            self.journal_record = self.journal.begin(self.job_id, self.action)
        except JournalError as exc:
            log.warning("%s; this job runs without it and cannot be resumed", exc)

    # -- copying ----------------------------------------------------------------
    def _copy_all(self, resolved: ResolvedAction, expansion: Expansion) -> None:
        ctx = CopyContext(
            settings=self.settings,
            cancel=self.cancel_token,
            verify=resolved.options.verify,
            preserve_mtime=resolved.options.preserve_mtime,
            resume_tokens=self.journal_record,
            bandwidth=BandwidthLimiter(self.settings.bandwidth_limit),
            on_verifying=self._verifying_changed,
        )
        # Two sources may land on one name, and a rename must not pick a name the job already claimed; a single
        # source's files have distinct targets, so its job need not remember every name it wrote.
        claims = len(resolved.sources) > 1 or resolved.options.on_conflict == "rename"
        index = DestinationIndex(resolved.dst_backend, remember_claims=claims)
        sizes = SizeSlots(self.settings)
        fatal: list[errors.SdError] = []
        # The pool stays at the maximum; the gate decides how many files transfer (fewer while throttled).
        gate = ConcurrencyGate(
            self.settings.file_concurrency,
            recover_after=self.settings.concurrency_recovery_after,
            on_change=self._concurrency_changed,
        )
        retrier = FileRetrier(
            self.job_id, RetryPolicy.from_settings(self.settings), gate, self.cancel_token, self._emit, fatal
        )
        self._progress("transferring", force=True)
        SLOTS.set_limit(self.settings.python_slots)
        with ThreadPoolExecutor(self.settings.file_concurrency, thread_name_prefix="sdgui-file") as pool:
            in_flight = InFlight(pool, self.settings.file_concurrency * 2)  # a queue of one pool's width
            try:
                for batch in expansion.batches():
                    for item in batch:
                        if self.cancel_token.cancelled or fatal:
                            break
                        in_flight.submit(SLOTS.run, self._copy_one, ctx, item, index, sizes, fatal, retrier)
                    if self.cancel_token.cancelled or fatal:
                        break
                    release_free_memory()  # what the batch before this one freed: RSS stays flat
                else:
                    if self._counting:
                        with self._lock:
                            self._counting = False
                        self._progress("transferring", force=True)
            finally:
                in_flight.wait_all()
                self._make_durable(ctx, fatal)
        if fatal:
            raise fatal[0]
        self.cancel_token.check()

    @staticmethod
    def _make_durable(ctx: CopyContext, fatal: list[errors.SdError]) -> None:
        """The small files written without their fsyncs, synced before the job says how it ended; a failure to
        sync fails the job (their bytes may not be on the disk)."""
        try:
            ctx.deferred_sync.flush()
        except errors.SdError as exc:
            log.error("written files could not be made durable: %s", exc)
            fatal.append(exc)

    def _copy_one(
        self,
        ctx: CopyContext,
        item: CopyItem,
        index: DestinationIndex,
        sizes: SizeSlots,
        fatal: list[errors.SdError],
        retrier: FileRetrier,
    ) -> None:
        if self.cancel_token.cancelled or fatal:
            return
        if item.is_folder:
            if self._make_folder(item) and self.action.options.delete_after_copy:
                self._delete_folder_marker(item)
            return
        tries = FileAttempts(item.size, self._add_bytes, self._tally)
        try:
            if item.refused is not None:
                raise item.refused
            if copied_before(item):
                tries.progress.confirm()
                self._emit(FileSkipped(self.job_id, item.source_label, item.destination_label, "copied-before"))
                return
            options = self.action.options
            if index.needs_no_lookup(options.on_conflict):
                chosen: str | None = item.dst_key  # nothing asked of the destination: nothing to retry or gate
            else:
                chosen = retrier.run(
                    lambda: index.resolve(item.dst_key, options.on_conflict, where=item.destination_label), item, tries
                )
            if chosen is None:
                tries.progress.confirm()
                self._emit(FileSkipped(self.job_id, item.source_label, item.destination_label, "exists"))
                return
            item.dst_key = chosen
            if item.record is not None:
                item.record.start(chosen)
            self._current = item.source_label
            strategy = self.router.select(item.src, item.dst, item.size)

            def transfer() -> FileOutcome:
                with sizes.held(item.size):
                    with self._lock:
                        self._in_flight += 1
                    try:
                        return strategy.copy_file(ctx, item, tries.progress)
                    finally:
                        with self._lock:
                            self._in_flight -= 1

            outcome = retrier.run(transfer, item, tries, transfer=True)
            deleted = self._delete_source(item, outcome) if options.delete_after_copy else False
            if item.record is not None:
                item.record.done(outcome.size, outcome.blake3)
            self._emit(
                FileDone(
                    self.job_id,
                    item.source_label,
                    item.destination_label,
                    outcome.size,
                    outcome.blake3,
                    outcome.verified,
                    strategy.name,
                    deleted,
                    outcome.bytes_resumed,
                    outcome.note,
                    attempts=tries.count,
                    # Every other way to "verified" (a local copy, a read-back) compares blake3s.
                    check=outcome.check or ("blake3" if outcome.verified == "verified" else None),
                )
            )
            tries.progress.confirm()  # after file_done: listeners never see 100 % before the file is confirmed
        except errors.CancelledError:
            if item.record is not None:
                item.record.reset()
            return
        except errors.SdError as exc:
            if item.record is not None:
                item.record.failed(exc.kind, str(exc))
            if isinstance(exc, _FATAL):
                fatal.append(exc)
            tries.progress.confirm()  # counted as processed, so progress never goes backwards
            with self._lock:
                self._first_failure = self._first_failure or exc
                self._failure_kinds.add(str(exc.kind))
            log.warning("copy failed: %s", exc)
            self._emit(
                FileFailed(
                    self.job_id,
                    item.source_label,
                    item.destination_label,
                    exc.kind,
                    str(exc),
                    attempts=tries.count,
                    destination_exists=isinstance(exc, errors.DestinationExistsError),
                )
            )
        finally:
            self._progress("transferring")

    def _make_folder(self, item: CopyItem) -> bool:
        """An empty source folder: made at the destination (a folder marker on S3), as ``cp -r`` keeps it. Where
        the volume cannot hold an empty folder it is left out and the log says so; it is not a file that failed."""
        try:
            item.dst.make_dir(item.dst_key)
        except errors.SdError as exc:
            log.info("empty folder %s not made: %s", item.destination_label, exc)
            return False
        return True

    def _delete_folder_marker(self, item: CopyItem) -> None:
        """Move: the source's folder marker goes once the folder is made at the destination (else the old folder
        would still list, empty); a local folder is removed at the job's end, when the move has emptied it."""
        try:
            item.src.delete_folder_marker(item.src_key)
        except errors.SdError as exc:
            log.warning("folder marker %s not deleted after the move: %s", item.source_label, exc)

    def _concurrency_changed(self, limit: int, reason: ChangeReason) -> None:
        log.info("copying %d files at once (%s)", limit, reason)
        self._emit(ConcurrencyChanged(self.job_id, limit, reason))

    def _delete_source(self, item: CopyItem, outcome: FileOutcome) -> bool:
        """Move: remove the source only once its copy is confirmed at the right size."""
        if outcome.size != item.size and item.size:
            raise errors.ChecksumMismatchError(
                "copied size differs from the source; the source was kept", path=item.source_label
            )
        item.src.delete(item.src_key)
        return True

    # -- accounting -------------------------------------------------------------
    def _add_bytes(self, delta: int) -> None:
        with self._lock:
            self._bytes_done += delta
            self._rate.add(delta)
        self._progress("transferring")

    def _verifying_changed(self, source: str, verifying: bool) -> None:
        with self._lock:
            if verifying:
                self._verifying[source] = None
            else:
                self._verifying.pop(source, None)
        self._progress("transferring")

    def _progress(self, phase: Phase, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if phase == "transferring" and self._counting:
                phase = "counting"
            current = self._current
            if phase in ("transferring", "counting") and self._verifying and len(self._verifying) >= self._in_flight:
                phase, current = "verifying", next(reversed(self._verifying))
            # A change of phase is always told; within one phase, at most every PROGRESS_INTERVAL_S.
            if not force and phase == self._last_phase and now - self._last_emit < PROGRESS_INTERVAL_S:
                return
            self._last_emit, self._last_phase = now, phase
            rate = self._rate.rate()
            remaining = self._bytes_total - self._bytes_done
            account = self.account
            event = Progress(
                self.job_id,
                phase=phase,
                current_file=current,
                bytes_done=self._bytes_done,
                bytes_total=self._bytes_total,
                files_done=account.files_copied + account.files_skipped + account.files_failed,
                files_total=self._files_total,
                rate=round(rate, 1),
                # While the listing goes on the totals grow: an ETA would be a guess.
                eta_s=round(remaining / rate, 1) if rate > 0 and phase == "transferring" else None,
            )
        self._emit(event)

    def _emit(self, event: JobEvent) -> None:
        with self._lock:
            self.account.apply(event)
        try:
            self._sink(event)
        except Exception:  # a broken listener must not break the copy
            log.exception("event listener failed")


def _remove_moved_dirs(resolved: ResolvedAction) -> None:
    """After a move, remove the source directories the move emptied (local only; prefixes vanish by themselves)."""
    for source in resolved.sources:
        root = source.backend.local_path(source.key) if source.is_dir else None
        if root is not None:
            for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    directory.rmdir()
            with contextlib.suppress(OSError):
                root.rmdir()
