"""A cancel stops upload parts in the middle of their bytes: on a slow link the job ends at once, not when the
parts in flight have all been sent, and leaves no multipart upload behind."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

from sdgui.core.journal import Journal
from tests.faults.conftest import FAULT_SETTINGS, RunningJob, Volume
from tests.faults.proxy import FaultProxy

MiB = 1024 * 1024
PART = 16 * MiB
"""Larger than the socket buffers between client and proxy, so most of a part is still to be read when cancelled."""
CHUNK_DELAY_S = 0.02
"""The proxy holds every chunk (at most 64 KiB) this long: under 3.3 MB/s per connection, so a part takes 5 s."""


def test_cancel_stops_parts_in_flight_mid_send(
    faulty: Volume, proxy: FaultProxy, tmp_path: Path, start_job: Callable[..., RunningJob]
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * PART))
    settings = dataclasses.replace(FAULT_SETTINGS, upload_chunk_size=PART, upload_concurrency=4)
    proxy.delay(CHUNK_DELAY_S)
    with Journal(tmp_path / "journal.sqlite") as journal:
        running = start_job([str(big)], "cloud:big.bin", settings, journal=journal)
        # All four parts are on their way, none near its end.
        assert proxy.wait_for(lambda p: p.count("bytes_up") >= 2 * MiB, 30), proxy.counters
        cancelled_at = time.monotonic()
        running.job.cancel()
        final = running.finish()
        latency = time.monotonic() - cancelled_at
        assert [job.state for job in journal.unfinished_jobs()] == ["cancelled"]
    sent = proxy.count("bytes_up")
    assert final.type == "job_cancelled", final
    assert not running.of("file_done"), "no part could have finished"
    # Sending the rest of the four parts would take 5 s at this rate; a part stops once its next block is taken
    # (a send blocked on a full socket buffer wakes when the proxy has drained part of it: tenths of a second).
    assert latency < 2.0, f"cancel took {latency:.2f} s; {sent / MiB:.1f} MiB had been sent"
    proxy.pass_through()
    assert faulty.server.open_multipart_uploads(faulty.bucket) == []
    assert faulty.keys() == []
    print(f"cancel took {latency:.3f} s with {sent / MiB:.1f} MiB of 64 MiB sent")
