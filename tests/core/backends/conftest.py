"""Fixtures of the S3 multipart tests: a multipart client on a fresh bucket, and a file of five parts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core.backends.s3.multipart import S3MultipartClient
from tests.core.backends.multipart_support import SIZE, multipart_client, volume
from tests.servers import S3Server


@pytest.fixture
def client(s3_server: S3Server, bucket: str) -> Iterator[S3MultipartClient]:
    multipart = multipart_client(volume(s3_server, bucket), s3_server.secret_access_key)
    yield multipart
    multipart.close()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(SIZE))
    return path
