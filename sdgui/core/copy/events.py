"""Typed events a copy job reports; the CLI prints them as JSON lines and the window paints them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar, Literal

Verification = Literal["verified", "provider-checked", "unverified"]
Phase = Literal["scanning", "counting", "transferring", "verifying", "finishing"]
"""``scanning`` before the first file is known; ``counting`` while files transfer and the listing goes on (the
totals still grow, so there is no ETA); ``transferring`` once the totals are final; ``verifying`` while every file
in flight is being checked after its bytes were sent (a large file's checksum); ``finishing`` at the end."""


class Direction(StrEnum):
    """Which way a job's bytes move, as the router sees its volumes."""

    UPLOAD = "upload"
    DOWNLOAD = "download"
    LOCAL = "local"
    SERVER_SIDE = "server-side"
    CROSS_VOLUME = "cross-volume"


@dataclass(frozen=True)
class JobEvent:
    """Base of every event; ``type`` names it in JSON."""

    type: ClassVar[str] = "event"
    job_id: str

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values: its fields are plain values and lists of them, so one level of copy
        does what ``dataclasses.asdict`` does, at a tenth of the cost (asdict deep-copies every value)."""
        return {"type": self.type, **{name: _copied(getattr(self, name)) for name in _field_names(type(self))}}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def _copied(value: Any) -> Any:
    kind = type(value)
    return list(value) if kind is list else dict(value) if kind is dict else value


@dataclass(frozen=True)
class JobStarted(JobEvent):
    type: ClassVar[str] = "job_started"
    files: int
    """Files known when the job started: all of them, unless ``counting``."""
    bytes_total: int
    strategy: str
    sources: list[str] = field(default_factory=list)
    destination: str = ""
    move: bool = False
    direction: Direction | None = None
    counting: bool = False
    """True while the listing goes on: ``files`` and ``bytes_total`` will grow (Progress carries them)."""


@dataclass(frozen=True)
class Progress(JobEvent):
    type: ClassVar[str] = "progress"
    phase: Phase
    current_file: str
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    rate: float
    eta_s: float | None


@dataclass(frozen=True)
class FileDone(JobEvent):
    type: ClassVar[str] = "file_done"
    source: str
    destination: str
    size: int
    blake3: str | None
    verified: Verification
    strategy: str
    source_deleted: bool = False
    bytes_resumed: int = 0
    """Bytes kept from an interrupted run's partial file (a resumed download)."""
    note: str = ""
    """E.g. why a resumable file was copied again from the start (its source changed)."""
    attempts: int = 1
    """How many attempts the file took (more than 1 after retries)."""
    check: str | None = None
    """What proved a ``verified`` file: "blake3" (sdgui's own), or the provider's checksum ("crc64nvme",
    "sha256", "crc32c", "md5"…); None when provider-checked or unverified."""


@dataclass(frozen=True)
class FileSkipped(JobEvent):
    type: ClassVar[str] = "file_skipped"
    source: str
    destination: str
    reason: str
    """Why: ``exists`` (the conflict policy said skip) or ``copied-before`` (an earlier run of this job did it)."""


@dataclass(frozen=True)
class FileFailed(JobEvent):
    type: ClassVar[str] = "file_failed"
    source: str
    destination: str
    error: str
    message: str
    attempts: int = 1
    """How many attempts were made; the message says whether the error was retried."""
    destination_exists: bool = False
    """The destination already existed and the conflict policy said fail (a window words that its own way)."""


@dataclass(frozen=True)
class JobFinished(JobEvent):
    type: ClassVar[str] = "job_finished"
    files_done: int
    files_skipped: int
    bytes_done: int
    elapsed_s: float
    verified: int
    provider_checked: int
    unverified: int
    bytes_transferred: int = 0
    """Bytes this run actually moved; less than ``bytes_done`` when files or parts were done before."""
    bytes_resumed: int = 0
    """Bytes kept from partial files an interrupted run left."""


@dataclass(frozen=True)
class JobFailed(JobEvent):
    type: ClassVar[str] = "job_failed"
    error: str
    message: str
    files_done: int = 0
    files_failed: int = 0


@dataclass(frozen=True)
class JobCancelled(JobEvent):
    type: ClassVar[str] = "job_cancelled"
    files_done: int = 0


@dataclass(frozen=True)
class FileRetrying(JobEvent):
    """Attempt ``attempt`` of ``max_attempts`` failed with a retryable error; the next starts after ``delay_s``."""

    type: ClassVar[str] = "file_retrying"
    source: str
    destination: str
    attempt: int
    max_attempts: int
    delay_s: float
    error: str
    message: str


@dataclass(frozen=True)
class ConcurrencyChanged(JobEvent):
    """How many files the job copies at once changed: halved when throttled, one more when recovered."""

    type: ClassVar[str] = "concurrency_changed"
    limit: int
    reason: Literal["throttled", "recovered"]
