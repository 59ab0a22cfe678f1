"""One error hierarchy for everything a user can meet; each message names the volume and path.

Backends fill in what the service said (HTTP status, its error code, the kind of transport failure, a
Retry-After in seconds) as fields; nothing above them reads a message to learn those.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

Transport = Literal["connect", "timeout", "reset", "body"]
"""How a request failed below HTTP: no connection, no answer in time, connection cut, body cut or garbled."""


class ErrorKind(StrEnum):
    """The short word the CLI, the JSON output and the window show for an error."""

    ERROR = "error"
    NETWORK = "network"
    SERVICE = "service"
    THROTTLED = "throttled"
    CREDENTIALS = "credentials"
    PERMISSION = "permission"
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"
    CHECKSUM = "checksum"
    INVALID_PATH = "invalid-path"
    DISK_FULL = "disk-full"
    CONFIG = "config"
    KEYRING = "keyring"
    CANCELLED = "cancelled"
    JOURNAL = "journal"


class SdError(Exception):
    """Base of every error sdgui reports to a user.

    ``kind`` says what went wrong; ``retryable`` tells a job whether trying again can help. ``status``,
    ``service_code``, ``transport`` and ``retry_after_s`` are what the service or the connection said, when known.
    """

    kind: ClassVar[ErrorKind] = ErrorKind.ERROR
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        volume: str | None = None,
        path: str | None = None,
        status: int | None = None,
        service_code: str | None = None,
        transport: Transport | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        self.detail = detail
        self.volume = volume
        self.path = path
        self.status = status
        self.service_code = service_code
        self.transport = transport
        self.retry_after_s = retry_after_s
        self.notes: tuple[str, ...] = ()
        super().__init__(self.message)

    @property
    def where(self) -> str:
        if self.volume and self.path:
            return f"{self.volume}:{self.path}"
        if self.volume:
            return f"volume {self.volume}"
        return self.path or ""

    @property
    def message(self) -> str:
        where = self.where
        text = f"{self.kind} error at {where}: {self.detail}" if where else f"{self.kind} error: {self.detail}"
        if self.retry_after_s is not None:
            text += f"; retry after {self.retry_after_s:g} s"
        return "; ".join((text, *self.notes))

    def __str__(self) -> str:
        return self.message

    def at(self, *, volume: str | None = None, path: str | None = None) -> SdError:
        """Fill in the location if the raiser did not know it."""
        if self.volume is None and volume is not None:
            self.volume = volume
        if self.path is None and path is not None:
            self.path = path
        self.args = (self.message,)
        return self

    def with_note(self, note: str) -> SdError:
        """Add a sentence the message ends with (what the job did about it); returns the error itself."""
        self.notes = (*self.notes, note)
        self.args = (self.message,)
        return self


class NetworkError(SdError):
    """Connection refused, reset, timed out, DNS failure."""

    kind = ErrorKind.NETWORK
    retryable = True


class ServiceError(SdError):
    """The service answered with a 5xx or another unexpected status."""

    kind = ErrorKind.SERVICE
    retryable = True


class ThrottledError(ServiceError):
    """429 Too Many Requests or 503 SlowDown."""

    kind = ErrorKind.THROTTLED


class CredentialsError(SdError):
    """Wrong, missing or expired credentials (bad signature, unknown key)."""

    kind = ErrorKind.CREDENTIALS


class PermissionDeniedError(SdError):
    """Valid credentials without the right to do this."""

    kind = ErrorKind.PERMISSION


class NotFoundError(SdError):
    """A source, bucket or directory that does not exist."""

    kind = ErrorKind.NOT_FOUND


class ConflictError(SdError):
    """The destination exists and the conflict policy says fail."""

    kind = ErrorKind.CONFLICT


class DestinationExistsError(ConflictError):
    """A file to copy is already at its destination and the job's conflict policy is ``fail``."""


class ChecksumMismatchError(SdError):
    """The bytes that arrived are not the bytes that left."""

    kind = ErrorKind.CHECKSUM


class InvalidPathError(SdError):
    """A malformed SdPath or a key that would escape its target directory."""

    kind = ErrorKind.INVALID_PATH


class DiskFullError(SdError):
    """No space left on the destination device."""

    kind = ErrorKind.DISK_FULL


class ConfigError(SdError):
    """A bad or unknown volume definition."""

    kind = ErrorKind.CONFIG


class KeyringUnavailableError(SdError):
    """No working OS keyring; the user must choose another way to provide the secret."""

    kind = ErrorKind.KEYRING


class CancelledError(SdError):
    """The user cancelled; nothing partial was left behind."""

    kind = ErrorKind.CANCELLED
