"""The S3 backend: one config, one backend owning obstore's store and botocore's control plane."""

from sdgui.core.backends.s3.backend import S3Backend
from sdgui.core.backends.s3.config import S3_KINDS, S3Config

# S3MultipartClient (sdgui.core.backends.s3.multipart) is not imported here: it imports botocore, which a volume
# needs only once the backend asks for its control plane.
__all__ = ["S3_KINDS", "S3Backend", "S3Config"]
