"""One error hierarchy for everything a user can meet; each message names the volume and path."""

from __future__ import annotations


class SdError(Exception):
    """Base of every error sdgui reports to a user.

    ``kind`` is a short word the CLI and the window show ("network", "credentials", ...);
    ``retryable`` tells a job whether trying again can help.
    """

    kind = "error"
    retryable = False

    def __init__(self, detail: str, *, volume: str | None = None, path: str | None = None) -> None:
        self.detail = detail
        self.volume = volume
        self.path = path
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
        return f"{self.kind} error at {where}: {self.detail}" if where else f"{self.kind} error: {self.detail}"

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


class NetworkError(SdError):
    """Connection refused, reset, timed out, DNS failure."""

    kind = "network"
    retryable = True


class ServiceError(SdError):
    """The service answered with a 5xx or another unexpected status."""

    kind = "service"
    retryable = True


class ThrottledError(ServiceError):
    """429 Too Many Requests or 503 SlowDown."""

    kind = "throttled"


class CredentialsError(SdError):
    """Wrong, missing or expired credentials (bad signature, unknown key)."""

    kind = "credentials"


class PermissionDeniedError(SdError):
    """Valid credentials without the right to do this."""

    kind = "permission"


class NotFoundError(SdError):
    """A source, bucket or directory that does not exist."""

    kind = "not-found"


class ConflictError(SdError):
    """The destination exists and the conflict policy says fail."""

    kind = "conflict"


class ChecksumMismatchError(SdError):
    """The bytes that arrived are not the bytes that left."""

    kind = "checksum"


class InvalidPathError(SdError):
    """A malformed SdPath or a key that would escape its target directory."""

    kind = "invalid-path"


class DiskFullError(SdError):
    """No space left on the destination device."""

    kind = "disk-full"


class ConfigError(SdError):
    """A bad or unknown volume definition."""

    kind = "config"


class KeyringUnavailableError(SdError):
    """No working OS keyring; the user must choose another way to provide the secret."""

    kind = "keyring"


class CancelledError(SdError):
    """The user cancelled; nothing partial was left behind."""

    kind = "cancelled"
