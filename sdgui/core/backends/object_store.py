"""VolumeBackend over obstore: Google Cloud Storage and Azure Blob as they are, and the data plane of S3Backend."""

from __future__ import annotations

import builtins
import dataclasses
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import obstore

from sdgui.core import errors
from sdgui.core.backends.base import (
    STANDARD_HEADERS,
    BeforeCommit,
    Capabilities,
    Entry,
    ObjectProperties,
    VolumeBackend,
    WriteResult,
    choose_part_size,
)
from sdgui.core.backends.obstore_errors import translated
from sdgui.core.backends.pumped_reader import PumpedReader
from sdgui.core.settings import MiB, TransferSettings

if TYPE_CHECKING:
    from obstore import GetOptions
    from obstore.store import ObjectStore

log = logging.getLogger(__name__)

_MARKER_HEADS = 16
"""HEADs in flight at once while telling folder markers from empty files in a listed page."""
_LAST_CHAR = "\U0010ffff"
"""Sorts after every key character: an offset that skips the rest of a sub-prefix."""


class ObjectStoreBackend(VolumeBackend):
    """One bucket/container (optionally under a prefix) reached through an obstore store.

    ``provider_checked``: the store sends a checksum with every write that the service verifies (S3's sha256).
    """

    def __init__(
        self,
        volume: str,
        store: ObjectStore,
        capabilities: Capabilities,
        *,
        prefix: str = "",
        settings: TransferSettings,
        provider_checked: bool = False,
    ) -> None:
        self.volume = volume
        self.store = store
        self.capabilities = capabilities
        self.prefix = prefix.strip("/")
        self.settings = settings
        self.provider_checked = provider_checked

    def _translated(self, key: str) -> AbstractContextManager[None]:
        return translated(self.volume, key, stall_timeout_s=self.settings.stall_timeout_s)

    # -- keys -----------------------------------------------------------------
    def _full(self, key: str) -> str:
        key = key.strip("/")
        if not self.prefix:
            return key
        return f"{self.prefix}/{key}" if key else self.prefix

    def _relative(self, full: str) -> str:
        if self.prefix and full.startswith(self.prefix + "/"):
            return full[len(self.prefix) + 1 :]
        return full

    def _entry(self, meta: Mapping[str, Any], attributes: Mapping[str, Any] | None = None) -> Entry:
        raw_etag = meta.get("e_tag")
        etag = raw_etag.strip('"') if isinstance(raw_etag, str) else None
        return Entry(
            key=self._relative(str(meta["path"])),
            is_dir=False,
            size=int(meta["size"]),
            modified=meta.get("last_modified"),
            etag=etag,
            # Metadata names are HTTP headers, so case-insensitive: rclone hands back "Sdgui-Blake3" and "Mtime".
            metadata={str(k).lower(): str(v) for k, v in (attributes or {}).items()},
            checksums=self._etag_checksums(etag),
        )

    # -- provider checksums and metadata names: what each service differs in ---------------------------------
    def _etag_checksums(self, etag: str | None) -> dict[str, str]:
        """The whole-object checksums an ETag alone proves on this service (none by default: see S3's notes)."""
        return {}

    def _with_properties(self, full: str, entry: Entry) -> Entry:
        """``entry`` as a GET found it, with what a further request for the object's properties gives where the
        GET's answer lacks it (nothing by default)."""
        return entry

    def _service_metadata(self, metadata: Mapping[str, str]) -> dict[str, str]:
        """sdgui's metadata as this service stores it (names it allows)."""
        return dict(metadata)

    @staticmethod
    def _with_checksums(entry: Entry, checksums: Mapping[str, str]) -> Entry:
        return dataclasses.replace(entry, checksums={**entry.checksums, **checksums}) if checksums else entry

    # -- listing --------------------------------------------------------------
    def list(
        self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000
    ) -> Iterator[builtins.list[Entry]]:
        full_prefix = self._full(prefix)
        if recursive:
            with self._translated(prefix):
                for batch in self._list_objects(full_prefix, None, page_size):
                    markers = self._markers(full_prefix, batch)
                    entries = [self._folder_or_entry(m, markers) for m in batch]
                    if entries:
                        yield entries
            return
        yield from self._list_children(prefix, full_prefix, page_size)

    def _list_children(self, prefix: str, full_prefix: str, page_size: int) -> Iterator[builtins.list[Entry]]:
        """Immediate children of a prefix, streamed in pages.

        obstore's delimiter listing fetches every page before returning, which freezes on big prefixes;
        this streams the recursive listing instead and, once a sub-prefix has shown itself, restarts
        after it with an offset so deep trees are not walked key by key.
        """
        base = f"{full_prefix}/" if full_prefix else ""
        seen_dirs: set[str] = set()
        page: builtins.list[Entry] = []
        offset: str | None = None
        with self._translated(prefix):
            while True:
                restart_at: str | None = None
                stream = self._list_objects(full_prefix, offset, page_size)
                for batch in stream:
                    inside_known_dir = 0
                    markers = self._markers(full_prefix, batch)
                    for meta in batch:
                        rest = str(meta["path"])[len(base) :]
                        head, sep, _ = rest.partition("/")
                        if not sep and str(meta["path"]) in markers:
                            if rest not in seen_dirs:
                                seen_dirs.add(rest)
                                page.append(Entry(key=self._relative(base + rest), is_dir=True))
                        elif not sep:
                            page.append(self._entry(meta))
                        elif head not in seen_dirs:
                            seen_dirs.add(head)
                            page.append(Entry(key=self._relative(base + head), is_dir=True))
                        else:
                            inside_known_dir += 1
                        if len(page) >= page_size:
                            yield page
                            page = []
                    if batch and inside_known_dir >= len(batch) // 2:
                        # Mostly keys of a sub-prefix already shown: jump past it.
                        last = str(batch[-1]["path"])[len(base) :].partition("/")
                        if last[1]:
                            restart_at = f"{base}{last[0]}/{_LAST_CHAR}"
                            break
                if restart_at is None or restart_at == offset:
                    break
                offset = restart_at
        if page:
            yield page

    def _list_objects(
        self, full_prefix: str, offset: str | None, chunk_size: int
    ) -> Iterator[Sequence[Mapping[str, Any]]]:
        """The objects under ``full_prefix`` (after ``offset``), recursively, in obstore's batches."""
        yield from obstore.list(self.store, prefix=full_prefix or None, offset=offset, chunk_size=chunk_size)

    def _folder_or_entry(self, meta: Mapping[str, Any], markers: set[str]) -> Entry:
        """A listed object, or the empty folder its ``name/`` marker stands for (a copy makes it again)."""
        if str(meta["path"]) in markers:
            return Entry(key=self._relative(str(meta["path"]).rstrip("/")), is_dir=True)
        return self._entry(meta)

    def _markers(self, full_prefix: str, batch: Sequence[Mapping[str, Any]]) -> set[str]:
        """The listed paths in ``batch`` that are folder markers: zero-byte ``name/`` objects (an S3 console's
        empty folders), which obstore lists as ``name``. Only zero-byte objects can be one."""
        zero = [str(meta["path"]) for meta in batch if int(meta["size"]) == 0]
        if not zero:
            return set()
        markers = {path for path in zero if path.endswith("/")}
        unknown = [path for path in zero if not path.endswith("/")]
        return markers | (self._markers_among(full_prefix, unknown) if unknown else set())

    def _markers_among(self, full_prefix: str, paths: builtins.list[str]) -> set[str]:
        """Which of these zero-byte paths (as obstore names them) are markers: a HEAD of ``name`` finds nothing
        where the object is ``name/``. The HEADs go out together, so a page of empty files costs one round trip's
        time, not one per file."""
        if len(paths) == 1:
            return set(paths) if self._head_finds_nothing(paths[0]) else set()
        from concurrent.futures import ThreadPoolExecutor  # here: most listings have no empty files to tell apart

        with ThreadPoolExecutor(max_workers=min(_MARKER_HEADS, len(paths))) as pool:
            return {path for path, gone in zip(paths, pool.map(self._head_finds_nothing, paths), strict=True) if gone}

    def _head_finds_nothing(self, path: str) -> bool:
        try:
            obstore.head(self.store, path)
        except FileNotFoundError:
            return True
        except Exception:
            return False
        return False

    def stat(self, key: str) -> Entry:
        with self._translated(key):
            result = obstore.get(self.store, self._full(key), options={"head": True})
            return self._entry(result.meta, result.attributes)

    def properties(self, key: str) -> ObjectProperties:
        """A HEAD through obstore: its standard headers apart from the user metadata; nothing editable."""
        with self._translated(key):
            result = obstore.get(self.store, self._full(key), options={"head": True})
        attributes = {str(k).lower(): str(v) for k, v in result.attributes.items()}
        headers = {
            n: attributes.pop(n) for n in ("content-type", "cache-control", *STANDARD_HEADERS) if n in attributes
        }
        return ObjectProperties(
            self._entry(result.meta, attributes),
            content_type=headers.pop("content-type", None),
            cache_control=headers.pop("cache-control", None),
            other_headers=headers,
        )

    def is_dir(self, key: str) -> bool:
        full = self._full(key)
        with self._translated(key):
            for batch in self._list_objects(full, None, 1):
                if batch:
                    return True
        return False

    # -- reading --------------------------------------------------------------
    def read(self, key: str, *, offset: int = 0, if_match: str | None = None) -> Iterator[bytes]:
        options: GetOptions = {}
        if offset:
            options["range"] = {"offset": offset}
        if if_match:
            options["if_match"] = if_match
        yield from self._stream(key, options)

    def read_range(
        self, key: str, start: int, end: int, *, if_match: str | None = None
    ) -> Iterator[bytes | memoryview]:
        options: GetOptions = {"range": (start, end)}
        if if_match:
            options["if_match"] = if_match
        with self._translated(key):
            result = obstore.get(self.store, self._full(key), options=options)
            for chunk in result.stream(min_chunk_size=1 * MiB):
                yield memoryview(chunk)  # obstore's Bytes, uncopied: pwrite and the hashers take the buffer

    def read_whole(self, key: str) -> tuple[Entry, bytes]:
        with self._translated(key):
            full = self._full(key)
            result = obstore.get(self.store, full)
            entry, data = self._entry(result.meta, result.attributes), bytes(result.bytes())
        return self._with_properties(full, entry), data

    def _stream(self, key: str, options: GetOptions) -> Iterator[bytes]:
        with self._translated(key):
            result = obstore.get(self.store, self._full(key), options=options)
            for chunk in result.stream(min_chunk_size=1 * MiB):
                yield bytes(chunk)

    # -- writing --------------------------------------------------------------
    def write(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> WriteResult:
        attributes = self._service_metadata(metadata or {})
        full = self._full(key)
        if size is not None and size <= self.settings.multipart_threshold:
            data = b"".join(chunks)
            if before_commit is not None:
                before_commit()
            with self._translated(key):
                result = obstore.put(self.store, full, data, attributes=attributes, use_multipart=False)
            return WriteResult(len(data), result.get("e_tag"), self.provider_checked)
        reader = PumpedReader(chunks, before_commit)
        part_size = choose_part_size(size or 0, self.settings.upload_chunk_size)
        try:
            with self._translated(key):
                result = obstore.put(
                    self.store,
                    full,
                    reader.buffered(part_size),
                    attributes=attributes,
                    chunk_size=part_size,
                    max_concurrency=self.settings.upload_concurrency,
                    # Said outright: obstore would otherwise ask the reader for its size (seek to the end),
                    # get 0 and read the whole stream into memory for one single PUT.
                    use_multipart=True,
                )
        except (errors.SdError, OSError):
            # A failure raised inside our reader surfaces from obstore as an OSError (or a translated error);
            # re-raise the original.
            reader.reraise()
            raise
        finally:
            reader.stop()
        reader.reraise()
        return WriteResult(reader.bytes_read, result.get("e_tag"), self.provider_checked)

    def copy(self, src_key: str, dst_key: str) -> None:
        with self._translated(src_key):
            obstore.copy(self.store, self._full(src_key), self._full(dst_key), overwrite=True)

    def delete(self, key: str) -> None:
        try:
            with self._translated(key):
                obstore.delete(self.store, self._full(key))
        except errors.NotFoundError:
            pass

    def make_dir(self, key: str) -> None:
        # obstore cannot write a key ending in "/"; S3Backend writes the marker through its control plane.
        raise errors.SdError(
            "empty folders exist only as S3 folder markers; copy files into the new path instead",
            volume=self.volume,
            path=key,
        )
