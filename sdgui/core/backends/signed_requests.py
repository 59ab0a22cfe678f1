"""Small requests of a backend's own to a URL obstore signed (or one carrying a SAS token): what a service says in
headers obstore does not hand out (Azure's Content-MD5)."""

from __future__ import annotations

import base64
import binascii
import http.client
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit


def exchange(
    method: str, url: str, timeout_s: float, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One small request to a signed URL: status, response headers (lower-cased names; a repeated one's values
    joined with ", ") and body."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.netloc, timeout=timeout_s)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        data = response.read()
        received: dict[str, str] = {}
        for name, value in response.getheaders():  # a repeated header (GCS sends x-goog-hash twice) joins up
            key = name.lower()
            received[key] = f"{received[key]}, {value}" if key in received else value
        return response.status, received, data
    finally:
        connection.close()


def md5_hex(value: str | None) -> str | None:
    """An MD5 header's value (base64, as Content-MD5 is) as hex; None when absent or not one."""
    if not value:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest.hex() if len(digest) == 16 else None


def http_date(value: str | None) -> datetime | None:
    """A Last-Modified header's date; None when absent or not a date."""
    import email.utils  # here: email is rarely needed

    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
