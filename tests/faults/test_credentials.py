"""Credentials that stop working mid-job: the job fails fast with a credentials error, without a retry storm."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.copying import add_volume, write_tree
from tests.faults.conftest import FAULT_SETTINGS, RunningJob
from tests.faults.proxy import FaultProxy, HttpFault
from tests.servers import LOOPBACK, S3Server

FILES = 200
SWITCH_AFTER = 20
"""Files copied before the credentials go bad."""


@pytest.fixture
def small_tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "small", {f"f{i:03d}.txt": f"file {i}\n".encode() for i in range(FILES)})


@pytest.fixture
def private_proxy(private_rclone: S3Server) -> Iterator[FaultProxy]:
    with FaultProxy(LOOPBACK, private_rclone.port) as proxy:
        yield proxy


def _new_keys(server: S3Server) -> None:
    """Restart the server with other keys (same port and data): the job's keys are now wrong."""
    old_command = server.command

    def command(port: int) -> list[str]:
        args = old_command(port)
        args[args.index("--auth-key") + 1] = "rotated-access,rotated-secret"
        return args

    server.command = command
    server.restart()


@pytest.mark.parametrize("how", ["proxy-403", "server-rotated-keys"])
def test_credentials_going_bad_fail_the_job_fast(
    how: str,
    private_rclone: S3Server,
    private_proxy: FaultProxy,
    small_tree: Path,
    start_job: Callable[..., RunningJob],
) -> None:
    bucket = private_rclone.new_bucket()
    add_volume(private_rclone, bucket, endpoint=private_proxy.endpoint)
    running = start_job([f"{small_tree}/"], "cloud:", FAULT_SETTINGS)
    enough = running.when(lambda e: e.type == "file_done" and len(running.of("file_done")) >= SWITCH_AFTER)
    assert enough.wait(30), "the copy never got going"
    if how == "proxy-403":
        private_proxy.http_faults(HttpFault(1.0, 403, "SignatureDoesNotMatch"))
    else:
        _new_keys(private_rclone)
    switched_at = time.monotonic()
    requests_at_switch = private_proxy.count("requests")
    final = running.finish()
    failed_after = time.monotonic() - switched_at
    requests_after = private_proxy.count("requests") - requests_at_switch

    assert final.type == "job_failed", final
    assert final.error == "credentials", final  # type: ignore[attr-defined]
    assert "not retried" in final.message  # type: ignore[attr-defined]
    assert not [r for r in running.of("file_retrying") if r.error == "credentials"]  # type: ignore[attr-defined]
    failures = running.of("file_failed")
    assert failures and all("not retried" in f.message for f in failures)  # type: ignore[attr-defined]
    if how == "proxy-403":  # (a restart may also cost a file a network retry first)
        assert all(f.attempts == 1 for f in failures)  # type: ignore[attr-defined]
    # No retry storm: at most the files in flight when the keys went bad ask once more, and nothing new starts.
    assert requests_after <= 2 * FAULT_SETTINGS.file_concurrency, requests_after
    assert len(running.of("file_done")) < FILES
    assert failed_after < 5.0, f"took {failed_after:.1f} s to fail"
    print(f"{how}: failed {failed_after:.2f} s after the switch, {requests_after} requests after it")
