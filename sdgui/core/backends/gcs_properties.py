"""What Properties shows of a GCS object from the headers of an XML-API HEAD: Content-Type, Cache-Control, the
storage class, user metadata (``x-goog-meta-*``) and the hashes GCS holds (``x-goog-hash: crc32c=…,md5=…``, base64;
a composite object has a CRC32C and no MD5)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from sdgui.core.backends.base import STANDARD_HEADERS, Entry, ObjectProperties
from sdgui.core.backends.signed_requests import http_date

_META = "x-goog-meta-"


def goog_hashes(value: str | None) -> dict[str, str]:
    """``crc32c=AAAAAA==, md5=…`` as {"crc32c": hex, "md5": hex}; what is not base64 of the right length is left out."""
    found: dict[str, str] = {}
    for part in (value or "").split(","):
        name, _, encoded = part.strip().partition("=")
        try:
            digest = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if (name, len(digest)) in (("crc32c", 4), ("md5", 16)):
            found[name] = digest.hex()
    return found


def properties_of_headers(key: str, headers: Mapping[str, str], notes: tuple[str, ...]) -> ObjectProperties:
    """An object's properties from the headers of its HEAD (lower-cased names)."""
    entry = Entry(
        key=key.strip("/"),
        is_dir=False,
        size=int(headers.get("x-goog-stored-content-length") or headers.get("content-length") or 0),
        modified=http_date(headers.get("last-modified")),
        etag=headers.get("etag", "").strip('"') or None,
        metadata={name[len(_META) :].lower(): value for name, value in headers.items() if name.startswith(_META)},
        checksums=goog_hashes(headers.get("x-goog-hash")),
    )
    return ObjectProperties(
        entry,
        content_type=headers.get("content-type") or None,
        cache_control=headers.get("cache-control") or None,
        storage_class=headers.get("x-goog-storage-class") or None,
        notes=notes,
        other_headers={name: headers[name] for name in STANDARD_HEADERS if headers.get(name)},
    )
