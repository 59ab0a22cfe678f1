"""The server process killed (SIGKILL) and started again in the middle of a copy: the job still finishes."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.copying import add_volume
from tests.faults.conftest import FAULT_SETTINGS, RunningJob, bytes_done_over
from tests.servers import S3Server

MiB = 1024 * 1024
BIG = 64 * MiB
# A bandwidth limit keeps the copy going for about two seconds, so the kill lands in its middle.
SETTINGS = dataclasses.replace(FAULT_SETTINGS, bandwidth_limit=32 * MiB)


def _kill_and_restart(server: S3Server) -> float:
    """SIGKILL the server, reap it, start it again on the same port and data; returns how long it was down."""
    assert server.process is not None
    killed_at = time.monotonic()
    server.process.kill()
    server.stop()
    server.start()
    return time.monotonic() - killed_at


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_server_killed_and_restarted_mid_copy(
    direction: str, private_rclone: S3Server, tmp_path: Path, start_job: Callable[..., RunningJob]
) -> None:
    bucket = private_rclone.new_bucket()
    add_volume(private_rclone, bucket)
    data = os.urandom(BIG)
    if direction == "download":
        private_rclone.client().put_object(Bucket=bucket, Key="big.bin", Body=data)
        sources, destination = ["cloud:big.bin"], f"{tmp_path}/out/"
    else:
        (tmp_path / "big.bin").write_bytes(data)
        sources, destination = [str(tmp_path / "big.bin")], "cloud:big.bin"
    running = start_job(sources, destination, SETTINGS)
    midway = running.when(bytes_done_over(24 * MiB))
    assert midway.wait(30), "the copy never got going"
    down_s = _kill_and_restart(private_rclone)
    restarted_at = time.monotonic()
    final = running.finish()
    recovered_s = time.monotonic() - restarted_at

    assert final.type == "job_finished", final
    if direction == "download":
        assert (tmp_path / "out" / "big.bin").read_bytes() == data
    else:
        assert private_rclone.client().get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
        assert private_rclone.open_multipart_uploads(bucket) == []
    retries = [(r.error, r.message[:90]) for r in running.of("file_retrying")]  # type: ignore[attr-defined]
    # rclone forgets multipart uploads when it restarts: the upload is copied again (404 NoSuchUpload is
    # retryable there), while a download resumes inside obstore's own request retries.
    assert {error for error, _ in retries} <= {"network", "service"}
    print(f"{direction}: server down {down_s:.2f} s, job done {recovered_s:.2f} s after the restart; retries {retries}")
