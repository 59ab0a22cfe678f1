"""What Properties shows of an Azure blob, from one Get Blob Properties (a HEAD), and the Set Blob Properties request
that changes its Content-Type and Cache-Control in place.

Set Blob Properties replaces *all* of a blob's standard headers: one left out of the request is cleared. So every
header the HEAD found (Content-MD5, -Encoding, -Language, -Disposition) is sent back as it was; user metadata and the
bytes are not touched by this request. It is conditional on the ETag (``If-Match``)."""

from __future__ import annotations

from collections.abc import Mapping

from sdgui.core.backends.base import STANDARD_HEADERS, Entry, ObjectProperties
from sdgui.core.backends.signed_requests import http_date, md5_hex

_META = "x-ms-meta-"


def properties_of_headers(key: str, headers: Mapping[str, str]) -> ObjectProperties:
    """A blob's properties from the headers of its HEAD (lower-cased names)."""
    md5 = md5_hex(headers.get("content-md5"))
    entry = Entry(
        key=key.strip("/"),
        is_dir=False,
        size=int(headers.get("content-length") or 0),
        modified=http_date(headers.get("last-modified")),
        etag=headers.get("etag", "").strip('"') or None,
        metadata={name[len(_META) :].lower(): value for name, value in headers.items() if name.startswith(_META)},
        checksums={"md5": md5} if md5 else {},
    )
    notes = () if md5 else ("Azure holds no Content-MD5 for this blob (a block upload that set none).",)
    return ObjectProperties(
        entry,
        content_type=headers.get("content-type") or None,
        cache_control=headers.get("cache-control") or None,
        storage_class=headers.get("x-ms-access-tier") or None,
        editable=True,
        notes=notes,
        other_headers={name: headers[name] for name in STANDARD_HEADERS if headers.get(name)},
    )


def set_properties_headers(
    found: Mapping[str, str], content_type: str | None, cache_control: str | None
) -> dict[str, str]:
    """The request headers of Set Blob Properties: the new two, and every other standard header as ``found``."""
    headers = {"If-Match": found.get("etag", "*")}
    if content_type:
        headers["x-ms-blob-content-type"] = content_type
    if cache_control:
        headers["x-ms-blob-cache-control"] = cache_control
    if found.get("content-md5"):
        headers["x-ms-blob-content-md5"] = found["content-md5"]
    for name in STANDARD_HEADERS:
        if found.get(name):
            headers[f"x-ms-blob-{name}"] = found[name]
    return headers
