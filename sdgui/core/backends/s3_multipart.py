"""The S3 multipart control plane through botocore: upload ids, parts and open uploads, which obstore does not expose.

Bytes of ordinary reads and writes still go through obstore; this client only starts, lists, fills, completes
and aborts multipart uploads, so an upload can resume across sessions and orphans can be found and aborted.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sdgui.core import errors
from sdgui.core.backends.botocore_errors import error_code, translated
from sdgui.core.secrets import SecretStore, register_secret, resolve_secret
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeConfig

log = logging.getLogger(__name__)

MULTIPART_KINDS = frozenset({"s3", "r2"})
MIN_PART_SIZE = 5 * MiB
"""S3 refuses smaller parts, except the last one."""
MAX_PARTS = 10_000

PartChecksum = Literal["sha256", "md5"]
"""How the server validates each part: x-amz-checksum-sha256, or Content-MD5 where that is not supported."""

_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_CHECKSUM_REFUSED = frozenset({"InvalidArgument", "InvalidRequest", "NotImplemented"})


@dataclass(frozen=True)
class OpenUpload:
    """One multipart upload that was started and neither completed nor aborted."""

    key: str
    upload_id: str
    initiated: datetime | None

    def age(self, now: datetime) -> timedelta | None:
        """How long ago it started (None when the server did not say)."""
        return None if self.initiated is None else now - self.initiated


@dataclass(frozen=True)
class UploadedPart:
    """A part the server holds: its number, ETag (unquoted), size and, for sha256 uploads, its checksum."""

    number: int
    etag: str
    size: int
    sha256: str | None = None

    def matches(self, data: bytes | memoryview) -> bool:
        """True when ``data`` are provably the bytes of this part (same size, and its MD5 ETag or SHA-256)."""
        if len(data) != self.size:
            return False
        if self.sha256 is not None and self.sha256 == sha256_b64(data):
            return True
        # The ETag of a part is the MD5 of its bytes on S3 without SSE-KMS/SSE-C; elsewhere it cannot prove anything.
        return _MD5_HEX.fullmatch(self.etag) is not None and self.etag == hashlib.md5(data).hexdigest()


@dataclass(frozen=True)
class NewUpload:
    """A started multipart upload and how its parts are checked."""

    upload_id: str
    checksum: PartChecksum


def sha256_b64(data: bytes | memoryview) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _unquoted(etag: object) -> str:
    return str(etag or "").strip('"')


class S3MultipartClient:
    """Multipart operations on one s3/r2 volume (bucket and prefix), over a botocore client built on first use.

    Keys are relative to the volume root, as everywhere else; the volume's prefix is added here. Thread-safe.
    """

    def __init__(self, config: VolumeConfig, secret: str | None, *, settings: TransferSettings | None = None) -> None:
        if config.kind not in MULTIPART_KINDS:
            raise errors.ConfigError(
                f"multipart uploads are managed only on s3 and r2 volumes, not {config.kind}", volume=config.name
            )
        if config.access_key_id and not secret:
            raise errors.CredentialsError("no secret is stored for this volume", volume=config.name)
        if secret:
            register_secret(secret)
        self.config = config
        self.volume = config.name
        self.bucket = config.bucket or ""
        self.prefix = config.prefix.strip("/")
        self.settings = settings or TransferSettings()
        self._secret = secret
        self._lock = threading.Lock()
        self._client: Any = None
        self._sha256: bool | None = None  # learned from the first CreateMultipartUpload

    @classmethod
    def for_volume(
        cls, config: VolumeConfig, *, secrets: SecretStore | None = None, settings: TransferSettings | None = None
    ) -> S3MultipartClient:
        """The client for a configured volume, its secret read from the environment or the keyring."""
        config.validate()
        return cls(config, resolve_secret(config, secrets), settings=settings)

    # -- the botocore client ----------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        import botocore.session
        from botocore import UNSIGNED
        from botocore.config import Config

        config = self.config
        path_style = config.path_style if config.path_style is not None else bool(config.endpoint)
        options: dict[str, Any] = {
            "region_name": config.effective_region(),
            "s3": {
                "addressing_style": "path" if path_style else "virtual",
                # Every part carries its own checksum (SHA-256 or Content-MD5) that the server checks, so hashing
                # the body a second time for the signature only costs CPU; skip it where nobody can alter the
                # bytes on the way (TLS, or loopback), as obstore's unsigned_payload does.
                "payload_signing_enabled": not _private_channel(config.endpoint),
            },
            "retries": {"mode": "standard", "max_attempts": 5},
            "connect_timeout": self.settings.connect_timeout_s,
            "read_timeout": self.settings.read_timeout_s,
            # Checksums are chosen per request below; botocore's defaults would add CRC32 trailers that
            # S3-compatible servers often reject, and validate ranged answers some of them get wrong.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "max_pool_connections": max(10, 2 * self.settings.upload_concurrency),
            "user_agent_extra": "sdgui/0.1",
        }
        # botocore logs every event handler at DEBUG; keep SDGUI_DEBUG=1 output about sdgui.
        if logging.getLogger("botocore").level == logging.NOTSET:
            logging.getLogger("botocore").setLevel(logging.INFO)
        credentials: dict[str, Any] = {}
        if config.access_key_id:
            credentials = {"aws_access_key_id": config.access_key_id, "aws_secret_access_key": self._secret}
        else:
            options["signature_version"] = UNSIGNED
        try:
            session = botocore.session.Session()
            return session.create_client(
                "s3",
                endpoint_url=config.endpoint.rstrip("/") if config.endpoint else None,
                config=Config(**options),
                **credentials,
            )
        except Exception as exc:  # bad profile in the environment, malformed endpoint...
            raise errors.ConfigError(
                f"cannot configure the S3 client: {type(exc).__name__}", volume=self.volume
            ) from None

    def close(self) -> None:
        """Close the connection pool, if the client was ever built."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- keys -------------------------------------------------------------------------------------------------
    def _full(self, key: str) -> str:
        key = key.strip("/")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full: str) -> str:
        if self.prefix and full.startswith(self.prefix + "/"):
            return full[len(self.prefix) + 1 :]
        return full

    # -- open uploads -----------------------------------------------------------------------------------------
    def list_uploads(self, prefix: str = "") -> list[OpenUpload]:
        """Every unfinished multipart upload under ``prefix`` (relative to the volume root), all pages."""
        full_prefix = self._full(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
        found: list[OpenUpload] = []
        with translated(self.volume, prefix or None):
            while True:
                try:
                    page = self.client.list_multipart_uploads(**request)
                except Exception as exc:
                    # rclone serve s3 answers "none open" with 404 NoSuchUpload instead of an empty listing.
                    if error_code(exc) == "NoSuchUpload":
                        return found
                    raise
                for upload in page.get("Uploads", []):
                    found.append(OpenUpload(self._relative(upload["Key"]), upload["UploadId"], upload.get("Initiated")))
                markers = (page.get("NextKeyMarker", ""), page.get("NextUploadIdMarker", ""))
                if not page.get("IsTruncated") or markers == (request.get("KeyMarker"), request.get("UploadIdMarker")):
                    return found
                request["KeyMarker"], request["UploadIdMarker"] = markers

    def abort(self, key: str, upload_id: str) -> None:
        """Abort one upload and free its parts; one that is already gone is not an error."""
        with translated(self.volume, key):
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._full(key), UploadId=upload_id)
            except Exception as exc:
                if error_code(exc) != "NoSuchUpload":
                    raise
                log.debug("upload %s of %s:%s was already gone", upload_id, self.volume, key)

    def put_folder_marker(self, key: str) -> None:
        """Create the zero-byte ``key/`` object S3 consoles show as an empty folder (obstore's paths drop the ``/``)."""
        with translated(self.volume, key):
            self.client.put_object(Bucket=self.bucket, Key=self._full(key.strip("/")) + "/", Body=b"")

    # -- one resumable upload ---------------------------------------------------------------------------------
    def start(self, key: str, metadata: Mapping[str, str]) -> NewUpload:
        """CreateMultipartUpload with ``metadata`` as x-amz-meta-*; SHA-256 part checksums where the server has them."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key), "Metadata": dict(metadata)}
        with translated(self.volume, key):
            if self._sha256 is not False:
                try:
                    answer = self.client.create_multipart_upload(**request, ChecksumAlgorithm="SHA256")
                except Exception as exc:
                    if error_code(exc) not in _CHECKSUM_REFUSED:
                        raise
                    log.debug("%s refuses SHA-256 part checksums (%s); using Content-MD5", self.volume, exc)
                    self._sha256 = False
                else:
                    # A server without flexible checksums (rclone serve s3) ignores the request: it does not echo it.
                    self._sha256 = answer.get("ChecksumAlgorithm") == "SHA256"
                    return NewUpload(answer["UploadId"], "sha256" if self._sha256 else "md5")
            answer = self.client.create_multipart_upload(**request)
        return NewUpload(answer["UploadId"], "md5")

    def list_parts(self, key: str, upload_id: str) -> dict[int, UploadedPart]:
        """The parts the server holds for ``upload_id``; NotFoundError when the upload is gone."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key), "UploadId": upload_id}
        parts: dict[int, UploadedPart] = {}
        with translated(self.volume, key):
            while True:
                page = self.client.list_parts(**request)
                for part in page.get("Parts", []):
                    number = int(part["PartNumber"])
                    parts[number] = UploadedPart(
                        number, _unquoted(part.get("ETag")), int(part.get("Size", 0)), part.get("ChecksumSHA256")
                    )
                marker = page.get("NextPartNumberMarker")
                if not page.get("IsTruncated") or not marker or marker == request.get("PartNumberMarker"):
                    return parts
                request["PartNumberMarker"] = marker

    def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | memoryview, *, checksum: PartChecksum = "md5"
    ) -> UploadedPart:
        """Upload part ``number`` with its SHA-256 (sha256 uploads) or its Content-MD5: the server checks it."""
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._full(key),
            "UploadId": upload_id,
            "PartNumber": number,
            "Body": bytes(data),
            "ContentLength": len(data),
        }
        sha256 = sha256_b64(data) if checksum == "sha256" else None
        if sha256 is not None:
            request["ChecksumSHA256"] = sha256
        else:
            # MD5 costs twice SHA-256's CPU here; it is the check of servers without flexible checksums.
            request["ContentMD5"] = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
        with translated(self.volume, key):
            answer = self.client.upload_part(**request)
        return UploadedPart(number, _unquoted(answer.get("ETag")), len(data), sha256)

    def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> str:
        """CompleteMultipartUpload with the parts in order; returns the object's ETag (unquoted)."""
        listed: list[dict[str, Any]] = []
        for part in sorted(parts, key=lambda p: p.number):
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": f'"{part.etag}"'}
            if part.sha256 is not None:
                entry["ChecksumSHA256"] = part.sha256
            listed.append(entry)
        with translated(self.volume, key):
            answer = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self._full(key), UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        return _unquoted(answer.get("ETag"))


def _private_channel(endpoint: str | None) -> bool:
    """True for AWS's default (TLS) endpoint, any https endpoint, and plain http on the loopback interface."""
    if not endpoint:
        return True
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    return parts.scheme == "https" or (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
