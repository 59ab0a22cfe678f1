"""Transfer settings: chunk sizes and concurrency, with defaults chosen by benchmark (see README)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class TransferSettings:
    """How big the pieces are and how many move at once.

    Defaults come from ``make bench-sweep`` on SeaweedFS (docs/performance.md, "Choosing the defaults"): a 1 GiB
    upload or download takes the same time from 8 MiB x 2 to 64 MiB x 16 within the run-to-run spread (the
    server and the two shared cores are the limit), while memory and CPU grow with the part size and the
    concurrency, so parts stay small. ``file_concurrency`` comes from the 10 ms latency proxy: 1,000 small
    uploads took half the time with 64 files in flight as with 16, and no longer on loopback.

    Uploads send 8 parts of 5 MiB (S3's smallest part) at once, not 4 of 8 MiB: on a link where one connection's
    speed is bounded, a 100 MiB upload took 3.6 s instead of 6.0 s, with the same wall time, CPU and memory on
    loopback (docs/performance.md, 2026-12-08). Huge files get larger parts, to stay within 10,000. Downloads stay
    at 6 ranges: 12 were faster on such a link too, but a cancel waits for every range's next MiB, and on a server
    slow to answer (moto) that took it past a second.
    """

    upload_chunk_size: int = 5 * MiB
    upload_concurrency: int = 8
    download_part_size: int = 16 * MiB
    download_concurrency: int = 6
    multipart_threshold: int = 16 * MiB
    file_concurrency: int = 64
    """Files in flight at once; those above 1 MiB share 16 of them, large ones ``large_file_slots``
    (``copy.flow.size_slots``), so memory does not grow with it."""
    python_slots: int = 4
    """How many of the process's copy workers run Python at once; the others wait on the network meanwhile
    (see ``core.python_slots``)."""
    large_file_slots: int = 2
    connect_timeout_s: float = 10.0
    stall_timeout_s: float = 60.0
    """A transfer that moves no byte for this long is aborted and retried. It is the HTTP read timeout, which
    also bounds sending one upload part (the server answers only once the whole part arrived)."""
    request_retries: int = 4
    """How often the HTTP client retries one request by itself (network errors, 5xx, 429) before a file fails."""
    retry_attempts: int = 5
    """Attempts per file: a file whose retryable failure outlasts the request retries is copied again."""
    retry_base_s: float = 0.5
    retry_cap_s: float = 30.0
    """Backoff between attempts of one file: full jitter, up to ``base * 2**(attempt-1)`` capped here."""
    concurrency_recovery_after: int = 8
    """After throttling halved the files in flight, this many successes in a row add one back."""
    bandwidth_limit: int | None = None
    """Bytes per second for one job (None: unlimited); a process-wide limit is in ``copy.bandwidth``."""
