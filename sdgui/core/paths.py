"""Paths that name either a local file or a key on a cloud volume, in rclone's ``remote:path`` form."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sdgui.core.errors import InvalidPathError

VOLUME_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# Longest file name component most filesystems (ext4, APFS, NTFS in UTF-16 units) accept.
_MAX_COMPONENT_BYTES = 255

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_WINDOWS_FORBIDDEN_CHARS = frozenset('<>:"|?*')
_DRIVE_RE = re.compile(r"[A-Za-z]:[\\/]")


def _is_windows() -> bool:
    # A function rather than a constant so tests can exercise the Windows rules on any OS.
    return os.name == "nt"


def is_valid_volume_name(name: str) -> bool:
    """Whether ``name`` may name a volume: a letter or digit, then up to 63 of ``[A-Za-z0-9_.-]``."""
    return VOLUME_NAME_RE.fullmatch(name) is not None


_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's category Cc, which is fixed: C0 (NUL included), DEL and C1."""


def _has_control_char(text: str) -> bool:
    # Such keys cannot be typed, shown or safely logged.
    return _CONTROL_RE.search(text) is not None


def normalise_key(key: str, *, quoted: str | None = None) -> tuple[str, bool]:
    """Validate a cloud key; return it without leading, repeated or trailing slashes, and whether it ended in /.

    ``quoted`` is the text to show in error messages (the whole ``NAME:key``), defaulting to ``key``.
    """
    if quoted is None:
        quoted = key
    if "\\" in key:
        raise InvalidPathError(f"backslash in key {quoted!r}; cloud keys use '/' as the separator")
    if _has_control_char(key):
        raise InvalidPathError(f"control character in key {quoted!r}")
    is_dir = key.endswith("/")
    segments = [segment for segment in key.split("/") if segment]
    for segment in segments:
        if segment in (".", ".."):
            raise InvalidPathError(f"{segment!r} segment in key {quoted!r}; cloud keys have no relative segments")
    return "/".join(segments), is_dir


@dataclass(frozen=True)
class SdPath:
    """A local path (``volume`` is None) or a key on a cloud volume; ``is_dir`` marks a directory or prefix.

    Cloud keys are stored without leading or trailing slashes (``""`` is the volume root); local paths are
    absolute, with symlinks left as they are.
    """

    volume: str | None
    path: str
    is_dir: bool = False

    def __post_init__(self) -> None:
        # Constructed directly (not only through parse), so keep the invariants every caller relies on.
        if "\0" in self.path:
            raise InvalidPathError(f"NUL byte in path {self.path!r}")
        if self.volume is None:
            if not self.path:
                raise InvalidPathError("empty local path")
            return
        if not is_valid_volume_name(self.volume):
            raise InvalidPathError(f"invalid volume name {self.volume!r}")
        key, _ = normalise_key(self.path, quoted=f"{self.volume}:{self.path}")
        if key != self.path:
            raise InvalidPathError(f"key {self.path!r} is not normalised (expected {key!r})")
        if not key and not self.is_dir:
            raise InvalidPathError(f"the root of volume {self.volume!r} is a directory")

    @classmethod
    def parse(cls, text: str) -> SdPath:
        """Parse ``NAME:key``, ``NAME:dir/``, ``NAME:`` or a local path; raise InvalidPathError if malformed."""
        if not text:
            raise InvalidPathError("empty path")
        if "\0" in text:
            raise InvalidPathError(f"NUL byte in path {text!r}")
        if cls._looks_local(text):
            return cls._local(text)
        name, sep, key = text.partition(":")
        if not sep or "/" in name or (_is_windows() and "\\" in name):
            # rclone's rule: a colon after a path separator belongs to a local file name.
            return cls._local(text)
        if not name:
            raise InvalidPathError(f"empty volume name in {text!r}; write NAME:key, or ./{text} for a local file")
        if not is_valid_volume_name(name):
            raise InvalidPathError(
                f"invalid volume name {name!r} in {text!r}; names are a letter or digit followed by up to 63 "
                "letters, digits, '_', '.' or '-'"
            )
        normalised, is_dir = normalise_key(key, quoted=text)
        return cls(name, normalised, is_dir or not normalised)

    @staticmethod
    def _looks_local(text: str) -> bool:
        if text in (".", "..") or text.startswith(("/", "./", "../", "~")):
            return True
        if _is_windows():
            return text.startswith(("\\", ".\\", "..\\")) or _DRIVE_RE.match(text) is not None
        return False

    @classmethod
    def _local(cls, text: str) -> SdPath:
        seps = ("/", "\\") if _is_windows() else ("/",)
        is_dir = text.endswith(seps) or text in (".", "..", "~")
        # abspath normalises "a/../b" lexically; symlinks stay unresolved so the user sees the path they typed.
        return cls(None, os.path.abspath(os.path.expanduser(text)), is_dir)

    def __str__(self) -> str:
        if self.volume is None:
            if self.is_dir and not self.path.endswith(os.sep):
                return self.path + os.sep
            return self.path
        if self.is_dir and self.path:
            return f"{self.volume}:{self.path}/"
        return f"{self.volume}:{self.path}"

    @property
    def is_local(self) -> bool:
        """True for a path on the local filesystem."""
        return self.volume is None

    @property
    def is_root(self) -> bool:
        """True for a volume root or a local filesystem root."""
        return self.name == ""

    @property
    def name(self) -> str:
        """The last segment; ``""`` for a root."""
        if self.volume is None:
            return os.path.basename(self.path)
        return self.path.rpartition("/")[2]

    def parent(self) -> SdPath:
        """The directory holding this path; a root is its own parent."""
        if self.volume is None:
            return SdPath(None, os.path.dirname(self.path), True)
        return SdPath(self.volume, self.path.rpartition("/")[0], True)

    def join(self, *parts: str) -> SdPath:
        """This path as a directory with ``parts`` appended; each part is validated like a cloud key."""
        if not parts:
            return self
        joined = "/".join(parts)
        key, is_dir = normalise_key(joined, quoted=joined)
        if not key:
            return self.as_dir()
        if self.volume is None:
            segments = key.split("/")
            if _is_windows():
                # "D:x" or "CON" would make os.path.join jump drives or open a device instead of a file.
                for segment in segments:
                    _check_windows_component(segment, joined)
            return SdPath(None, os.path.join(self.path, *segments), is_dir)
        return SdPath(self.volume, f"{self.path}/{key}" if self.path else key, is_dir)

    def as_dir(self) -> SdPath:
        """The same path marked as a directory."""
        return self if self.is_dir else dataclasses.replace(self, is_dir=True)

    def as_file(self) -> SdPath:
        """The same path marked as a file; a root cannot be one."""
        if self.is_root:
            raise InvalidPathError(f"{self} is a root and cannot be a file")
        return dataclasses.replace(self, is_dir=False) if self.is_dir else self

    @property
    def backend_key(self) -> str:
        """The key of this path inside its backend: a cloud key, or a local path as a key under ``/``."""
        if self.volume is None:
            return self.path.replace(os.sep, "/").lstrip("/")
        return self.path

    def resolve_typed(self, text: str, volume_names: Iterable[str] = ()) -> SdPath:
        """What a user typed into a path bar showing this directory: ``VOLUME:key``, an absolute or ``~`` path, a
        bare volume name (one of ``volume_names``), or a folder relative to this one (``.`` and ``..`` included;
        never relative to the process's working directory)."""
        if ":" in text or text.startswith(("/", "~")):
            return SdPath.parse(text).as_dir()
        if text.rstrip("/") in set(volume_names):
            return SdPath(text.rstrip("/"), "", True)
        if self.volume is None:
            return SdPath(None, os.path.normpath(os.path.join(self.path, text)), True)
        location = self
        for segment in text.split("/"):
            if segment == "..":
                location = location.parent()
            elif segment and segment != ".":
                location = location.join(segment)
        return location.as_dir()

    def to_dict(self) -> dict[str, Any]:
        return {"volume": self.volume, "path": self.path, "is_dir": self.is_dir}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SdPath:
        return cls(data["volume"], data["path"], bool(data["is_dir"]))

    @property
    def key_prefix(self) -> str:
        """For a cloud directory, the listing prefix: ``"dir/"``, or ``""`` at the root."""
        return f"{self.path}/" if self.path else ""


def _validate_relative_key(relative_key: str, *, windows: bool) -> list[str]:
    """Split a listing key into components a filesystem will accept, refusing anything that could escape."""
    if not relative_key:
        raise InvalidPathError("empty key")
    if "\0" in relative_key:
        raise InvalidPathError(f"NUL byte in key {relative_key!r}")
    if _has_control_char(relative_key):
        raise InvalidPathError(f"control character in key {relative_key!r}")
    if "\\" in relative_key:
        raise InvalidPathError(f"backslash in key {relative_key!r}; it would be a separator on Windows")
    if relative_key.startswith("/"):
        raise InvalidPathError(f"absolute key {relative_key!r}")
    # A single trailing slash marks a directory marker object; any other empty component is ambiguous.
    parts = relative_key.removesuffix("/").split("/")
    for part in parts:
        if not part:
            raise InvalidPathError(f"empty component in key {relative_key!r}")
        if part in (".", ".."):
            raise InvalidPathError(f"{part!r} component in key {relative_key!r}")
        if len(part.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT_BYTES:
            raise InvalidPathError(f"component longer than {_MAX_COMPONENT_BYTES} bytes in key {relative_key!r}")
        if windows:
            _check_windows_component(part, relative_key)
    return parts


def _check_windows_component(part: str, relative_key: str) -> None:
    bad = sorted(set(part) & _WINDOWS_FORBIDDEN_CHARS)
    if bad:
        raise InvalidPathError(f"character {bad[0]!r} in key {relative_key!r} is not allowed on Windows")
    # Windows silently drops trailing dots and spaces, so "a." would overwrite "a".
    if part.endswith((".", " ")):
        raise InvalidPathError(f"component {part!r} of key {relative_key!r} ends with a dot or space")
    stem = part.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        raise InvalidPathError(f"{part!r} in key {relative_key!r} is a reserved device name on Windows")


def safe_local_target(root: pathlib.Path, relative_key: str) -> pathlib.Path:
    """Where object ``relative_key`` goes under local directory ``root``; InvalidPathError if it would escape."""
    parts = _validate_relative_key(relative_key, windows=_is_windows())
    base = os.path.abspath(root)
    target = os.path.normpath(os.path.join(base, *parts))
    # Belt and braces after the component checks: the normalised result must still sit strictly under root.
    # The check is lexical on purpose; sdgui never creates symlinks, so a listing cannot plant one.
    if not target.startswith(base if base.endswith(os.sep) else base + os.sep):
        raise InvalidPathError(f"key {relative_key!r} would land outside {base}")
    return pathlib.Path(target)


def safe_relative_key(relative_key: str) -> str:
    """``relative_key`` as components a local filesystem accepts, joined by ``/`` (a marker's trailing slash
    dropped): what ``safe_local_target`` puts under its root, without a filesystem path. InvalidPathError if it
    could escape."""
    return "/".join(_validate_relative_key(relative_key, windows=_is_windows()))


def relative_key(prefix: str, key: str) -> str:
    """The part of ``key`` under directory ``prefix`` (``""`` is the root); ValueError if not under it."""
    directory = prefix.strip("/")
    if not directory:
        return key.lstrip("/")
    head = directory + "/"
    if not key.startswith(head):
        raise ValueError(f"key {key!r} is not under {head!r}")
    return key[len(head) :]
