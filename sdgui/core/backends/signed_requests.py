"""Small requests of a backend's own to a URL obstore signed (or one carrying a SAS token): what a service says in
headers obstore does not hand out (Azure's Content-MD5)."""

from __future__ import annotations

import base64
import binascii
import http.client
from collections.abc import Mapping
from datetime import datetime
from typing import BinaryIO
from urllib.parse import urlsplit

SEND_BLOCK = 128 * 1024


def exchange(
    method: str,
    url: str,
    timeout_s: float,
    headers: Mapping[str, str] | None = None,
    body: bytes | BinaryIO | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request to a signed URL (a small one, or a block of an upload): status, response headers (lower-cased
    names; a repeated one's values joined with ", ") and body."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    # A file-like body goes out in blocks of this size (http.client's default, 8 KiB, costs CPU on big blocks).
    connection = connection_class(parts.netloc, timeout=timeout_s, blocksize=SEND_BLOCK)
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
