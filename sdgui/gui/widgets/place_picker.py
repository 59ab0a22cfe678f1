"""The place picker above a pane's list: Home, the file system root, the mounted file systems a person would browse
(no kernel interfaces, memory file systems, container layers or snap images), then every cloud volume."""

from __future__ import annotations

import os

from PySide6.QtCore import QDir, QStorageInfo, Qt
from PySide6.QtWidgets import QComboBox, QStyle, QWidget

from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeConfig
from sdgui.gui.icons import cloud_icon

# Mounts that hold no user files: kernel interfaces, memory file systems, container layers, snap images.
PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
        "efivarfs", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal", "fusectl", "hugetlbfs", "mqueue", "nsfs",
        "overlay", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",
        "tmpfs", "tracefs",
    }
)  # fmt: skip
SYSTEM_PREFIXES = ("/proc", "/sys", "/dev", "/run", "/snap", "/boot", "/var/lib", "/var/snap")
USER_MEDIA_PREFIXES = ("/run/media/", "/media/", "/mnt/")


def real_mounts() -> list[tuple[str, str]]:
    """(label, root path) of mounted file systems a person would browse; "/" is listed separately."""
    mounts: list[tuple[str, str]] = []
    seen = {"/"}
    for info in QStorageInfo.mountedVolumes():
        root = info.rootPath()
        fs_type = bytes(info.fileSystemType().data()).decode(errors="replace")
        if not (info.isValid() and info.isReady()) or root in seen or fs_type in PSEUDO_FILESYSTEMS:
            continue
        if root.startswith(SYSTEM_PREFIXES) and not root.startswith(USER_MEDIA_PREFIXES):
            continue
        if not os.path.isdir(root):  # a container's bind-mounted /etc/hosts and the like
            continue
        seen.add(root)
        name = info.displayName()
        mounts.append((f"{name} ({root})" if name and name != root else root, root))
    return mounts


class PlacePicker(QComboBox):
    """Places and volumes, each item's data the SdPath of its root."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cloud_icon = cloud_icon()
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self.setToolTip("Local places and cloud volumes")

    def fill(self, volumes: list[VolumeConfig]) -> None:
        """Home, the file system root, real mounts, then ``volumes``."""
        style = self.style()
        self.clear()
        self.addItem(
            style.standardIcon(QStyle.StandardPixmap.SP_DirHomeIcon), "Home", SdPath(None, QDir.homePath(), True)
        )
        self.addItem(style.standardIcon(QStyle.StandardPixmap.SP_DriveHDIcon), "File system", SdPath(None, "/", True))
        self.setItemData(1, "/", Qt.ItemDataRole.ToolTipRole)
        drive_icon = style.standardIcon(QStyle.StandardPixmap.SP_DriveHDIcon)
        for label, root in real_mounts():
            self.addItem(drive_icon, label, SdPath(None, root, True))
            self.setItemData(self.count() - 1, root, Qt.ItemDataRole.ToolTipRole)
        if volumes:
            self.insertSeparator(self.count())
        for config in volumes:
            self.addItem(self._cloud_icon, config.name, SdPath(config.name, "", True))
            where = f"{config.kind}: {config.bucket or config.root or ''}"
            if config.endpoint:
                where += f" at {config.endpoint}"
            self.setItemData(self.count() - 1, where, Qt.ItemDataRole.ToolTipRole)

    def show_location(self, location: SdPath) -> None:
        """Show the place ``location`` is in (the volume, or the longest local root holding it), without signals."""
        best, best_length = -1, -1
        for i in range(self.count()):
            root = self.itemData(i)
            if not isinstance(root, SdPath) or root.volume != location.volume:
                continue
            if root.volume is not None:
                best = i
                break
            base = root.path.rstrip(os.sep) + os.sep
            if (location.path == root.path or location.path.startswith(base)) and len(root.path) > best_length:
                best, best_length = i, len(root.path)
        self.blockSignals(True)
        self.setCurrentIndex(best)
        self.blockSignals(False)

    def volume_names(self) -> set[str]:
        roots = (self.itemData(i) for i in range(self.count()))
        return {root.volume for root in roots if isinstance(root, SdPath) and root.volume is not None}
