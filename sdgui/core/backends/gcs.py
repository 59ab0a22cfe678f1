"""Google Cloud Storage volumes: obstore's GCSStore, and the MD5 that a GCS ETag is for non-composite objects.

obstore reads GCS through the XML API, where the ETag of an object written in one request is its MD5 in hex, and
the ETag of a composite object (compose, or an XML-API multipart upload) is no MD5: such objects have none, only a
CRC32C. An ETag of exactly 32 hex digits is therefore taken as the MD5; any other form gives nothing. The CRC32C
travels in ``x-goog-hash``, a header obstore does not hand out, so it is not reachable here: a HEAD of sdgui's own
would need a URL obstore signs, and obstore signs GCS URLs through IAM's signBlob (a request to
iamcredentials.googleapis.com) even with a service account's private key at hand.
"""

from __future__ import annotations

import re

from sdgui.core.backends.object_store import ObjectStoreBackend

_HEX_MD5 = re.compile(r"[0-9a-f]{32}")


class GcsBackend(ObjectStoreBackend):
    """One GCS bucket (optionally under a prefix)."""

    def _etag_checksums(self, etag: str | None) -> dict[str, str]:
        if etag is not None and _HEX_MD5.fullmatch(etag):
            return {"md5": etag}
        return {}
