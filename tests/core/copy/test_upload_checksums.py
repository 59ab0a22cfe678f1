"""Uploads to S3 carry a full-object CRC64NVME, so other tools (aws cli, s5cmd, the console) can verify them."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import anycrc
import pytest

from sdgui.core.settings import MiB, TransferSettings
from tests.copying import add_volume, run_copy
from tests.servers import S3Server

PARTS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB)


@pytest.mark.parametrize("size", [64 * 1024, 12 * MiB], ids=["one-put", "multipart"])
def test_an_upload_carries_a_full_object_crc64nvme(seaweed_s3: S3Server, tmp_path: Path, size: int) -> None:
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    data = os.urandom(size)
    (tmp_path / "f.bin").write_bytes(data)
    run = run_copy([str(tmp_path / "f.bin")], "cloud:f.bin", PARTS)
    assert run.final.type == "job_finished", run.final
    head = seaweed_s3.client().head_object(Bucket=bucket, Key="f.bin", ChecksumMode="ENABLED")
    expected = anycrc.Model("CRC64-NVME").calc(data).to_bytes(8, "big")
    assert base64.b64decode(head["ChecksumCRC64NVME"]) == expected
    assert head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
