"""cloud → local: the download strategy, its partial files that survive a crash, and the fetching of bytes."""

from sdgui.core.copy.download.strategy import DownloadStrategy

__all__ = ["DownloadStrategy"]
