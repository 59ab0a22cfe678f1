"""Google Cloud Storage volumes: obstore's GCSStore, and the MD5 that a GCS ETag is for non-composite objects.

obstore reads GCS through the XML API, where the ETag of an object written in one request is its MD5 in hex, and
the ETag of a composite object (compose, or an XML-API multipart upload) is no MD5: such objects have none, only a
CRC32C. An ETag of exactly 32 hex digits is therefore taken as the MD5; any other form gives nothing. The CRC32C
travels in ``x-goog-hash``, a header obstore does not hand out, so it is not reachable here: a HEAD of sdgui's own
would need a URL obstore signs, and obstore signs GCS URLs through IAM's signBlob (a request to
iamcredentials.googleapis.com) unless the volume holds a service account's private key (then it signs locally, as it
does for share links).

Properties: a volume with a private key asks with a HEAD of its own, through a URL obstore signs, and so shows the
storage class and the CRC32C (``x-goog-*`` headers); without one, obstore's HEAD gives Content-Type and Cache-Control
but not those. Content-Type and Cache-Control change through the JSON API's objects.patch (gcs_json_api), with an OAuth
token of sdgui's own from the key (obstore keeps its token to itself): on volumes with a key, or that say
``disable_oauth``; with application default credentials they stay read-only.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import obstore

from sdgui.core import errors
from sdgui.core.backends.base import Capabilities, ObjectProperties
from sdgui.core.backends.gcs_json_api import GcsJsonApi
from sdgui.core.backends.gcs_properties import properties_of_headers
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.service_errors import ServiceFailure, to_error
from sdgui.core.backends.signed_requests import exchange
from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:
    from obstore.store import GCSStore

_HEX_MD5 = re.compile(r"[0-9a-f]{32}")
READ_ONLY = (
    "Content-Type and Cache-Control cannot be changed on GCS volumes without a service account key (JSON with its "
    "private_key): the JSON API's PATCH needs an OAuth token of sdgui's own."
)
NO_KEY = "The storage class and CRC32C show on GCS volumes with a service account key (obstore hides x-goog-* headers)."
CHANGED = "the object changed since its properties were read"
SIGNED_HEAD_LIFETIME = timedelta(minutes=5)


class GcsBackend(ObjectStoreBackend):
    """One GCS bucket (optionally under a prefix). ``can_sign``: the volume holds a service account's private key,
    which signs share links locally. ``json_api``: how headers are changed in place, None where they cannot be."""

    def __init__(
        self,
        volume: str,
        store: GCSStore,
        capabilities: Capabilities,
        *,
        prefix: str = "",
        settings: TransferSettings,
        can_sign: bool = False,
        json_api: GcsJsonApi | None = None,
    ) -> None:
        super().__init__(volume, store, capabilities, prefix=prefix, settings=settings)
        self.gcs_store = store
        self.can_sign = can_sign
        self.json_api = json_api

    def _etag_checksums(self, etag: str | None) -> dict[str, str]:
        if etag is not None and _HEX_MD5.fullmatch(etag):
            return {"md5": etag}
        return {}

    def properties(self, key: str) -> ObjectProperties:
        editable = self.json_api is not None
        notes = () if editable else (READ_ONLY,)
        if not self.can_sign:
            return dataclasses.replace(super().properties(key), notes=(NO_KEY, *notes), editable=editable)
        with self._translated(key):
            url = obstore.sign(self.gcs_store, "HEAD", self._full(key), SIGNED_HEAD_LIFETIME)
        timeout = max(self.settings.connect_timeout_s, self.settings.stall_timeout_s)
        try:
            status, headers, _ = exchange("HEAD", url, timeout)
        except OSError as exc:
            failure = ServiceFailure(summary=f"{type(exc).__name__}: {exc}", transport="connect")
            raise to_error(failure, volume=self.volume, path=key) from None
        if status == 404:
            raise errors.NotFoundError("no such object", volume=self.volume, path=key)
        if status != 200:
            failure = ServiceFailure(summary=f"HTTP {status} (HEAD)", status=status)
            raise to_error(failure, volume=self.volume, path=key)
        return dataclasses.replace(properties_of_headers(key, headers, notes), editable=editable)

    def set_headers(
        self, key: str, *, content_type: str | None, cache_control: str | None, if_match: str | None
    ) -> ObjectProperties:
        """objects.patch, conditional on the generation and metageneration read just before; ``if_match`` (the XML
        ETag Properties showed) is compared after that read, so a change at any point ends in ConflictError."""
        if self.json_api is None:
            return super().set_headers(key, content_type=content_type, cache_control=cache_control, if_match=if_match)
        name = self._full(key)
        resource = self.json_api.get(name, key)
        if if_match is not None and (self.stat(key).etag or "").strip('"') != if_match.strip('"'):
            raise errors.ConflictError(CHANGED, volume=self.volume, path=key)
        # JSON null clears a field; an empty string would be refused or stored as empty.
        changes = {"contentType": content_type or None, "cacheControl": cache_control or None}
        self.json_api.patch(name, key, changes, resource=resource)
        return self.properties(key)

    def share_link(self, key: str, expires_in: timedelta) -> str:
        if not self.can_sign:
            raise errors.ConfigError(
                "share links need a service account key (JSON with its private key) on this volume",
                volume=self.volume,
                path=key,
            )
        with self._translated(key):
            return obstore.sign(self.gcs_store, "GET", self._full(key), expires_in)

    def close(self) -> None:
        if self.json_api is not None:
            self.json_api.close()
        super().close()
