"""A black-holed connection (accepted, then no byte moves) is detected as a stall, retried, and finishes."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import FAULT_SETTINGS, RunningJob, Volume
from tests.faults.proxy import FaultProxy

MiB = 1024 * 1024
BIG = 32 * MiB
STALL_S = FAULT_SETTINGS.stall_timeout_s
HOLE_S = STALL_S + 1.5
"""Longer than the stall timeout, so the stall is detected while the hole lasts and a retry waits it out."""
SLACK_S = 2.0


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_black_hole_is_a_stall_then_recovers(
    direction: str,
    faulty: Volume,
    proxy: FaultProxy,
    big_file: Path,
    tmp_path: Path,
    start_job: Callable[..., RunningJob],
) -> None:
    sources, destination, read_copy = faulty.big_copy(direction, big_file, tmp_path)
    # No request retries: the first stall reaches the job, which is what this test watches.
    settings = dataclasses.replace(FAULT_SETTINGS, request_retries=0)
    proxy.black_hole_after(12 * MiB, HOLE_S)  # with the transfer under way
    running = start_job(sources, destination, settings)
    stalled = running.when(lambda e: e.type == "file_retrying")
    assert proxy.hole_opened.wait(30), "the transfer never got going"
    holed_at = proxy.hole_opened_at
    assert stalled.wait(HOLE_S + STALL_S + SLACK_S), f"no stall was reported: {running.events[-5:]} {proxy.counters}"
    detected_after = time.monotonic() - holed_at
    final = running.finish()
    finished_after = time.monotonic() - holed_at

    assert final.type == "job_finished", final
    retry = running.of("file_retrying")[0]
    assert retry.error == "network" and f"stalled: no bytes for {STALL_S:g} s" in retry.message, retry  # type: ignore[attr-defined]
    # A download stalls on its body; an upload's part stalls, then obstore's abort of the multipart upload
    # waits for the hole to end (or stalls too) before the error reaches the job.
    bound = STALL_S if direction == "download" else HOLE_S
    assert detected_after <= bound + SLACK_S, f"stall reported after {detected_after:.1f} s"
    assert finished_after <= HOLE_S + 20, f"finished {finished_after:.1f} s after the hole opened"
    assert read_copy() == big_file.read_bytes()
    assert faulty.server.open_multipart_uploads(faulty.bucket) == []
    print(f"{direction}: stall reported {detected_after:.2f} s, job finished {finished_after:.2f} s after the hole")
