"""S3Backend: one s3/r2 volume, with obstore for the bytes and botocore for the multipart control plane."""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import obstore
from obstore import exceptions as obx

from sdgui.core import errors
from sdgui.core.backends.base import (
    S3_SINGLE_COPY_LIMIT,
    Capabilities,
    CompositeChecksum,
    Entry,
    ObjectProperties,
    RangeNotSupportedError,
    ResumableUploads,
)
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.s3.config import S3Config
from sdgui.core.backends.s3.properties import properties_of_head
from sdgui.core.cancel import CancelToken
from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:
    from sdgui.core.backends.s3.multipart import S3MultipartClient

log = logging.getLogger(__name__)

_CHECKSUM_FIELDS = {
    "ChecksumCRC64NVME": "crc64nvme",
    "ChecksumSHA256": "sha256",
    "ChecksumSHA1": "sha1",
    "ChecksumCRC32C": "crc32c",
    "ChecksumCRC32": "crc32",
}
"""HeadObject's additional checksums (base64 of the digest; a composite multipart one ends in -N)."""
_DIGEST_BYTES = {"crc64nvme": 8, "sha256": 32, "sha1": 20, "crc32c": 4, "crc32": 4}
"""How long each checksum's digest is: a value of another length is no checksum (moto answers HEAD with a 4-byte
CRC64NVME)."""
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_FEW_EMPTY = 8
"""Up to this many zero-byte objects in a listed page are told from folder markers by HEADs; more by one listing."""


def _parts_of(etag: str) -> int | None:
    """How many parts a multipart ETag (md5-of-md5s, then -N) says the object has; None for a single-part one."""
    _, dash, count = etag.strip('"').rpartition("-")
    return int(count) if dash and count.isdigit() and int(count) > 0 else None


def _md5_etag(etag: str | None) -> str | None:
    """The MD5 an ETag is, for a single-part object (a multipart ETag is md5-of-md5s-N: no MD5 of the bytes)."""
    value = (etag or "").strip('"').lower()
    return value if _MD5_HEX.fullmatch(value) else None


def _just_before(key: str) -> str:
    """A StartAfter that lists ``key`` and ``key/`` (SeaweedFS skips ``key/`` after ``key``, its directory)."""
    last = ord(key[-1]) - 1
    return key[:-1] + chr(last) if last > 0 and not 0xD800 <= last <= 0xDFFF else key[:-1]


S3_CAPABILITIES = Capabilities(
    is_local=False,
    server_side_copy=True,
    server_side_copy_max=S3_SINGLE_COPY_LIMIT,
    server_side_copy_whole=True,
    range_reads=True,
)


class S3Backend(ObjectStoreBackend):
    """An S3 or S3-compatible bucket (optionally under a prefix); both clients come from one ``S3Config``.

    The botocore control plane is made on first use, its module (which imports botocore) imported then: it costs a
    few hundred milliseconds, and most volumes opened never need it; `sdgui ls` reaches the service without it.
    """

    def __init__(self, config: S3Config, settings: TransferSettings) -> None:
        self.s3_store = config.obstore_store()
        super().__init__(
            config.volume,
            self.s3_store,
            S3_CAPABILITIES,
            prefix=config.prefix,
            settings=settings,
            provider_checked=True,  # CRC64NVME on every PUT and part (multipart.py too): the service checks each
        )
        self.config = config
        self._multipart: S3MultipartClient | None = None
        self._multipart_lock = threading.Lock()
        self._ranges_by_control_plane = False
        """Set once the server answered a ranged GET with status 200 (obstore refuses that answer, botocore not)."""

    @property
    def multipart(self) -> S3MultipartClient:
        """The botocore control plane: multipart uploads, raw listings, HEADs with checksums, folder markers."""
        with self._multipart_lock:
            if self._multipart is None:
                from sdgui.core.backends.s3.multipart import S3MultipartClient

                self._multipart = S3MultipartClient(self.config)
            return self._multipart

    def read(self, key: str, *, offset: int = 0, if_match: str | None = None) -> Iterator[bytes]:
        if not offset:
            yield from super().read(key, if_match=if_match)
            return
        yield from self._ranged(
            lambda: super(S3Backend, self).read(key, offset=offset, if_match=if_match), key, offset, None, if_match
        )

    def read_range(
        self, key: str, start: int, end: int, *, if_match: str | None = None
    ) -> Iterator[bytes | memoryview]:
        """obstore's ranged GET; on a server that answers it with status 200 and the range's bytes (rclone serve
        s3), which obstore refuses, botocore's, which takes such an answer when its Content-Range is the range."""
        yield from self._ranged(
            lambda: super(S3Backend, self).read_range(key, start, end, if_match=if_match), key, start, end, if_match
        )

    def _ranged(
        self, through_obstore: Callable[[], Iterator[Any]], key: str, start: int, end: int | None, if_match: str | None
    ) -> Iterator[Any]:
        if not self._ranges_by_control_plane:
            produced = False
            try:
                for chunk in through_obstore():
                    produced = True
                    yield chunk
                return
            except RangeNotSupportedError:
                if produced:
                    raise
                log.info("%s answers ranged GETs with status 200; reading ranges through botocore", self.volume)
                self._ranges_by_control_plane = True
        yield from self.multipart.read_range(key, start, end, if_match)

    def _etag_checksums(self, etag: str | None) -> dict[str, str]:
        # A listing or GET cannot tell an MD5 ETag from an SSE-KMS one; it is offered as md5 and a mismatch asks
        # stat_with_checksums, which knows.
        md5 = _md5_etag(etag)
        return {"md5": md5} if md5 else {}

    def _list_objects(
        self, full_prefix: str, offset: str | None, chunk_size: int
    ) -> Iterator[Sequence[Mapping[str, Any]]]:
        """obstore's listing, until a key obstore cannot name (an empty segment, ``a//b.txt``, legal on S3) stops
        it: from there on the control plane lists, so every key shows up and each such file fails on its own."""
        last = offset
        try:
            for batch in super()._list_objects(full_prefix, offset, chunk_size):
                if batch:
                    last = str(batch[-1]["path"])
                yield batch
            return
        except obx.InvalidPathError:
            pass
        yield from self.multipart.list_objects(full_prefix, last, chunk_size)

    def _markers_among(self, full_prefix: str, paths: list[str]) -> set[str]:
        """A few zero-byte paths are HEADed; more are looked up in one raw listing of the page's key range, where
        a marker keeps its trailing slash (a page of 1,000 empty files costs one or two requests, not 1,000)."""
        if len(paths) <= _FEW_EMPTY:
            return super()._markers_among(full_prefix, paths)
        wanted = {f"{path}/" for path in paths}
        last = max(wanted)
        found: set[str] = set()
        for batch in self.multipart.list_objects(full_prefix, _just_before(min(paths)), 1000):
            found.update(str(item["path"])[:-1] for item in batch if item["path"] in wanted)
            if str(batch[-1]["path"]) >= last:
                break
        return found

    def stat_with_checksums(self, key: str) -> Entry:
        return self._entry_of_head(key, self.multipart.head(key))

    def properties(self, key: str) -> ObjectProperties:
        head = self.multipart.head(key)
        return properties_of_head(self._entry_of_head(key, head), head)

    def set_headers(
        self, key: str, *, content_type: str | None, cache_control: str | None, if_match: str | None
    ) -> ObjectProperties:
        self.multipart.replace_headers(key, content_type, cache_control, if_match)
        return self.properties(key)

    def share_link(self, key: str, expires_in: timedelta) -> str:
        if not self.config.signed:
            raise errors.ConfigError(
                "share links need an access key on this volume (it reads the bucket anonymously)",
                volume=self.volume,
                path=key,
            )
        with self._translated(key):
            return obstore.sign(self.s3_store, "GET", self._full(key), expires_in)

    def _etag_composite(self, key: str, size: int, etag: str, parts: int) -> CompositeChecksum | None:
        """A multipart object with no other checksum: its ETag, the MD5 of its parts' MD5s on S3 (and most
        services that speak it), checked part by part where the part sizes are known."""
        value = etag.strip('"').lower().rpartition("-")[0]
        if not self.config.multipart_etags or not _MD5_HEX.fullmatch(value):
            return None
        sizes = self.multipart.part_sizes(key, size, parts)
        return CompositeChecksum("md5", value, sizes, from_etag=True) if sizes else None

    def _entry_of_head(self, key: str, head: Mapping[str, Any]) -> Entry:
        size = int(head.get("ContentLength", 0))
        parts = _parts_of(str(head.get("ETag") or ""))
        checksums: dict[str, str] = {}
        composite: CompositeChecksum | None = None
        for field, name in _CHECKSUM_FIELDS.items():
            value = head.get(field)
            if not isinstance(value, str):
                continue
            try:
                raw = base64.b64decode(value.split("-", 1)[0], validate=True)
            except ValueError:
                continue
            if len(raw) != _DIGEST_BYTES[name]:
                continue
            digest = raw.hex()
            # A multipart object's checksum is composite unless the service says it covers the whole object (a
            # CRC64NVME always does); moto says nothing and leaves off the "-N".
            if head.get("ChecksumType") == "FULL_OBJECT" or name == "crc64nvme" or (parts is None and "-" not in value):
                checksums[name] = digest
            elif composite is None and parts is not None:
                sizes = self.multipart.part_sizes(key, size, parts)
                composite = CompositeChecksum(name, digest, sizes) if sizes else None
        encrypted = head.get("ServerSideEncryption") in ("aws:kms", "aws:kms:dsse") or head.get("SSECustomerAlgorithm")
        etag = str(head.get("ETag") or "")
        md5 = None if encrypted else _md5_etag(etag)
        if md5:
            checksums["md5"] = md5
        elif parts is not None and not checksums and composite is None and not encrypted:
            composite = self._etag_composite(key, size, etag, parts)
        return Entry(
            key=key.strip("/"),
            is_dir=False,
            size=size,
            modified=head.get("LastModified"),
            etag=str(head.get("ETag") or "").strip('"') or None,
            metadata={str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()},
            checksums=checksums,
            composite=composite,
        )

    def delete_tree(self, key: str, cancel: CancelToken, *, on_deleted: Callable[[str], None] | None = None) -> int:
        return self.multipart.delete_prefix(key, cancel, on_deleted)

    def resumable_uploads(self) -> ResumableUploads:
        return self.multipart

    def make_dir(self, key: str) -> None:
        self.multipart.put_folder_marker(key)

    def delete_folder_marker(self, key: str) -> None:
        self.multipart.delete_folder_marker(key)

    def close(self) -> None:
        with self._multipart_lock:
            multipart = self._multipart
        if multipart is not None:
            multipart.close()
