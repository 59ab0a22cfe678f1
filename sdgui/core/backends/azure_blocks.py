"""Azure block uploads a later run can resume: Put Block, Get Block List and Put Block List on URLs obstore signs.

obstore stages an Azure upload's blocks itself and hands out no ids, so an interrupted upload cannot be carried on
through it. Here an upload's "id" is a random prefix of its block ids, and each block id also carries the MD5 of the
block's bytes, which the service checked (``Content-MD5``) when it accepted the block: a block the service lists
under the same id is therefore proved against the local bytes by its size and that MD5, like an S3 part by its ETag.
The blob's metadata is set by Put Block List, the commit.

Azure keeps no list of open uploads: uncommitted blocks belong to a blob name and are dropped by the service after
7 days, so ``list_uploads`` (what ``volume cleanup`` needs) says so instead of listing.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, Literal
from urllib.parse import quote

from sdgui.core import errors
from sdgui.core.backends.cancellable_body import body_for
from sdgui.core.backends.resumable_uploads import NewUpload, OpenUpload, PartChecksum, UploadedPart
from sdgui.core.backends.service_errors import ServiceFailure, to_error

log = logging.getLogger(__name__)

SignedUrl = Callable[[str, Literal["GET", "PUT", "DELETE"], str], str]
"""(full key, method, extra query) → a URL obstore (or the SAS token) signs for one request on that blob."""
Exchange = Callable[..., tuple[int, dict[str, str], bytes]]

_NO_OPEN_LIST = (
    "Azure keeps no list of unfinished uploads: their uncommitted blocks belong to a blob name, and the service "
    "drops them after 7 days (a cancelled sdgui upload drops its own at once)"
)


class AzureBlockUploads:
    """``ResumableUploads`` for one Azure container (its keys relative to the volume root, as everywhere)."""

    def __init__(
        self,
        volume: str,
        full: Callable[[str], str],
        signed_url: SignedUrl,
        exchange: Exchange,
        discard: Callable[[str], None],
        metadata_name: Callable[[str], str],
        timeout_s: float,
    ) -> None:
        self.volume = volume
        self._full = full
        self._signed_url = signed_url
        self._exchange = exchange
        self._discard = discard
        self._metadata_name = metadata_name
        self._timeout_s = timeout_s

    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        # Nothing to ask the service: blocks are staged under the blob's name, the metadata comes with the commit.
        return NewUpload(uuid.uuid4().hex[:16], "md5")

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        status, headers, body = self._request(key, "GET", "comp=blocklist&blocklisttype=uncommitted")
        if status == 404:
            raise errors.NotFoundError("no uncommitted blocks are left for this upload", volume=self.volume, path=key)
        self._raise_for(status, headers, key, "Get Block List")
        import xml.etree.ElementTree as ET  # only a resumed upload reads a block list

        held: dict[int, UploadedPart] = {}
        for block in ET.fromstring(body).iter("Block"):
            parsed = _parse_block_id(block.findtext("Name") or "", upload_id)
            if parsed is not None:
                number, md5 = parsed
                held[number] = UploadedPart(number, md5, int(block.findtext("Size") or -1))
        if not held:
            raise errors.NotFoundError("no uncommitted blocks are left for this upload", volume=self.volume, path=key)
        return held

    def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        *,
        checksum: PartChecksum = "md5",
        cancel_check: Callable[[], None] | None = None,
    ) -> UploadedPart:
        digest = hashlib.md5(data, usedforsecurity=False).digest()
        block_id = _block_id(upload_id, number, digest.hex())
        status, headers, _ = self._request(
            key,
            "PUT",
            f"comp=block&blockid={quote(block_id, safe='')}",
            {"Content-MD5": base64.b64encode(digest).decode(), "Content-Length": str(len(data))},
            body_for(data, cancel_check),
        )
        self._raise_for(status, headers, key, f"Put Block {number}")
        return UploadedPart(number, digest.hex(), len(data))

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart], metadata: Mapping[str, str]) -> str:
        # Block ids are base64: nothing in them needs escaping in XML.
        latest = "".join(f"<Latest>{_block_id(upload_id, p.number, p.etag)}</Latest>" for p in parts)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'.encode()
        names = {f"x-ms-meta-{self._metadata_name(k)}": v for k, v in metadata.items()}
        status, headers, _ = self._request(
            key, "PUT", "comp=blocklist", {"Content-Type": "application/xml", **names}, body
        )
        self._raise_for(status, headers, key, "Put Block List")
        return headers.get("etag", "").strip('"')

    def abort(self, key: str, upload_id: str) -> None:
        self._discard(self._full(key))

    def list_uploads(self, prefix: str = "") -> list[OpenUpload]:
        raise errors.ConfigError(_NO_OPEN_LIST, volume=self.volume)

    def _request(
        self,
        key: str,
        method: Literal["GET", "PUT"],
        query: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | BinaryIO | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        url = self._signed_url(self._full(key), method, query)
        try:
            return self._exchange(method, url, self._timeout_s, headers, body)
        except TimeoutError:
            failure = ServiceFailure(summary="no answer in time", transport="timeout")
            raise to_error(failure, volume=self.volume, path=key) from None
        except OSError as exc:
            failure = ServiceFailure(summary=f"{type(exc).__name__}: {exc}", transport="connect")
            raise to_error(failure, volume=self.volume, path=key) from None

    def _raise_for(self, status: int, headers: Mapping[str, str], key: str, what: str) -> None:
        if not 200 <= status < 300:
            raise to_error(answer_failure(status, headers, what), volume=self.volume, path=key)


def answer_failure(status: int, headers: Mapping[str, str], what: str) -> ServiceFailure:
    """An Azure answer that is an error, by its status and ``x-ms-error-code``; ``what`` names the request."""
    code = headers.get("x-ms-error-code")
    summary = f"HTTP {status} {code} ({what})" if code else f"HTTP {status} ({what})"
    return ServiceFailure(summary=summary, status=status, code=code)


def _block_id(upload_id: str, number: int, md5_hex: str) -> str:
    """Block ids of one blob must all have the same length: the upload's id, the block's number and its MD5."""
    return base64.b64encode(f"{upload_id}-{number:05d}-{md5_hex}".encode()).decode()


def _parse_block_id(block_id: str, upload_id: str) -> tuple[int, str] | None:
    """(number, MD5 hex) of a block of ``upload_id``; None for another upload's block or a foreign id."""
    try:
        text = base64.b64decode(block_id, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    owner, _, rest = text.partition("-")
    number, _, md5 = rest.partition("-")
    if owner != upload_id or not number.isdigit() or len(md5) != 32:
        return None
    return int(number), md5
