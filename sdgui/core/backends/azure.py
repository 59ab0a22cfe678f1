"""Azure Blob volumes: obstore's AzureStore, metadata names Azure accepts, the blob's Content-MD5, and no blocks
left behind by a cancelled upload.

Azure metadata names must be C# identifiers, so ``sdgui-blake3`` is written ``sdgui_blake3`` (``Entry.blake3`` reads
both). obstore does not hand out the ``Content-MD5`` of a blob, so ``stat_with_checksums`` (and ``read_whole`` of a
blob sdgui did not write) asks for the blob's properties with one HEAD of its own: through a read-only URL obstore
signs with the account key (a service SAS valid for minutes), or with the volume's SAS token. Azure stores a
Content-MD5 for blobs written in one Put Blob (the service computes it) and for block blobs whose writer set one;
obstore's block uploads set none, so those have no MD5 and say so.

Azure has no "abort" for a block upload: a cancelled or failed one leaves its uncommitted blocks (billed, until the
service drops them after 7 days), and obstore's abort does nothing. Where no blob exists at the key, committing an
empty block list (``If-None-Match: *``) discards them, and the empty blob it makes is deleted (``If-Match``). Where a
blob exists, its uncommitted blocks cannot be dropped without rewriting it, so they are left to the service.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO, Literal
from urllib.parse import quote

import obstore

from sdgui.core import errors
from sdgui.core.backends.azure_blocks import AzureBlockUploads, answer_failure
from sdgui.core.backends.azure_properties import properties_of_headers, set_properties_headers
from sdgui.core.backends.base import BeforeCommit, Capabilities, Entry, ObjectProperties, ResumableUploads, WriteResult
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.service_errors import ServiceFailure, to_error
from sdgui.core.backends.signed_requests import exchange, md5_hex
from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:
    from obstore.store import AzureStore

log = logging.getLogger(__name__)

SIGNED_URL_LIFETIME = timedelta(minutes=5)
X_MS_VERSION = "2023-11-03"
DISCARD_PAUSES_S = (0.05, 0.1, 0.2, 0.4, 0.8)
EMPTY_BLOCK_LIST = b'<?xml version="1.0" encoding="utf-8"?><BlockList></BlockList>'


def azure_metadata_name(name: str) -> str:
    """A metadata name Azure accepts (a C# identifier): hyphens become underscores."""
    return name.replace("-", "_")


@dataclass(frozen=True)
class BlobProperties:
    """How this volume reaches a blob's properties: a URL obstore signs (account key), or one with the SAS token."""

    container: str
    sas_token: str | None = None
    endpoint: str | None = None
    """The account's blob endpoint (``https://ACCOUNT.blob.core.windows.net``, or an emulator's ``…/ACCOUNT``)."""
    timeout_s: float = 30.0


class AzureBackend(ObjectStoreBackend):
    """One Azure Blob container (optionally under a prefix)."""

    def __init__(
        self,
        volume: str,
        store: AzureStore,
        capabilities: Capabilities,
        *,
        prefix: str = "",
        settings: TransferSettings,
        properties: BlobProperties | None,
    ) -> None:
        super().__init__(volume, store, capabilities, prefix=prefix, settings=settings)
        self.azure_store = store
        self.properties_access = properties
        self._block_uploads = (
            None
            if properties is None
            else AzureBlockUploads(
                volume,
                self._full,
                self._signed_url,
                _exchange,
                self._discard_uncommitted_blocks,
                azure_metadata_name,
                properties.timeout_s,
            )
        )

    def resumable_uploads(self) -> ResumableUploads | None:
        return self._block_uploads

    def stat(self, key: str) -> Entry:
        try:
            return super().stat(key)
        except errors.PermissionDeniedError as exc:
            if exc.service_code is not None:
                raise
            # A HEAD's answer has no body, so no error code: a wrong key and a missing right both read "403".
            # A one-entry listing of the same prefix is a GET whose body says which.
            with self._translated(key):
                next(iter(obstore.list(self.store, prefix=self._full(key) or None, chunk_size=1)), None)
            raise

    def delete(self, key: str) -> None:
        props = self.properties_access
        if props is None or props.sas_token is None:
            super().delete(key)
            return
        # obstore deletes through a blob batch (POST ?comp=batch), which a SAS token cannot always sign for (Azurite
        # answers 500): one Delete Blob with the token instead.
        full = self._full(key)
        try:
            status, headers = _request("DELETE", self._signed_url(full, "DELETE"), props.timeout_s)
        except OSError as exc:
            failure = ServiceFailure(summary=f"{type(exc).__name__}: {exc}", transport="connect")
            raise to_error(failure, volume=self.volume, path=key) from None
        if status in (200, 202, 404):
            return
        raise to_error(answer_failure(status, headers, "DELETE"), volume=self.volume, path=key)

    def write(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> WriteResult:
        try:
            return super().write(key, chunks, size=size, metadata=metadata, before_commit=before_commit)
        except BaseException:
            if size is None or size > self.settings.multipart_threshold:  # blocks were staged, not one Put Blob
                self._discard_uncommitted_blocks(self._full(key))
            raise

    def _discard_uncommitted_blocks(self, full: str) -> None:
        """Drop the blocks a failed upload staged at ``full`` when no blob is there (see the module's notes).

        A block whose request was already on the wire when the upload failed can still land a moment later, so
        the list of uncommitted blocks is read again afterwards, a few times, briefly."""
        if self.properties_access is None:
            return
        try:
            for pause in DISCARD_PAUSES_S:
                if not self._discard_once(full) or not self._has_uncommitted_blocks(full):
                    return
                time.sleep(pause)
            log.warning("blocks kept arriving at %s:%s after its upload failed; left to the service", self.volume, full)
        except Exception as exc:  # cleaning up after a failure must not hide the failure
            log.warning("could not discard the uncommitted blocks of %s:%s: %s", self.volume, full, exc)

    def _has_uncommitted_blocks(self, full: str) -> bool:
        assert self.properties_access is not None
        url = self._signed_url(full, "GET", "comp=blocklist&blocklisttype=uncommitted")
        status, _, body = _exchange("GET", url, self.properties_access.timeout_s)
        return status == 200 and b"<Block>" in body

    def _discard_once(self, full: str) -> bool:
        """Commit an empty block list where no blob is, then delete that empty blob; False when a blob is there."""
        assert self.properties_access is not None
        status, headers = _request(
            "PUT",
            self._signed_url(full, "PUT", "comp=blocklist"),
            self.properties_access.timeout_s,
            {"If-None-Match": "*", "Content-Type": "application/xml"},
            EMPTY_BLOCK_LIST,
        )
        if status != 201:
            log.info("left the uncommitted blocks of %s:%s to the service (HTTP %d)", self.volume, full, status)
            return False
        etag = headers["etag"]
        status, _ = _request(
            "DELETE", self._signed_url(full, "DELETE"), self.properties_access.timeout_s, {"If-Match": etag}
        )
        if status == 412:
            # A block that landed after the commit changes the blob's ETag (Azurite does so). Still the empty blob
            # our commit created (same creation time, no bytes)? Then it is ours to delete.
            status, now = _request("HEAD", self._signed_url(full, "GET"), self.properties_access.timeout_s)
            ours = now.get("content-length") == "0" and now.get("x-ms-creation-time") == headers.get("last-modified")
            if status == 200 and ours:
                status, _ = _request(
                    "DELETE",
                    self._signed_url(full, "DELETE"),
                    self.properties_access.timeout_s,
                    {"If-Match": now["etag"]},
                )
        log.debug("discarded the uncommitted blocks of %s:%s (delete: HTTP %d)", self.volume, full, status)
        return True

    # -- Properties and share links (see azure_properties.py) ------------------------------------------------
    def properties(self, key: str) -> ObjectProperties:
        if self.properties_access is None:
            return super().properties(key)  # no key or token of its own: what obstore's HEAD tells
        return properties_of_headers(key, self._blob_headers(key))

    def set_headers(
        self, key: str, *, content_type: str | None, cache_control: str | None, if_match: str | None
    ) -> ObjectProperties:
        if self.properties_access is None:
            return super().set_headers(key, content_type=content_type, cache_control=cache_control, if_match=if_match)
        found = self._blob_headers(key)
        if if_match is not None and found.get("etag", "").strip('"') != if_match.strip('"'):
            raise errors.ConflictError("the blob changed since its properties were read", volume=self.volume, path=key)
        url = self._signed_url(self._full(key), "PUT", "comp=properties")
        headers = set_properties_headers(found, content_type, cache_control)
        status, answered = self._blob_request("PUT", url, key, headers)
        if status == 412:
            raise errors.ConflictError("the blob changed since its properties were read", volume=self.volume, path=key)
        if status != 200:
            raise to_error(answer_failure(status, answered, "Set Blob Properties"), volume=self.volume, path=key)
        return self.properties(key)

    def share_link(self, key: str, expires_in: timedelta) -> str:
        props = self.properties_access
        if props is None or props.sas_token is not None:
            raise errors.ConfigError(
                "share links need the account key on this volume (a SAS token cannot sign another)",
                volume=self.volume,
                path=key,
            )
        with self._translated(key):
            return obstore.sign(self.azure_store, "GET", self._full(key), expires_in)

    def _blob_headers(self, key: str) -> dict[str, str]:
        status, headers = self._blob_request("HEAD", self._signed_url(self._full(key), "GET"), key)
        if status == 404:
            raise errors.NotFoundError("no such blob", volume=self.volume, path=key)
        if status != 200:
            raise to_error(answer_failure(status, headers, "Get Blob Properties"), volume=self.volume, path=key)
        return headers

    def _blob_request(
        self, method: str, url: str, key: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str]]:
        assert self.properties_access is not None
        try:
            return _request(method, url, self.properties_access.timeout_s, headers)
        except OSError as exc:
            failure = ServiceFailure(summary=f"{type(exc).__name__}: {exc}", transport="connect")
            raise to_error(failure, volume=self.volume, path=key) from None

    def _service_metadata(self, metadata: Mapping[str, str]) -> dict[str, str]:
        return {azure_metadata_name(k): v for k, v in metadata.items()}

    def stat_with_checksums(self, key: str) -> Entry:
        entry = self.stat(key)
        return self._with_content_md5(self._full(key), entry)

    def _with_properties(self, full: str, entry: Entry) -> Entry:
        if entry.blake3:
            # A small download's GET: sdgui's own blake3 is the stronger check, and the extra request would cost a
            # round trip per file.
            return entry
        return self._with_content_md5(full, entry)

    def _with_content_md5(self, full: str, entry: Entry) -> Entry:
        md5 = self._content_md5(full, entry.etag) if self.properties_access is not None else None
        return self._with_checksums(entry, {"md5": md5} if md5 else {})

    def _content_md5(self, full: str, etag: str | None) -> str | None:
        """The blob's Content-MD5 as hex, if it has one and is still the version ``etag`` names; None otherwise."""
        assert self.properties_access is not None
        try:
            # GET's signature ("r") also grants Get Blob Properties, the HEAD.
            status, headers = _request("HEAD", self._signed_url(full, "GET"), self.properties_access.timeout_s)
        except Exception as exc:  # an optional extra: the object itself was read fine
            log.debug("no blob properties for %s:%s (%s)", self.volume, full, type(exc).__name__)
            return None
        if status != 200 or (etag is not None and headers.get("etag", "").strip('"') != etag):
            return None
        return md5_hex(headers.get("content-md5"))

    def _signed_url(self, full: str, method: Literal["GET", "PUT", "DELETE"], query: str = "") -> str:
        """A URL for one request on blob ``full``: signed by obstore with the account key, or with the SAS token."""
        assert self.properties_access is not None
        props = self.properties_access
        if props.sas_token is not None and props.endpoint is not None:
            url = f"{props.endpoint.rstrip('/')}/{quote(props.container)}/{quote(full)}?{props.sas_token}"
        else:
            url = obstore.sign(self.azure_store, method, full, SIGNED_URL_LIFETIME)
        return f"{url}&{query}" if query else url


def _request(
    method: str, url: str, timeout_s: float, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str]]:
    """One request to a signed blob URL; its status and response headers (lower-cased names)."""
    status, response_headers, _ = _exchange(method, url, timeout_s, headers, body)
    return status, response_headers


def _exchange(
    method: str,
    url: str,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
    body: bytes | BinaryIO | None = None,
) -> tuple[int, dict[str, str], bytes]:
    return exchange(method, url, timeout_s, {"x-ms-version": X_MS_VERSION, **(headers or {})}, body)
