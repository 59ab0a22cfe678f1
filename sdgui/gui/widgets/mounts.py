"""The mounted file systems a person would browse, for the place picker: no kernel interfaces, memory file systems,
container layers or snap images."""

from __future__ import annotations

import os

from PySide6.QtCore import QStorageInfo

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
