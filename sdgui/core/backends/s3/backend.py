"""S3Backend: one s3/r2 volume, with obstore for the bytes and botocore for the multipart control plane."""

from __future__ import annotations

from sdgui.core.backends.base import S3_SINGLE_COPY_LIMIT, Capabilities, ResumableUploads
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.s3.config import S3Config
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.settings import TransferSettings

S3_CAPABILITIES = Capabilities(
    is_local=False, server_side_copy=True, server_side_copy_max=S3_SINGLE_COPY_LIMIT, range_reads=True
)


class S3Backend(ObjectStoreBackend):
    """An S3 or S3-compatible bucket (optionally under a prefix); both clients come from one ``S3Config``.

    The botocore client is built on first use: it costs a few hundred milliseconds, and most volumes opened never
    need it.
    """

    def __init__(self, config: S3Config, settings: TransferSettings) -> None:
        super().__init__(
            config.volume,
            config.obstore_store(),
            S3_CAPABILITIES,
            prefix=config.prefix,
            settings=settings,
            provider_checked=True,  # checksum_algorithm sha256: the service checks every PUT and part
        )
        self.config = config
        self.multipart = S3MultipartClient(config)

    def resumable_uploads(self) -> ResumableUploads:
        return self.multipart

    def make_dir(self, key: str) -> None:
        self.multipart.put_folder_marker(key)

    def close(self) -> None:
        self.multipart.close()
