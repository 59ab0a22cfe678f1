"""What the journal stores and hands out: job and file records, download states, the job lock."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.paths import SdPath

if TYPE_CHECKING:
    from sdgui.core.journal import Journal

log = logging.getLogger(__name__)

KEEP_FINISHED_JOBS = 100
"""Finished jobs kept (without their files) as history."""
JobState = Literal["running", "interrupted", "cancelled", "failed", "finished"]
FileState = Literal["pending", "active", "done", "failed"]


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
