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
but not those. The headers cannot be changed: that takes the JSON API's PATCH (or an XML-API copy onto itself) with an
OAuth token, which obstore keeps to itself.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import obstore

from sdgui.core import errors
from sdgui.core.backends.base import Capabilities, ObjectProperties
from sdgui.core.backends.gcs_properties import properties_of_headers
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.service_errors import ServiceFailure, to_error
from sdgui.core.backends.signed_requests import exchange
from sdgui.core.settings import TransferSettings

if TYPE_CHECKING:
    from obstore.store import GCSStore

_HEX_MD5 = re.compile(r"[0-9a-f]{32}")
READ_ONLY = "Content-Type and Cache-Control cannot be changed on GCS volumes here (it takes the JSON API's PATCH)."
NO_KEY = "The storage class and CRC32C show on GCS volumes with a service account key (obstore hides x-goog-* headers)."
SIGNED_HEAD_LIFETIME = timedelta(minutes=5)


class GcsBackend(ObjectStoreBackend):
    """One GCS bucket (optionally under a prefix). ``can_sign``: the volume holds a service account's private key,
    which signs share links locally."""

    def __init__(
        self,
        volume: str,
        store: GCSStore,
        capabilities: Capabilities,
        *,
        prefix: str = "",
        settings: TransferSettings,
        can_sign: bool = False,
    ) -> None:
        super().__init__(volume, store, capabilities, prefix=prefix, settings=settings)
        self.gcs_store = store
        self.can_sign = can_sign

    def _etag_checksums(self, etag: str | None) -> dict[str, str]:
        if etag is not None and _HEX_MD5.fullmatch(etag):
            return {"md5": etag}
        return {}

    def properties(self, key: str) -> ObjectProperties:
        if not self.can_sign:
            return dataclasses.replace(super().properties(key), notes=(NO_KEY, READ_ONLY))
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
        return properties_of_headers(key, headers, (READ_ONLY,))

    def share_link(self, key: str, expires_in: timedelta) -> str:
        if not self.can_sign:
            raise errors.ConfigError(
                "share links need a service account key (JSON with its private key) on this volume",
                volume=self.volume,
                path=key,
            )
        with self._translated(key):
            return obstore.sign(self.gcs_store, "GET", self._full(key), expires_in)
