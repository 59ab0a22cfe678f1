"""What the journal hands out: job and file information, a download's partial state, the journal's error."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sdgui.core import errors

JobState = Literal["running", "interrupted", "cancelled", "failed", "finished"]
FileState = Literal["pending", "active", "done", "failed"]


class JournalError(errors.SdError):
    """The journal database cannot be opened or written; a job then runs without it (and cannot resume)."""

    kind = errors.ErrorKind.JOURNAL


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
    action: dict[str, Any]
    """The request as JSON-able data (``CopyAction.from_dict`` re-creates a copy or move)."""
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
