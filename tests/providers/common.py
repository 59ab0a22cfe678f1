"""What the provider tests share: small parts (a few MiB make a multipart or block upload), a slowed-down upload
for cancels, fast failure, and opening a registered volume's backend."""

from __future__ import annotations

from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry

SMALL_PARTS = TransferSettings(
    upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=2 * MiB, download_concurrency=4
)
# Slowed down, so the cancel comes while blocks are still being sent.
SLOW_PARTS = TransferSettings(
    upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, upload_concurrency=2, bandwidth_limit=16 * MiB
)
FAST_FAIL = TransferSettings(request_retries=0, retry_attempts=1, connect_timeout_s=2.0, stall_timeout_s=5.0)


def open_backend(name: str, settings: TransferSettings = SMALL_PARTS) -> VolumeBackend:
    return backend_for_config(VolumeRegistry().get(name), settings=settings)
