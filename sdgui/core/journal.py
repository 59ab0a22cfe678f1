"""The job journal: every copy job and the state of each of its files, in SQLite, so an interrupted job can resume.

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
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.paths import SdPath
from sdgui.core.volumes import data_dir

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"
FLUSH_INTERVAL_S = 0.5
"""Progress is written at most this often."""
MIN_WRITE_GAP_S = 0.2
"""State changes wake the writer, but two writes are at least this far apart."""
KEEP_FINISHED_JOBS = 100
"""Finished jobs kept (without their files) as history."""
SCHEMA_VERSION = 1

JobState = Literal["running", "interrupted", "cancelled", "failed", "finished"]
FileState = Literal["pending", "active", "done", "failed"]

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


class JournalError(errors.SdError):
    """The journal database cannot be opened or written; a job then runs without it (and cannot resume)."""

    kind = "journal"


# -- what the journal stores ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadState:
    """How much of a download's temporary file is known to be on disk: per fixed-size part, the bytes written
    from the part's start (a finished part holds its whole length); the ETag the download is conditional on."""

    etag: str | None
    size: int
    part_size: int
    confirmed: dict[int, int] = field(default_factory=dict)
    temp_path: str | None = None

    @property
    def kept(self) -> int:
        return sum(self.confirmed.values())

    def to_json(self) -> str:
        done = sorted(i for i, n in self.confirmed.items() if n >= self.part_length(i))
        partial = {str(i): n for i, n in sorted(self.confirmed.items()) if 0 < n < self.part_length(i)}
        return json.dumps(
            {"etag": self.etag, "size": self.size, "part_size": self.part_size, "done": _runs(done), "partial": partial}
        )

    @classmethod
    def from_json(cls, text: str, temp_path: str | None) -> DownloadState | None:
        try:
            data = json.loads(text)
            state = cls(data["etag"], int(data["size"]), int(data["part_size"]), {}, temp_path)
            for start, end in data["done"]:
                for index in range(int(start), int(end) + 1):
                    state.confirmed[index] = state.part_length(index)
            for index, count in data["partial"].items():
                state.confirmed[int(index)] = int(count)
        except (ValueError, KeyError, TypeError):
            return None
        return state if state.part_size > 0 else None

    def part_length(self, index: int) -> int:
        return max(0, min(self.part_size, self.size - index * self.part_size))


def _runs(indexes: list[int]) -> list[list[int]]:
    """[0, 1, 2, 5, 7, 8] → [[0, 2], [5, 5], [7, 8]]: a 64k-part file with all parts done is one pair."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return runs


@dataclass(frozen=True)
class JobInfo:
    """One journaled job as ``sdgui jobs`` and the window list it."""

    id: str
    created: datetime
    updated: datetime
    state: JobState
    action: CopyAction
    summary: str
    files_total: int
    files_done: int
    files_failed: int
    bytes_total: int
    bytes_done: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = self.created.isoformat()
        data["updated"] = self.updated.isoformat()
        data["action"] = action_to_dict(self.action)
        return data


@dataclass(frozen=True)
class FileInfo:
    """One file of a journaled job, as stored."""

    file_id: int
    source: str
    dst_key: str
    size: int
    state: FileState
    bytes_confirmed: int
    blake3: str | None
    error: str | None
    message: str | None
    temp_path: str | None


def action_to_dict(action: CopyAction) -> dict[str, Any]:
    """A CopyAction as JSON-able data, enough to re-create it exactly."""

    def path(p: SdPath) -> dict[str, Any]:
        return {"volume": p.volume, "path": p.path, "is_dir": p.is_dir}

    return {
        "sources": [path(s) for s in action.sources],
        "destination": path(action.destination),
        "options": asdict(action.options),
    }


def action_from_dict(data: dict[str, Any]) -> CopyAction:
    def path(d: dict[str, Any]) -> SdPath:
        return SdPath(d["volume"], d["path"], bool(d["is_dir"]))

    known = CopyOptions.__dataclass_fields__
    options = CopyOptions(**{k: v for k, v in data["options"].items() if k in known})
    return CopyAction([path(s) for s in data["sources"]], path(data["destination"]), options)


def summarize(action: CopyAction) -> str:
    """``copy /data/photos/ → cloud:backup/`` or ``move 3 sources (a.txt, …) → …``."""
    verb = "move" if action.options.delete_after_copy else "copy"
    first = str(action.sources[0]) if action.sources else "?"
    what = first if len(action.sources) == 1 else f"{len(action.sources)} sources ({first}, …)"
    return f"{verb} {what} → {action.destination}"


# -- the journal ---------------------------------------------------------------------------------------------


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
    def _transaction(self) -> Iterator[sqlite3.Connection]:
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

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._db_lock:
            return self._db.execute(sql, args).fetchall()

    def _stage_file(self, job_id: str, file_id: int, values: dict[str, Any], *, urgent: bool) -> None:
        with self._pending_lock:
            self._files.setdefault((job_id, file_id), {}).update(values)
        self._poke(urgent)

    def _stage_token(self, job_id: str, name: str, token: str | None, *, urgent: bool) -> None:
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
            with self._transaction() as db:
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
    def begin(self, job_id: str, action: CopyAction) -> JobRecord:
        """Record a new job, or take up an unfinished one with this id; ConflictError if it runs elsewhere."""
        lock = JobLock(self.lock_dir / f"{job_id}.lock")
        if not lock.acquire():
            raise errors.ConflictError("the job is running in another sdgui process", path=f"job {job_id}")
        try:
            now = time.time()
            with self._transaction() as db:
                row = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is not None and row[0] == "finished":
                    raise errors.ConflictError("the job has already finished", path=f"job {job_id}")
                if row is None:
                    db.execute(
                        "INSERT INTO jobs (id, created, updated, state, action, summary) VALUES (?, ?, ?, ?, ?, ?)",
                        (job_id, now, now, "running", json.dumps(action_to_dict(action)), summarize(action)),
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
        rows = self._query(
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
        rows = self._query(
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
            temps = [Path(row[0]) for row in self._query(
                "SELECT temp_path FROM files WHERE job_id = ? AND temp_path IS NOT NULL", (job_id,)
            )]  # fmt: skip
            with self._transaction() as db:
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            removed = [path for path in temps if _unlink(path)]
        finally:
            lock.release(remove=True)
        return removed

    def _jobs(self, where: str, args: Sequence[Any] = ()) -> list[JobInfo]:
        self.flush()
        rows = self._query(
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
                    action_from_dict(json.loads(action)),
                    summary,
                    total,
                    done,
                    failed,
                    size,
                    size_done,
                )
            )
        return jobs


class JobRecord:
    """A running job's handle on the journal: its files, its upload resume tokens (``ResumeTokens``), its end."""

    def __init__(self, journal: Journal, job_id: str, lock: JobLock) -> None:
        self.journal = journal
        self.job_id = job_id
        self._lock = lock
        self._ended = False

    def files(self, planned: Sequence[tuple[str, str, int]]) -> list[FileRecord]:
        """The records of ``planned`` files (source label, destination key, size): known ones as the journal has
        them (matched by source), new ones added as pending."""
        journal = self.journal
        journal.flush()
        known: dict[str, tuple[Any, ...]] = {
            row[1]: row
            for row in journal._query(
                "SELECT file_id, source, dst_key, size, state, blake3, download, temp_path FROM files WHERE job_id = ?",
                (self.job_id,),
            )
        }
        next_id = max((row[0] for row in known.values()), default=-1) + 1
        new_rows = []
        records = []
        for source, dst_key, size in planned:
            row = known.get(source)
            if row is None:
                row = (next_id, source, dst_key, size, "pending", None, None, None)
                known[source] = row
                new_rows.append((self.job_id, next_id, source, dst_key, size))
                next_id += 1
            file_id, _, known_dst, known_size, state, blake3, download, temp_path = row
            resume = DownloadState.from_json(download, temp_path) if download else None
            records.append(FileRecord(self, file_id, source, known_dst, known_size, state, blake3, resume))
        if new_rows:
            try:
                with journal._transaction() as db:
                    db.executemany(
                        "INSERT INTO files (job_id, file_id, source, dst_key, size) VALUES (?, ?, ?, ?, ?)", new_rows
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the job journal {journal.path}: {exc}") from None
        return records

    # -- ResumeTokens (sdgui.core.copy.context): an upload's token, kept per file while the upload is open ----
    def get(self, file_id: str) -> dict[str, Any] | None:
        with self.journal._pending_lock:
            staged = self.journal._tokens.get((self.job_id, file_id), "")
        if staged is None:
            return None
        if staged:
            return dict(json.loads(staged))
        rows = self.journal._query(
            "SELECT token FROM resume_tokens WHERE job_id = ? AND name = ?", (self.job_id, file_id)
        )
        return dict(json.loads(rows[0][0])) if rows else None

    def put(self, file_id: str, token: dict[str, Any]) -> None:
        # A new upload id must be on disk before the upload's first part is sent (else a crash orphans it
        # unnoticed); the parts that follow are batched: the server's own list of parts is what counts.
        previous = self.get(file_id)
        first = previous is None or previous.get("upload_id") != token.get("upload_id")
        self.journal._stage_token(self.job_id, file_id, json.dumps(token), urgent=first)
        if first:
            self.journal.flush()

    def clear(self, file_id: str) -> None:
        self.journal._stage_token(self.job_id, file_id, None, urgent=True)

    # -- the end --------------------------------------------------------------------------------------------
    def end(self, state: Literal["finished", "failed", "cancelled"]) -> None:
        """Record how the job ended and release it. A finished job keeps only its summary row, as history."""
        if self._ended:
            return
        self._ended = True
        journal = self.journal
        try:
            journal.flush()
            leftovers: list[Path] = []
            with journal._transaction() as db:
                db.execute("UPDATE jobs SET state = ?, updated = ? WHERE id = ?", (state, time.time(), self.job_id))
                if state == "finished":
                    leftovers = [Path(row[0]) for row in db.execute(
                        "SELECT temp_path FROM files WHERE job_id = ? AND temp_path IS NOT NULL", (self.job_id,)
                    )]  # fmt: skip
                    db.execute("DELETE FROM files WHERE job_id = ?", (self.job_id,))
                    db.execute("DELETE FROM resume_tokens WHERE job_id = ?", (self.job_id,))
                    db.execute(
                        "DELETE FROM jobs WHERE state = 'finished' AND id NOT IN "
                        "(SELECT id FROM jobs WHERE state = 'finished' ORDER BY updated DESC LIMIT ?)",
                        (KEEP_FINISHED_JOBS,),
                    )
            for path in leftovers:  # partial files of sources that vanished before this run reached them
                _unlink(path)
        except sqlite3.Error as exc:
            log.warning("cannot record the end of job %s in the journal: %s", self.job_id, exc)
        finally:
            self._lock.release(remove=state == "finished")


class FileRecord:
    """One file of a journaled job: what the journal knew when the job (re)started, and how to record more.

    The ``state``, ``blake3``, ``dst_key`` and ``download`` attributes follow what this run records.
    """

    def __init__(
        self,
        job: JobRecord,
        file_id: int,
        source: str,
        dst_key: str,
        size: int,
        state: FileState,
        blake3: str | None,
        download: DownloadState | None,
    ) -> None:
        self.job = job
        self.file_id = file_id
        self.source = source
        self.dst_key = dst_key
        self.size = size
        self.state: FileState = state
        self.blake3 = blake3
        self.download = download

    @property
    def tag(self) -> str:
        """Names this file's temporary download file, the same in every run of the job."""
        return f"{self.job.job_id}-{self.file_id}"

    def _stage(self, values: dict[str, Any], *, urgent: bool = True) -> None:
        self.job.journal._stage_file(self.job.job_id, self.file_id, values, urgent=urgent)

    def start(self, dst_key: str) -> None:
        self.state, self.dst_key = "active", dst_key
        self._stage({"state": "active", "dst_key": dst_key})

    def done(self, size: int, blake3: str | None) -> None:
        self.state, self.size, self.blake3, self.download = "done", size, blake3, None
        self._stage(
            {"state": "done", "size": size, "blake3": blake3, "bytes_confirmed": size, "error": None, "message": None,
             "download": None, "temp_path": None}
        )  # fmt: skip

    def failed(self, kind: str, message: str) -> None:
        self.state = "failed"
        self._stage({"state": "failed", "error": kind, "message": message})

    def reset(self) -> None:
        """Back to pending (a cancel): nothing of it is kept."""
        self.state, self.download = "pending", None
        self._stage({"state": "pending", "bytes_confirmed": 0, "download": None, "temp_path": None})

    def begin_download(self, state: DownloadState) -> None:
        """The temporary file's name and what it holds: written at once, before the first byte arrives."""
        self.download = state
        self._stage({"download": state.to_json(), "temp_path": state.temp_path, "bytes_confirmed": state.kept})
        self.job.journal.flush()

    def download_progress(self, state: DownloadState) -> None:
        """More bytes are durable in the temporary file (batched)."""
        self.download = state
        self._stage({"download": state.to_json(), "bytes_confirmed": state.kept}, urgent=False)

    def clear_download(self) -> None:
        """The temporary file was removed."""
        self.download = None
        self._stage({"download": None, "temp_path": None, "bytes_confirmed": 0})


# -- locks ---------------------------------------------------------------------------------------------------


class JobLock:
    """An OS lock on a small file, held while a job runs; the OS drops it when the process dies, however."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held_elsewhere(self) -> bool:
        """True while another holder (this process or another) has the lock."""
        if not self.path.exists():
            return False
        if self.acquire():
            self.release()
            return False
        return True

    def release(self, *, remove: bool = False) -> None:
        if self._fd is None:
            return
        if remove:
            _unlink(self.path)
        os.close(self._fd)  # closing drops the lock
        self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)
        return False
    return True
