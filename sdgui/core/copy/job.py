"""FileCopyJob: expands a validated CopyAction into files, copies them with bounded concurrency, reports events."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.action import CopyAction, ResolvedAction, ResolvedSource
from sdgui.core.copy.already_copied import copied_before
from sdgui.core.copy.conflicts import DestinationIndex
from sdgui.core.copy.context import CopyContext, CopyItem, FileOutcome, TransferTally, label_of
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
from sdgui.core.copy.flow.bandwidth import BandwidthLimiter
from sdgui.core.copy.flow.concurrency import ChangeReason, ConcurrencyGate
from sdgui.core.copy.flow.rate import RateMeter
from sdgui.core.copy.flow.retry import FileAttempts, FileRetrier, RetryPolicy
from sdgui.core.copy.router import CopyStrategyRouter
from sdgui.core.journal import JobRecord, Journal, JournalError
from sdgui.core.paths import relative_key, safe_local_target
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
        self.job_id = job_id or uuid.uuid4().hex[:12]
        self.router = router or CopyStrategyRouter()
        self.cancel_token = CancelToken()
        self._lock = threading.Lock()
        self._bytes_done = 0
        self._bytes_total = 0
        self._files_done = 0
        self._files_total = 0
        self._current = ""
        self._last_emit = 0.0
        self._rate = RateMeter()
        self._sink: EventSink = lambda event: None
        self._first_failure: errors.SdError | None = None
        self.journal = journal
        self.journal_record: JobRecord | None = None
        """Set once the job is recorded in the journal (after its files are known)."""
        self._tally = TransferTally()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    # -- running ----------------------------------------------------------------
    def run(self, sink: EventSink) -> JobEvent:
        """Run to the end; returns the final event (finished, failed or cancelled), which ``sink`` also got."""
        self._sink = sink
        started = time.monotonic()
        counts: Counter[str] = Counter()
        try:
            resolved = self.action.validate(self.backends)
            items = self._expand(resolved)
            self._attach_journal(items)
            self._files_total = len(items)
            self._bytes_total = sum(item.size for item in items)
            strategies = Counter(self.router.select(i.src, i.dst, i.size).name for i in items)
            headline = (
                strategies.most_common(1)[0][0]
                if strategies
                else self.router.select(resolved.sources[0].backend, resolved.dst_backend).name
            )
            self._emit(
                JobStarted(
                    self.job_id,
                    files=self._files_total,
                    bytes_total=self._bytes_total,
                    strategy=headline if len(strategies) <= 1 else "mixed",
                    sources=[str(s) for s in self.action.sources],
                    destination=str(self.action.destination),
                    move=self.action.options.delete_after_copy,
                )
            )
            self._copy_all(resolved, items, counts)
            if resolved.options.delete_after_copy:
                _remove_moved_dirs(resolved)
        except errors.CancelledError:
            return self._final(JobCancelled(self.job_id, files_done=counts["done"]))
        except errors.SdError as exc:
            return self._final(JobFailed(self.job_id, exc.kind, str(exc), counts["done"], counts["failed"]))
        self._progress("finishing", force=True)
        if counts["failed"]:
            kinds = sorted(k.removeprefix("error:") for k in counts if k.startswith("error:"))
            message = f"{counts['failed']} of {self._files_total} files failed; first: {self._first_failure}"
            return self._final(
                JobFailed(
                    self.job_id,
                    kinds[0] if len(kinds) == 1 else "several",
                    message,
                    counts["done"],
                    counts["failed"],
                )
            )
        return self._final(
            JobFinished(
                self.job_id,
                files_done=counts["done"],
                files_skipped=counts["skipped"],
                bytes_done=self._bytes_done,
                elapsed_s=round(time.monotonic() - started, 3),
                verified=counts["verified"],
                provider_checked=counts["provider-checked"],
                unverified=counts["unverified"],
                bytes_transferred=self._tally.transferred,
                bytes_resumed=self._tally.resumed,
            )
        )

    def _final(self, event: JobEvent) -> JobEvent:
        if self.journal_record is not None:
            finished, cancelled = isinstance(event, JobFinished), isinstance(event, JobCancelled)
            self.journal_record.end("finished" if finished else "cancelled" if cancelled else "failed")
        self._emit(event)
        return event

    def _attach_journal(self, items: list[CopyItem]) -> None:
        """Record the job and its files, or take up the journal's record of them when resuming."""
        if self.journal is None:
            return
        try:
            self.journal_record = self.journal.begin(self.job_id, self.action)
            records = self.journal_record.files([(item.source_label, item.dst_key, item.size) for item in items])
        except JournalError as exc:
            log.warning("%s; this job runs without it and cannot be resumed", exc)
            if self.journal_record is not None:
                self.journal_record.end("failed")
                self.journal_record = None
            return
        for item, record in zip(items, records, strict=True):
            item.record = record

    # -- expansion --------------------------------------------------------------
    def _expand(self, resolved: ResolvedAction) -> list[CopyItem]:
        items: list[CopyItem] = []
        for source in resolved.sources:
            items.extend(self._expand_source(resolved, source))
        return items

    def _expand_source(self, resolved: ResolvedAction, source: ResolvedSource) -> Iterator[CopyItem]:
        dst = resolved.dst_backend
        if not source.is_dir:
            yield CopyItem(source.backend, source.key, dst, source.target_key, source.size)
            return
        self._progress("scanning", force=True)
        for page in source.backend.list(source.key, recursive=True):
            self.cancel_token.check()
            for entry in page:
                rel = relative_key(source.key, entry.key)
                refused: errors.SdError | None = None
                try:
                    target = self._target_key(dst, source.target_key, rel)
                except errors.InvalidPathError as exc:
                    target = f"{source.target_key}/{rel}"
                    refused = exc.at(path=label_of(dst, target))
                yield CopyItem(source.backend, entry.key, dst, target, entry.size, entry, refused)

    def _target_key(self, dst: object, base: str, rel: str) -> str:
        from sdgui.core.backends.local import LocalBackend

        if isinstance(dst, LocalBackend):
            # Keys from a listing may try to climb out of the target directory: refuse, write nothing.
            path = safe_local_target(dst.path(base), rel)
            return dst.key_of(path)
        return f"{base}/{rel}" if base else rel

    # -- copying ----------------------------------------------------------------
    def _copy_all(self, resolved: ResolvedAction, items: list[CopyItem], counts: Counter[str]) -> None:
        ctx = CopyContext(
            settings=self.settings,
            cancel=self.cancel_token,
            verify=resolved.options.verify,
            preserve_mtime=resolved.options.preserve_mtime,
            resume_tokens=self.journal_record,
            bandwidth=BandwidthLimiter(self.settings.bandwidth_limit),
        )
        index = DestinationIndex(resolved.dst_backend)
        large = threading.Semaphore(max(1, self.settings.large_file_slots))
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
        with ThreadPoolExecutor(self.settings.file_concurrency, thread_name_prefix="sdgui-file") as pool:
            pending: set[Future[None]] = set()
            for item in items:
                if self.cancel_token.cancelled or fatal:
                    break
                pending.add(pool.submit(self._copy_one, ctx, item, index, large, counts, fatal, retrier))
                if len(pending) >= self.settings.file_concurrency * 2:
                    _, pending = wait(pending, return_when=FIRST_COMPLETED)
            wait(pending)
        if fatal:
            raise fatal[0]
        self.cancel_token.check()

    def _copy_one(
        self,
        ctx: CopyContext,
        item: CopyItem,
        index: DestinationIndex,
        large: threading.Semaphore,
        counts: Counter[str],
        fatal: list[errors.SdError],
        retrier: FileRetrier,
    ) -> None:
        if self.cancel_token.cancelled or fatal:
            return
        tries = FileAttempts(item.size, self._add_bytes, self._tally)
        try:
            if item.refused is not None:
                raise item.refused
            if copied_before(item):
                tries.progress.confirm()
                self._count(counts, "skipped")
                self._emit(FileSkipped(self.job_id, item.source_label, item.destination_label, "copied-before"))
                return
            options = self.action.options
            chosen = retrier.run(
                lambda: index.resolve(item.dst_key, options.on_conflict, where=item.destination_label), item, tries
            )
            if chosen is None:
                tries.progress.confirm()
                self._count(counts, "skipped")
                self._emit(FileSkipped(self.job_id, item.source_label, item.destination_label, "exists"))
                return
            item.dst_key = chosen
            if item.record is not None:
                item.record.start(chosen)
            self._current = item.source_label
            strategy = self.router.select(item.src, item.dst, item.size)
            is_large = item.size > self.settings.multipart_threshold

            def transfer() -> FileOutcome:
                if is_large:
                    large.acquire()
                try:
                    return strategy.copy_file(ctx, item, tries.progress)
                finally:
                    if is_large:
                        large.release()

            outcome = retrier.run(transfer, item, tries, transfer=True)
            deleted = self._delete_source(item, outcome) if options.delete_after_copy else False
            self._count(counts, "done", outcome.verified)
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
            self._count(counts, "failed", f"error:{exc.kind}")
            with self._lock:
                self._first_failure = self._first_failure or exc
            log.warning("copy failed: %s", exc)
            self._emit(
                FileFailed(
                    self.job_id, item.source_label, item.destination_label, exc.kind, str(exc), attempts=tries.count
                )
            )
        finally:
            self._progress("transferring")

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
    def _count(self, counts: Counter[str], *keys: str) -> None:
        with self._lock:
            for key in keys:
                counts[key] += 1
            if "done" in keys or "skipped" in keys or "failed" in keys:
                self._files_done += 1

    def _add_bytes(self, delta: int) -> None:
        with self._lock:
            self._bytes_done += delta
            self._rate.add(delta)
        self._progress("transferring")

    def _progress(self, phase: Phase, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_emit < PROGRESS_INTERVAL_S:
                return
            self._last_emit = now
            rate = self._rate.rate()
            remaining = self._bytes_total - self._bytes_done
            event = Progress(
                self.job_id,
                phase=phase,
                current_file=self._current,
                bytes_done=self._bytes_done,
                bytes_total=self._bytes_total,
                files_done=self._files_done,
                files_total=self._files_total,
                rate=round(rate, 1),
                eta_s=round(remaining / rate, 1) if rate > 0 and phase == "transferring" else None,
            )
        self._emit(event)

    def _emit(self, event: JobEvent) -> None:
        try:
            self._sink(event)
        except Exception:  # a broken listener must not break the copy
            log.exception("event listener failed")


def _remove_moved_dirs(resolved: ResolvedAction) -> None:
    """After a move, remove the source directories the move emptied (local only; prefixes vanish by themselves)."""
    for source in resolved.sources:
        if source.is_dir and source.backend.capabilities.is_local:
            root = source.backend.path(source.key)  # type: ignore[attr-defined]
            for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    directory.rmdir()
            with contextlib.suppress(OSError):
                root.rmdir()
