"""CopyStrategyRouter: picks how bytes move from the two volumes and their capabilities."""

from __future__ import annotations

from sdgui.core.backends.base import Capabilities, VolumeBackend
from sdgui.core.copy.download import DownloadStrategy
from sdgui.core.copy.local_copy import LocalCopyStrategy
from sdgui.core.copy.server_side import ServerSideCopyStrategy
from sdgui.core.copy.strategy import CopyStrategy
from sdgui.core.copy.streaming import StreamingCopyStrategy
from sdgui.core.copy.upload import UploadStrategy

_LOCAL = LocalCopyStrategy()
_UPLOAD = UploadStrategy()
_DOWNLOAD = DownloadStrategy()
_SERVER_SIDE = ServerSideCopyStrategy()
_STREAMING = StreamingCopyStrategy()


def select_strategy(
    src_volume: str | None,
    src: Capabilities,
    dst_volume: str | None,
    dst: Capabilities,
    size: int | None = None,
) -> CopyStrategy:
    """The strategy for one file of ``size`` bytes (None: not known yet) between two volumes.

    | source | destination | strategy |
    |---|---|---|
    | local | local | local copy |
    | local | cloud | streaming upload |
    | cloud | local | streaming download |
    | cloud | same cloud volume, native copy, size within its limit | server-side copy |
    | cloud | same volume beyond the limit, or another cloud volume | cross-volume streaming |
    """
    if src.is_local and dst.is_local:
        return _LOCAL
    if src.is_local:
        return _UPLOAD
    if dst.is_local:
        return _DOWNLOAD
    same_volume = src_volume is not None and src_volume == dst_volume
    within_limit = size is None or src.server_side_copy_max is None or size <= src.server_side_copy_max
    if same_volume and src.server_side_copy and within_limit:
        return _SERVER_SIDE
    return _STREAMING


class CopyStrategyRouter:
    """Routes each file of a job; the job's headline strategy is the one its files mostly take."""

    def select(self, src: VolumeBackend, dst: VolumeBackend, size: int | None = None) -> CopyStrategy:
        return select_strategy(src.volume, src.capabilities, dst.volume, dst.capabilities, size)
