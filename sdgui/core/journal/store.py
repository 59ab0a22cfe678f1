"""The job journal: every job and the state of each of its files, in SQLite, so an interrupted job can resume.

One connection, used only here and guarded by a lock, writes everything. State changes (a file done or failed)
are written within ``MIN_WRITE_GAP_S``; progress (download parts, upload tokens) is batched and written every
``FLUSH_INTERVAL_S``, so a crash forgets at most that much progress and never claims bytes that were not there.
A job holds an OS file lock while it runs: a job whose lock is free but whose state is still "running" was
interrupted (crash, kill, reboot) and can be resumed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdgui.core import errors
from sdgui.core.journal.info import FileInfo, JobInfo, JournalError
from sdgui.core.journal.lock import JobLock, unlink_quietly
from sdgui.core.journal.records import JobRecord, JournaledAction
from sdgui.core.volumes import data_dir

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"
FLUSH_INTERVAL_S = 0.5
"""Progress is written at most this often."""
MIN_WRITE_GAP_S = 0.2
"""State changes wake the writer, but two writes are at least this far apart."""
SCHEMA_VERSION = 1


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    state TEXT NOT NULL,
    action TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    dst_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    bytes_confirmed INTEGER NOT NULL DEFAULT 0,
    blake3 TEXT,
    error TEXT,
    message TEXT,
    download TEXT,
    temp_path TEXT,
    PRIMARY KEY (job_id, file_id),
    UNIQUE (job_id, source)
);
CREATE TABLE IF NOT EXISTS resume_tokens (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);
"""


class Journal:
    """The journal database (``data_dir()/journal.sqlite3`` by default); thread-safe, one per process is enough."""

    def __init__(self, path: Path | None = None, *, flush_interval: float = FLUSH_INTERVAL_S) -> None:
        self.path = path if path is not None else data_dir() / JOURNAL_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock_dir = self.path.parent / "journal-locks"
        self.flush_interval = flush_interval
        self.transactions = 0
        """Write transactions committed so far (tests check the batching with it)."""
        self._db_lock = threading.RLock()
        self._pending_lock = threading.Lock()
        self._files: dict[tuple[str, int], dict[str, Any]] = {}
        self._tokens: dict[tuple[str, str], str | None] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = False
        try:
            self._db = sqlite3.connect(self.path, timeout=15, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the job journal {self.path}: {exc}") from None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- low level --------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, under the connection's lock."""
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            if self._db.in_transaction:
                self._db.execute("COMMIT")
            self.transactions += 1

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._db_lock:
            return self._db.execute(sql, args).fetchall()

    def stage_file(self, job_id: str, file_id: int, values: dict[str, Any], *, urgent: bool) -> None:
        with self._pending_lock:
            self._files.setdefault((job_id, file_id), {}).update(values)
        self._poke(urgent)

    def stage_token(self, job_id: str, name: str, token: str | None, *, urgent: bool) -> None:
        with self._pending_lock:
            self._tokens[(job_id, name)] = token
        self._poke(urgent)

    def _poke(self, urgent: bool) -> None:
        if self._writer is None and not self._closed:
            with self._pending_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, name="sdgui-journal", daemon=True)
                    self._writer.start()
        if urgent:
            self._wake.set()

    def _write_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()
            self._stopping.wait(MIN_WRITE_GAP_S)

    def flush(self) -> None:
        """Write every staged change now, in one transaction."""
        with self._db_lock:  # held from taking the batch to writing it, so batches land in order
            if self._closed:
                return
            with self._pending_lock:
                files, self._files = self._files, {}
                tokens, self._tokens = self._tokens, {}
            if files or tokens:
                self._write(files, tokens)

    def _write(self, files: dict[tuple[str, int], dict[str, Any]], tokens: dict[tuple[str, str], str | None]) -> None:
        try:
            with self.transaction() as db:
                now = time.time()
                for (job_id, file_id), values in files.items():
                    columns = ", ".join(f"{name} = ?" for name in values)
                    db.execute(
                        f"UPDATE files SET {columns} WHERE job_id = ? AND file_id = ?",
                        [*values.values(), job_id, file_id],
                    )
                for (job_id, name), token in tokens.items():
                    if token is None:
                        db.execute("DELETE FROM resume_tokens WHERE job_id = ? AND name = ?", (job_id, name))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO resume_tokens (job_id, name, token) VALUES (?, ?, ?)",
                            (job_id, name, token),
                        )
                for job_id in {job for job, _ in files} | {job for job, _ in tokens}:
                    db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (now, job_id))
        except sqlite3.Error as exc:
            log.warning("cannot write the job journal (%s); will try again", exc)
            with self._pending_lock:  # put the batch back under anything staged since
                for key, values in files.items():
                    self._files[key] = {**values, **self._files.get(key, {})}
                for token_key, token in tokens.items():
                    self._tokens.setdefault(token_key, token)

    def staged_token(self, job_id: str, name: str) -> str | None:
        """A token staged but not written yet: its JSON, None when it was cleared, "" when nothing is staged."""
        with self._pending_lock:
            return self._tokens.get((job_id, name), "")

    def close(self) -> None:
        """Write what is staged and close; safe to call twice."""
        if self._closed:
            return
        self._stopping.set()
        self._wake.set()
        if self._writer is not None:
            self._writer.join(timeout=10)
        self.flush()
        with self._db_lock:
            self._closed = True
            self._db.close()

    # -- jobs -------------------------------------------------------------------------------------------------
    def begin(self, job_id: str, action: JournaledAction) -> JobRecord:
        """Record a new job, or take up an unfinished one with this id; ConflictError if it runs elsewhere."""
        lock = JobLock(self.lock_dir / f"{job_id}.lock")
        if not lock.acquire():
            raise errors.ConflictError("the job is running in another sdgui process", path=f"job {job_id}")
        try:
            now = time.time()
            with self.transaction() as db:
                row = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is not None and row[0] == "finished":
                    raise errors.ConflictError("the job has already finished", path=f"job {job_id}")
                if row is None:
                    db.execute(
                        "INSERT INTO jobs (id, created, updated, state, action, summary) VALUES (?, ?, ?, ?, ?, ?)",
                        (job_id, now, now, "running", json.dumps(action.to_dict()), action.summary()),
                    )
                else:
                    db.execute("UPDATE jobs SET state = 'running', updated = ? WHERE id = ?", (now, job_id))
        except sqlite3.Error as exc:
            lock.release()
            raise JournalError(f"cannot write the job journal {self.path}: {exc}") from None
        except BaseException:
            lock.release()
            raise
        return JobRecord(self, job_id, lock)

    def unfinished_jobs(self) -> list[JobInfo]:
        """Jobs not finished yet, oldest first: interrupted, cancelled, failed, or running in some process."""
        return self._jobs("WHERE j.state != 'finished'")

    def job(self, id_or_prefix: str) -> JobInfo:
        """The job with this id (or the only one whose id starts with it); NotFoundError otherwise."""
        rows = self.query(
            "SELECT id FROM jobs WHERE id = ? OR substr(id, 1, ?) = ?",
            (id_or_prefix, len(id_or_prefix), id_or_prefix),
        )
        ids = sorted({row[0] for row in rows})
        if id_or_prefix in ids:
            ids = [id_or_prefix]
        if len(ids) != 1 or not id_or_prefix:
            detail = "no such job" if not ids else f"{len(ids)} jobs start with {id_or_prefix!r}; give more of the id"
            raise errors.NotFoundError(detail, path=f"job {id_or_prefix}")
        return self._jobs("WHERE j.id = ?", (ids[0],))[0]

    def files(self, job_id: str) -> list[FileInfo]:
        """Every file of a job, in the order the job first listed them (staged changes written first)."""
        self.flush()
        rows = self.query(
            "SELECT file_id, source, dst_key, size, state, bytes_confirmed, blake3, error, message, temp_path "
            "FROM files WHERE job_id = ? ORDER BY file_id",
            (job_id,),
        )
        return [FileInfo(*row) for row in rows]

    def discard(self, job_id: str) -> list[Path]:
        """Forget a job that is not running and remove its leftover partial files; returns the files removed."""
        lock = JobLock(self.lock_dir / f"{job_id}.lock")
        if not lock.acquire():
            raise errors.ConflictError("the job is running; cancel it first", path=f"job {job_id}")
        try:
            self.flush()
            temps = [Path(row[0]) for row in self.query(
                "SELECT temp_path FROM files WHERE job_id = ? AND temp_path IS NOT NULL", (job_id,)
            )]  # fmt: skip
            with self.transaction() as db:
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            removed = [path for path in temps if unlink_quietly(path)]
        finally:
            lock.release(remove=True)
        return removed

    def _jobs(self, where: str, args: Sequence[Any] = ()) -> list[JobInfo]:
        self.flush()
        rows = self.query(
            "SELECT j.id, j.created, j.updated, j.state, j.action, j.summary, COUNT(f.file_id), "
            "COALESCE(SUM(f.state = 'done'), 0), COALESCE(SUM(f.state = 'failed'), 0), COALESCE(SUM(f.size), 0), "
            "COALESCE(SUM(CASE WHEN f.state = 'done' THEN f.size ELSE f.bytes_confirmed END), 0) "
            f"FROM jobs j LEFT JOIN files f ON f.job_id = j.id {where} GROUP BY j.id ORDER BY j.created, j.id",
            args,
        )
        jobs = []
        for job_id, created, updated, state, action, summary, total, done, failed, size, size_done in rows:
            if state == "running" and not JobLock(self.lock_dir / f"{job_id}.lock").held_elsewhere():
                state = "interrupted"
            jobs.append(
                JobInfo(
                    job_id,
                    datetime.fromtimestamp(created, UTC),
                    datetime.fromtimestamp(updated, UTC),
                    state,
                    json.loads(action),
                    summary,
                    total,
                    done,
                    failed,
                    size,
                    size_done,
                )
            )
        return jobs
