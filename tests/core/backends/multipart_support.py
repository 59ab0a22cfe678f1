"""What the S3 multipart tests share: a volume on a test server, its multipart client, a client that counts its
parts and can crash, and the sdgui metadata of a file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sdgui.core.backends.base import BLAKE3_KEY, MTIME_KEY, NewUpload, UploadedPart
from sdgui.core.backends.s3 import S3Config
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.copy.verify import hash_bytes
from sdgui.core.settings import MiB
from sdgui.core.volumes import VolumeConfig
from tests.servers import S3Server

PART = 5 * MiB
SIZE = 4 * PART + 12_345  # five parts, the last one short


class Crash(Exception):
    """Stands for the process dying: not an SdError, so nothing is cleaned up."""


class CountingClient:
    """Wraps S3MultipartClient, counting upload_part calls; can crash after some parts."""

    def __init__(self, inner: S3MultipartClient, crash_after: int | None = None) -> None:
        self.inner = inner
        self.crash_after = crash_after
        self.uploaded: list[int] = []
        self._lock = threading.Lock()

    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        return self.inner.start(key, metadata)

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        return self.inner.list_parts(key, upload_id)

    def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        *,
        checksum: Any = "md5",
        cancel_check: Callable[[], None] | None = None,
    ) -> UploadedPart:
        with self._lock:
            if self.crash_after is not None and len(self.uploaded) >= self.crash_after:
                raise Crash(f"crashed before part {number}")
            self.uploaded.append(number)
        return self.inner.upload_part(key, upload_id, number, data, checksum=checksum, cancel_check=cancel_check)

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart], metadata: Mapping[str, str]) -> str:
        return self.inner.complete(key, upload_id, parts, metadata)

    def abort(self, key: str, upload_id: str) -> None:
        self.inner.abort(key, upload_id)


def multipart_client(config: VolumeConfig, secret: str | None) -> S3MultipartClient:
    return S3MultipartClient(S3Config.from_volume(config, secret))


def volume(server: S3Server, bucket: str, *, prefix: str = "", name: str = "cloud") -> VolumeConfig:
    return VolumeConfig(
        name,
        "s3",
        bucket=bucket,
        endpoint=server.endpoint,
        access_key_id=server.access_key_id,
        allow_http=True,
        prefix=prefix,
    )


def metadata_for(path: Path) -> dict[str, str]:
    return {BLAKE3_KEY: hash_bytes(path.read_bytes()), MTIME_KEY: "1700000000.5"}


def head_metadata(server: S3Server, bucket: str, key: str) -> dict[str, str]:
    # rclone answers with canonicalised header names (Sdgui-Blake3); S3 metadata keys are case-insensitive.
    meta = server.client().head_object(Bucket=bucket, Key=key)["Metadata"]
    return {k.lower(): v for k, v in meta.items()}
