"""A server that answers ranged GETs with status 200 and the range's bytes (rclone serve s3) still gets parallel
ranged downloads: obstore refuses such answers, so the ranges go through botocore, which takes them when the
Content-Range is the range asked for."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core.backends.base import BLAKE3_KEY
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, run_copy
from tests.faults.proxy import FaultProxy
from tests.servers import LOOPBACK, S3Server

PARTS = TransferSettings(multipart_threshold=4 * MiB, download_part_size=2 * MiB, download_concurrency=4)


def test_download_from_rclone_runs_in_parallel_ranges(rclone_s3: S3Server, tmp_path: Path) -> None:
    rclone_s3.ensure_running()
    bucket = rclone_s3.new_bucket()
    data = os.urandom(12 * MiB + 5)
    rclone_s3.client().put_object(
        Bucket=bucket, Key="big.bin", Body=data, Metadata={BLAKE3_KEY: blake3(data).hexdigest()}
    )
    with FaultProxy(LOOPBACK, rclone_s3.port) as proxy:
        add_volume(rclone_s3, bucket, endpoint=proxy.endpoint)
        run = run_copy(["cloud:big.bin"], f"{tmp_path}/", PARTS)
        gets = [line for line in proxy.request_log if line.startswith("GET ") and "big.bin" in line]
    assert run.final.type == "job_finished", run.final
    [done] = run.of("file_done")
    assert (done.verified, done.check, done.note) == ("verified", "blake3", "")  # type: ignore[attr-defined]
    assert (tmp_path / "big.bin").read_bytes() == data
    # Seven 2 MiB ranges (the first one asked twice: obstore, refused, then botocore), not one whole stream.
    assert len(gets) == 8, gets
    rclone_s3.delete_bucket(bucket)


def test_two_big_downloads_at_once_keep_their_connections(
    rclone_s3: S3Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two large files in flight (``large_file_slots``), each with all its ranges, fit botocore's connection pool:
    none is opened only to be thrown away ("Connection pool is full, discarding connection")."""
    rclone_s3.ensure_running()
    bucket = rclone_s3.new_bucket()
    settings = TransferSettings(download_concurrency=20, download_part_size=2 * MiB)
    size = settings.download_part_size * settings.download_concurrency + 5
    for name in ("a.bin", "b.bin"):
        rclone_s3.client().put_object(Bucket=bucket, Key=f"big/{name}", Body=os.urandom(size))
    add_volume(rclone_s3, bucket)
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        run = run_copy(["cloud:big/"], f"{tmp_path}/", settings)
    assert run.final.type == "job_finished", run.final
    assert len(run.of("file_done")) == 2
    assert [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")] == []
    rclone_s3.delete_bucket(bucket)
