"""Bandwidth limits: the token bucket's average rate, per job and process-wide, and a real limited upload."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.flow.bandwidth import (
    BandwidthLimiter,
    TokenBucket,
    global_bandwidth_limit,
    set_global_bandwidth_limit,
    throttle_bytes,
)
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, read_object, run_copy
from tests.servers import S3Server


@pytest.fixture(autouse=True)
def _no_global_limit() -> Iterator[None]:
    yield
    set_global_bandwidth_limit(None)


def test_bucket_holds_the_average_rate_across_threads() -> None:
    bucket = TokenBucket(4 * MiB)
    started = time.monotonic()

    def pay() -> None:
        for _ in range(4):
            bucket.consume(256 * 1024)

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    # 4 MiB at 4 MiB/s, less the quarter second an idle bucket lets through at once.
    assert 0.7 <= elapsed <= 1.6, elapsed


def test_cancel_cuts_a_wait_short() -> None:
    limiter = BandwidthLimiter(1 * MiB)
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(errors.CancelledError):
        limiter.throttle_bytes(10 * MiB, token)  # would wait about 10 s
    assert time.monotonic() - started < 2.0


def test_no_limit_costs_nothing() -> None:
    limiter = BandwidthLimiter(None)
    started = time.monotonic()
    for _ in range(10_000):
        limiter.throttle_bytes(4 * MiB)
        throttle_bytes(4 * MiB)
    assert time.monotonic() - started < 0.5
    assert limiter.limit is None and global_bandwidth_limit() is None


def test_global_limit_applies_to_every_job() -> None:
    set_global_bandwidth_limit(8 * MiB)
    assert global_bandwidth_limit() == 8 * MiB
    started = time.monotonic()
    BandwidthLimiter(None).throttle_bytes(2 * MiB)  # the bucket starts with 2 MiB of burst
    BandwidthLimiter(None).throttle_bytes(4 * MiB)
    assert 0.4 <= time.monotonic() - started <= 1.2
    set_global_bandwidth_limit(0)
    assert global_bandwidth_limit() is None


def test_a_limited_upload_takes_as_long_as_its_limit_says(rclone_s3: S3Server, tmp_path: Path) -> None:
    bucket = rclone_s3.new_bucket()
    try:
        add_volume(rclone_s3, bucket)
        data = os.urandom(12 * MiB)
        (tmp_path / "f.bin").write_bytes(data)
        settings = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, bandwidth_limit=8 * MiB)
        started = time.monotonic()
        run = run_copy([str(tmp_path / "f.bin")], "cloud:f.bin", settings)
        elapsed = time.monotonic() - started
        assert run.final.type == "job_finished", run.final
        assert read_object(rclone_s3, bucket, "f.bin") == data
        assert 1.2 <= elapsed <= 6.0, elapsed  # 12 MiB at 8 MiB/s
    finally:
        rclone_s3.delete_bucket(bucket)
