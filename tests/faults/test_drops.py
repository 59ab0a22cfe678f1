"""Connections cut mid-transfer: the HTTP client's own retries and the job's per-file retries finish the copy."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import FAULT_SETTINGS, RunningJob, Volume
from tests.faults.proxy import FaultProxy

MiB = 1024 * 1024
BIG = 64 * MiB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def test_upload_survives_dropped_connections(
    faulty: Volume, proxy: FaultProxy, big_file: Path, start_job: Callable[..., RunningJob]
) -> None:
    proxy.drop_after(2 * MiB, every=3)
    running = start_job([str(big_file)], "cloud:big.bin")
    final = running.finish()
    assert final.type == "job_finished", final
    assert proxy.count("drop") >= 1
    assert faulty.read("big.bin") == big_file.read_bytes()
    assert faulty.server.open_multipart_uploads(faulty.bucket) == []


def test_download_survives_dropped_connections(
    faulty: Volume, proxy: FaultProxy, big_file: Path, tmp_path: Path, start_job: Callable[..., RunningJob]
) -> None:
    faulty.server.client().upload_file(str(big_file), faulty.bucket, "big.bin")
    proxy.drop_after(8 * MiB, every=2)
    running = start_job(["cloud:big.bin"], f"{tmp_path}/")
    final = running.finish()
    assert final.type == "job_finished", final
    assert proxy.count("drop") >= 1
    assert (tmp_path / "big.bin").read_bytes() == big_file.read_bytes()


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_drops_beyond_request_retries_retry_the_file(
    direction: str,
    faulty: Volume,
    proxy: FaultProxy,
    big_file: Path,
    tmp_path: Path,
    start_job: Callable[..., RunningJob],
) -> None:
    """With no request retries every drop fails the attempt; the job copies the file again, from the start."""
    sources, destination, read_copy = faulty.big_copy(direction, big_file, tmp_path)
    proxy.drop_after(3 * MiB, every=1, times=2)
    running = start_job(sources, destination, dataclasses.replace(FAULT_SETTINGS, request_retries=0))
    final = running.finish()
    assert final.type == "job_finished", final
    retries = running.of("file_retrying")
    assert retries, "no drop reached the job"
    assert [r.attempt for r in retries] == list(range(1, len(retries) + 1))  # type: ignore[attr-defined]
    assert {r.error for r in retries} == {"network"}  # type: ignore[attr-defined]
    assert [d.attempts for d in running.of("file_done")] == [len(retries) + 1]  # type: ignore[attr-defined]
    assert read_copy() == big_file.read_bytes()
    if direction == "download":  # no temporary file of a failed attempt is left beside the result
        assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]
    assert faulty.server.open_multipart_uploads(faulty.bucket) == []
    progress = [p.bytes_done for p in running.of("progress")]  # type: ignore[attr-defined]
    assert progress == sorted(progress), "progress went backwards across the retries"
    assert progress[-1] == BIG
