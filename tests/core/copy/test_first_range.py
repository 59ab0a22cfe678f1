"""The first ranged download from a volume probes it with its first range, to catch a server that ignores ranges
before several whole-object answers stream at once. The other ranges start as soon as that range's first bytes came
(not once it is done, which on a slow link cost a whole part's time); a server that ignores ranges gets one stream.
Real moto behind the suite's proxies."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core.backends.base import BLAKE3_KEY
from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, run_copy
from tests.etag_proxy import EtagProxy
from tests.faults.proxy import FaultProxy
from tests.servers import LOOPBACK, S3Server

PART = 2 * MiB
PARTS = TransferSettings(multipart_threshold=4 * MiB, download_part_size=PART, download_concurrency=4)
SIZE = 4 * PART + 100


@pytest.fixture
def big_object(moto_s3: S3Server) -> Iterator[tuple[str, bytes]]:
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket()
    data = os.urandom(SIZE)
    moto_s3.client().put_object(
        Bucket=bucket, Key="big.bin", Body=data, Metadata={BLAKE3_KEY: blake3(data).hexdigest()}
    )
    yield bucket, data
    moto_s3.delete_bucket(bucket)


def test_the_other_ranges_start_once_the_first_range_answers(
    moto_s3: S3Server, big_object: tuple[str, bytes], tmp_path: Path
) -> None:
    bucket, data = big_object
    with FaultProxy(LOOPBACK, moto_s3.port) as proxy:
        proxy.delay(0.02)  # a slow link: the first range takes about a second to arrive
        add_volume(moto_s3, bucket, endpoint=proxy.endpoint)
        run = run_copy(["cloud:big.bin"], f"{tmp_path}/", PARTS)
        gets = [
            sent
            for line, sent in zip(proxy.request_log, proxy.bytes_down_at_request, strict=True)
            if line.startswith("GET ") and "big.bin" in line
        ]
    assert run.final.type == "job_finished", run.final
    assert (tmp_path / "big.bin").read_bytes() == data
    assert len(gets) == 5, gets  # five ranges, four at a time, the first one alone at first
    # The next three were asked for once the first range's first MiB came, while the rest of it was still on its
    # way (the old probe waited for all of it); the fifth waited for a free stream.
    assert max(gets[1:4]) < gets[0] + PART * 3 // 4, gets


def test_a_server_that_ignores_ranges_gets_the_file_in_one_stream(
    moto_s3: S3Server, big_object: tuple[str, bytes], tmp_path: Path
) -> None:
    bucket, data = big_object
    with EtagProxy(moto_s3.endpoint, rewrite_etags=False, drop_ranges=True) as proxy:
        add_volume(moto_s3, bucket, endpoint=proxy.endpoint)
        run = run_copy(["cloud:big.bin"], f"{tmp_path}/", PARTS)
        gets = proxy.gets[f"/{bucket}/big.bin"]
    assert run.final.type == "job_finished", run.final
    [done] = run.of("file_done")
    assert (done.verified, done.check) == ("verified", "blake3")  # type: ignore[attr-defined]
    assert (tmp_path / "big.bin").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin"]
    # The probe's answers (the whole object, refused) and then one stream: never a whole object per range.
    assert gets <= 3, gets
