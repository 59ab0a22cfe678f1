"""Fixtures for fault tests: a fault proxy in front of the session's rclone server, and a volume through it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sdgui.core.copy.events import JobEvent
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.journal import Journal
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, make_job
from tests.faults.proxy import FaultProxy
from tests.servers import LOOPBACK, S3Server, start_rclone

FAULT_SETTINGS = TransferSettings(
    upload_chunk_size=5 * MiB,
    multipart_threshold=6 * MiB,
    download_part_size=4 * MiB,
    stall_timeout_s=3.0,
    retry_base_s=0.2,
    retry_cap_s=2.0,
)
"""Small parts, a short stall timeout and short backoffs, so every fault plays out in seconds."""

JOB_DEADLINE_S = 40.0


@dataclass
class Volume:
    """A bucket on a server, registered as volume ``cloud`` and reached through ``endpoint``."""

    server: S3Server
    bucket: str
    endpoint: str

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]

    def big_copy(self, direction: str, big_file: Path, local_dir: Path) -> tuple[list[str], str, Callable[[], bytes]]:
        """Sources and destination of a copy of ``big_file`` up to ``cloud:big.bin`` or (after putting it there)
        down into ``local_dir``, and how to read back the copy."""
        if direction == "download":
            self.server.client().upload_file(str(big_file), self.bucket, "big.bin")
            return ["cloud:big.bin"], f"{local_dir}/", (local_dir / "big.bin").read_bytes
        return [str(big_file)], "cloud:big.bin", lambda: self.read("big.bin")

    def keys(self) -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


@pytest.fixture
def proxy(rclone_s3: S3Server) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's rclone server (passing everything until told otherwise)."""
    rclone_s3.ensure_running()
    with FaultProxy(LOOPBACK, rclone_s3.port) as started:
        yield started


@pytest.fixture
def faulty(rclone_s3: S3Server, proxy: FaultProxy) -> Iterator[Volume]:
    """Volume ``cloud``: a fresh bucket on rclone, reached through the proxy; the bucket is removed afterwards."""
    bucket = rclone_s3.new_bucket("faults")
    add_volume(rclone_s3, bucket, endpoint=proxy.endpoint)
    yield Volume(rclone_s3, bucket, proxy.endpoint)
    proxy.pass_through()
    rclone_s3.ensure_running()
    rclone_s3.delete_bucket(bucket)


@dataclass
class RunningJob:
    """A job running on its own thread; the test waits on its events with deadlines, never with sleeps."""

    job: FileCopyJob
    watchers: list[Callable[[JobEvent], None]] = field(default_factory=list)
    events: list[JobEvent] = field(default_factory=list)
    final: JobEvent | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _done: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RunningJob:
        self._thread = threading.Thread(target=self._run, name="fault-test-job", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.final = self.job.run(self._sink)
        finally:
            self._done.set()

    def _sink(self, event: JobEvent) -> None:
        with self._lock:
            self.events.append(event)
            watchers = list(self.watchers)
        for watch in watchers:
            watch(event)

    def when(self, predicate: Callable[[JobEvent], bool]) -> threading.Event:
        """An Event set by the first event that satisfies ``predicate``."""
        seen = threading.Event()

        def watch(event: JobEvent) -> None:
            if not seen.is_set() and predicate(event):
                seen.set()

        with self._lock:
            self.watchers.append(watch)
        return seen

    def finish(self, timeout: float = JOB_DEADLINE_S) -> JobEvent:
        """Wait for the final event; cancel the job (and fail) when it does not come in time."""
        if not self._done.wait(timeout):
            self.job.cancel()
            self._done.wait(10)
            pytest.fail(f"the job did not finish within {timeout} s; events: {self.events[-10:]}")
        assert self._thread is not None
        self._thread.join(5)
        assert self.final is not None
        return self.final

    def of(self, kind: str) -> list[JobEvent]:
        with self._lock:
            return [e for e in self.events if e.type == kind]


def bytes_done_over(threshold: int) -> Callable[[JobEvent], bool]:
    return lambda event: event.type == "progress" and event.bytes_done >= threshold  # type: ignore[attr-defined]


@pytest.fixture
def start_job() -> Iterator[Callable[..., RunningJob]]:
    """Start copy jobs on threads; any still running at teardown is cancelled and waited for."""
    started: list[RunningJob] = []

    def start(
        sources: list[str],
        destination: str,
        settings: TransferSettings = FAULT_SETTINGS,
        journal: Journal | None = None,
        **options: object,
    ) -> RunningJob:
        job = make_job(sources, destination, settings, **options)
        job.journal = journal  # a journaled job (as the CLI's and the window's) uploads through resumable parts
        running = RunningJob(job).start()
        started.append(running)
        return running

    yield start
    for running in started:
        if not running._done.is_set():
            running.job.cancel()
            running._done.wait(15)


@pytest.fixture
def private_rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """An rclone server of this test alone, which it may kill, restart or give other keys; always stopped."""
    server = start_rclone(tmp_path_factory.mktemp("private-rclone"))
    try:
        yield server
    finally:
        server.close()
