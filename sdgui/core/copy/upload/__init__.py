"""local → cloud: the upload strategy and the multipart uploads that resume after a crash."""

from sdgui.core.copy.upload.strategy import UploadStrategy

__all__ = ["UploadStrategy"]
