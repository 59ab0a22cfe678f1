"""A running job's handle on the journal (JobRecord) and each of its files' (FileRecord)."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from sdgui.core.journal.info import DownloadState, FileState, JournalError
from sdgui.core.journal.lock import JobLock, unlink_quietly

log = logging.getLogger(__name__)

_QUERY_BATCH = 500
"""Sources looked up per query (SQLite limits the number of parameters)."""
KEEP_FINISHED_JOBS = 100
"""Finished jobs kept (without their files) as history."""


class JournaledAction(Protocol):
    """What the journal keeps of a job's request: JSON-able data to re-create it, and a one-line summary."""

    def to_dict(self) -> dict[str, Any]: ...

    def summary(self) -> str: ...


class JournalWriter(Protocol):
    """The journal as its records use it (sdgui.core.journal.store.Journal)."""

    path: Path

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def stage_file(self, job_id: str, file_id: int, values: dict[str, Any], *, urgent: bool) -> None: ...

    def stage_token(self, job_id: str, name: str, token: str | None, *, urgent: bool) -> None: ...

    def staged_token(self, job_id: str, name: str) -> str | None: ...

    def flush(self) -> None: ...


class JobRecord:
    """A running job's handle on the journal: its files, its upload resume tokens (``ResumeTokens``), its end."""

    def __init__(self, journal: JournalWriter, job_id: str, lock: JobLock) -> None:
        self.journal = journal
        self.job_id = job_id
        self._lock = lock
        self._ended = False
        self._next_id: int | None = None

    def files(self, planned: Sequence[tuple[str, str, int]]) -> list[FileRecord]:
        """The records of ``planned`` files (source label, destination key, size): known ones as the journal has
        them (matched by source), new ones added as pending. A job hands its files over in batches as its
        listing goes on; only the batch's own rows are read."""
        journal = self.journal
        journal.flush()
        known: dict[str, tuple[Any, ...]] = {}
        sources = list(dict.fromkeys(source for source, _, _ in planned))
        for start in range(0, len(sources), _QUERY_BATCH):
            chunk = sources[start : start + _QUERY_BATCH]
            marks = ", ".join("?" * len(chunk))
            for row in journal.query(
                "SELECT file_id, source, dst_key, size, state, blake3, download, temp_path FROM files "
                f"WHERE job_id = ? AND source IN ({marks})",
                (self.job_id, *chunk),
            ):
                known[row[1]] = row
        if self._next_id is None:
            rows = journal.query("SELECT MAX(file_id) FROM files WHERE job_id = ?", (self.job_id,))
            self._next_id = (rows[0][0] if rows and rows[0][0] is not None else -1) + 1
        next_id = self._next_id
        new_rows: list[tuple[str, int, str, str, int]] = []
        records = []
        for source, dst_key, size in planned:
            found = known.get(source)
            if found is not None:
                row = found
            else:
                row = (next_id, source, dst_key, size, "pending", None, None, None)
                known[source] = row
                new_rows.append((self.job_id, next_id, source, dst_key, size))
                next_id += 1
            file_id, _, known_dst, known_size, state, blake3, download, temp_path = row
            resume = DownloadState.from_json(download, temp_path) if download else None
            records.append(FileRecord(self, file_id, source, known_dst, known_size, state, blake3, resume))
        if new_rows:
            try:
                with journal.transaction() as db:
                    db.executemany(
                        "INSERT INTO files (job_id, file_id, source, dst_key, size) VALUES (?, ?, ?, ?, ?)", new_rows
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the job journal {journal.path}: {exc}") from None
        self._next_id = next_id
        return records

    # -- ResumeTokens (sdgui.core.copy.context): an upload's token, kept per file while the upload is open ----
    def get(self, file_id: str) -> dict[str, Any] | None:
        staged = self.journal.staged_token(self.job_id, file_id)
        if staged is None:
            return None
        if staged:
            return dict(json.loads(staged))
        rows = self.journal.query(
            "SELECT token FROM resume_tokens WHERE job_id = ? AND name = ?", (self.job_id, file_id)
        )
        return dict(json.loads(rows[0][0])) if rows else None

    def put(self, file_id: str, token: dict[str, Any]) -> None:
        # A new upload id must be on disk before the upload's first part is sent (else a crash orphans it
        # unnoticed); the parts that follow are batched: the server's own list of parts is what counts.
        previous = self.get(file_id)
        first = previous is None or previous.get("upload_id") != token.get("upload_id")
        self.journal.stage_token(self.job_id, file_id, json.dumps(token), urgent=first)
        if first:
            self.journal.flush()

    def clear(self, file_id: str) -> None:
        self.journal.stage_token(self.job_id, file_id, None, urgent=True)

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
            with journal.transaction() as db:
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
                unlink_quietly(path)
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
        self.job.journal.stage_file(self.job.job_id, self.file_id, values, urgent=urgent)

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
