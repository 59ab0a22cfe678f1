"""One HTTP policy for every cloud client of a volume: timeouts and one retry policy, mapped onto each library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:  # obstore's TypedDicts exist in its stubs only
    from obstore.store import ClientConfig, RetryConfig

REQUEST_TIMEOUT = timedelta(hours=12)
"""A backstop on one whole request. Stalls are the read timeout's job: measured with obstore 0.12, the read
timeout also cuts an upload whose part stops moving (reqwest counts it from the last byte the server sent,
which for a PUT is nothing until the whole part arrived), while a short whole-request timeout cuts a long
streamed GET again and again, each cut spending one of the request's retries."""

USER_AGENT = "sdgui/0.1"


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and request retries of one volume's clients, from its TransferSettings."""

    allow_http: bool
    connect_timeout_s: float
    read_timeout_s: float
    """How long a response may send no byte: the stall timeout."""
    request_retries: int
    """Retries of one request after its first attempt (network errors, 5xx, 429, a stalled body)."""
    init_backoff_s: float = 0.2
    max_backoff_s: float = 8.0

    @classmethod
    def from_settings(cls, settings: TransferSettings, *, allow_http: bool) -> HttpPolicy:
        return cls(
            allow_http=allow_http,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.stall_timeout_s,
            request_retries=max(0, settings.request_retries),
        )

    @property
    def total_attempts(self) -> int:
        """Attempts of one request, the first included (botocore's ``total_max_attempts``)."""
        return self.request_retries + 1

    def client_options(self) -> ClientConfig:
        """obstore's HTTP client options: stalls are caught by the read timeout, never by a cap on a whole body."""
        return {
            "allow_http": self.allow_http,
            "connect_timeout": timedelta(seconds=self.connect_timeout_s),
            "read_timeout": timedelta(seconds=self.read_timeout_s),
            "timeout": REQUEST_TIMEOUT,
            "pool_max_idle_per_host": "32",
            "user_agent": USER_AGENT,
        }

    def retry_config(self) -> RetryConfig:
        """obstore's retries: bounded, with backoff; a closed port fails in seconds, not minutes. What outlasts
        them fails the file, and the job's per-file retry takes over."""
        return {
            "max_retries": self.request_retries,
            # Long enough for a stalled request to be tried again once (a retried GET resumes where it stopped).
            "retry_timeout": timedelta(seconds=max(60.0, 2 * self.read_timeout_s)),
            "backoff": {
                "init_backoff": timedelta(seconds=self.init_backoff_s),
                "max_backoff": timedelta(seconds=self.max_backoff_s),
                "base": 2,
            },
        }
