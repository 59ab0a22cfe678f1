"""503 SlowDown and 429 answers: the job copies fewer files at once, then more again, and finishes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.copying import write_tree
from tests.faults.conftest import FAULT_SETTINGS, RunningJob, Volume
from tests.faults.proxy import FaultProxy, HttpFault

FILES = 200
# One request retry inside the HTTP client: some throttling still reaches the job (about 9 % of requests),
# which is what lowers its concurrency; short backoffs keep the test quick.
SETTINGS = dataclasses.replace(FAULT_SETTINGS, request_retries=1, retry_base_s=0.05, retry_cap_s=0.5)


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "small", {f"f{i:03d}.txt": f"file {i}\n".encode() * 20 for i in range(FILES)})


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (429, "TooManyRequests")])
def test_throttling_lowers_then_restores_concurrency(
    status: int,
    code: str,
    faulty: Volume,
    proxy: FaultProxy,
    small_tree: Path,
    start_job: Callable[..., RunningJob],
) -> None:
    proxy.http_faults(HttpFault(0.3, status, code))
    running = start_job([f"{small_tree}/"], "cloud:", SETTINGS)
    final = running.finish()

    assert final.type == "job_finished", final
    assert final.files_done == FILES  # type: ignore[attr-defined]
    assert proxy.count(f"http-{status}") >= FILES * 0.2
    assert len(faulty.keys()) == FILES
    retries = running.of("file_retrying")
    assert retries and {r.error for r in retries} == {"throttled"}  # type: ignore[attr-defined]
    changes = [(c.limit, c.reason) for c in running.of("concurrency_changed")]  # type: ignore[attr-defined]
    assert changes and changes[0] == (SETTINGS.file_concurrency // 2, "throttled"), changes
    first_recovery = next(i for i, (_, reason) in enumerate(changes) if reason == "recovered")
    assert changes[first_recovery][0] > changes[first_recovery - 1][0]
    lowest = min(limit for limit, _ in changes)
    assert lowest >= 1
    assert max(limit for limit, _ in changes[first_recovery:]) > lowest, changes
    done = running.of("file_done")
    assert max(d.attempts for d in done) > 1  # type: ignore[attr-defined]
    print(f"{status} {code}: {len(retries)} file retries, concurrency {changes}")
