"""A local file whose size changed since the listing is not uploaded: the job's item says one size, the file holds
another, and nothing is written (small files are read whole and hashed once; large ones are hashed again as sent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.context import CopyContext, CopyItem, FileProgress
from sdgui.core.copy.upload.strategy import UploadStrategy
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume
from tests.servers import S3Server

SETTINGS = TransferSettings(upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB)


@pytest.mark.parametrize("size", [64 * 1024, 12 * MiB], ids=["small", "large"])
def test_a_file_that_grew_since_the_listing_is_not_uploaded(seaweed_s3: S3Server, tmp_path: Path, size: int) -> None:
    seaweed_s3.ensure_running()
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    source = tmp_path / "grows.bin"
    source.write_bytes(os.urandom(size))
    backends = BackendCache(VolumeRegistry(), settings=SETTINGS)
    try:
        src = backends.get(None)
        listed = src.stat(str(source).lstrip("/"))
        with source.open("ab") as handle:  # the file grows after the listing saw it
            handle.write(b"more")
        item = CopyItem(src, str(source).lstrip("/"), backends.get("cloud"), "grows.bin", size, listed)
        ctx = CopyContext(settings=SETTINGS, cancel=CancelToken())
        with pytest.raises(errors.ChecksumMismatchError, match="changed while it was being uploaded"):
            UploadStrategy().copy_file(ctx, item, FileProgress(size, lambda n: None))
    finally:
        backends.close()
    assert seaweed_s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert seaweed_s3.open_multipart_uploads(bucket) == []
    seaweed_s3.delete_bucket(bucket)
