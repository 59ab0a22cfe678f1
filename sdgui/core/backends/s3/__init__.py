"""The S3 backend: one config, one backend owning obstore's store and botocore's control plane."""

from sdgui.core.backends.s3.backend import S3Backend
from sdgui.core.backends.s3.config import S3_KINDS, S3Config
from sdgui.core.backends.s3.multipart import S3MultipartClient

__all__ = ["S3_KINDS", "S3Backend", "S3Config", "S3MultipartClient"]
