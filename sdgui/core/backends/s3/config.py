"""One S3 connection config per volume, from its VolumeConfig and TransferSettings, for both S3 clients.

obstore moves the bytes and botocore runs the multipart control plane; both are built from this one object, so
they agree on the endpoint, addressing style, region, credentials, timeouts and retries.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sdgui.core import errors
from sdgui.core.backends.http_policy import USER_AGENT, HttpPolicy
from sdgui.core.backends.s3.profile import AwsProfile
from sdgui.core.redaction import register_secret
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig

if TYPE_CHECKING:
    from botocore.config import Config as BotocoreConfig
    from obstore.store import S3Config as ObstoreS3Config
    from obstore.store import S3Store

S3_KINDS = frozenset({"s3", "r2"})
"""Volume kinds served by S3Backend."""

_SESSIONS = threading.Lock()
"""botocore sessions are not safe to share across threads; their clients are. This guards the making of clients."""
_shared_session: Any = None
"""The botocore session of every volume without an AWS profile: each session loads S3's service model again
(~15 MB), and the keys are the client's own, so one session serves them all."""


def _session() -> Any:
    global _shared_session
    if _shared_session is None:
        import botocore.session

        _shared_session = botocore.session.Session()
    return _shared_session


@dataclass(frozen=True)
class S3Config:
    """Where one S3 volume lives and how its clients talk to it."""

    volume: str
    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    path_style: bool
    access_key_id: str | None
    secret_access_key: str | None = field(repr=False)
    http: HttpPolicy
    connections: int = 10
    """botocore's connection pool: every part or range of the large files in flight at once (botocore sends the
    multipart uploads, and the ranged reads of servers that answer them with 200)."""
    multipart_etags: bool = True
    """Whether the service's multipart ETag is the MD5 of its parts' MD5s, as on S3 (R2's is not)."""
    aws_profile: AwsProfile | None = field(default=None, compare=False)
    """The volume's AWS profile, resolved: its botocore session and credentials serve both clients."""

    @classmethod
    def from_volume(
        cls, config: VolumeConfig, secret: str | None, settings: TransferSettings | None = None
    ) -> S3Config:
        """The config of an s3/r2 volume; ConfigError for another kind, CredentialsError for a key without secret."""
        settings = settings or TransferSettings()
        if config.kind not in S3_KINDS:
            raise errors.ConfigError(
                f"multipart uploads are managed only on s3 and r2 volumes, not {config.kind}", volume=config.name
            )
        if config.access_key_id and not secret:
            raise errors.CredentialsError("no secret is stored for this volume", volume=config.name)
        if secret:
            register_secret(secret)
        endpoint = config.endpoint.rstrip("/") if config.endpoint else None
        region = config.effective_region()
        path_style = config.effective_path_style()
        profile = None
        if config.profile:
            profile = AwsProfile.open(config.profile, volume=config.name)
            # The volume's own endpoint and region win; the profile's apply where the volume sets none.
            if endpoint is None and profile.endpoint:
                endpoint = profile.endpoint
                _check_profile_endpoint(config, endpoint)
                if config.path_style is None:
                    path_style = config.kind == "s3"
            if config.region is None and profile.region and config.kind == "s3":
                region = profile.region
        return cls(
            volume=config.name,
            bucket=config.bucket or "",
            prefix=config.prefix.strip("/"),
            endpoint=endpoint,
            region=region,
            path_style=path_style,
            access_key_id=config.access_key_id or None,
            secret_access_key=secret if config.access_key_id else None,
            http=HttpPolicy.from_settings(settings, allow_http=bool(config.allow_http)),
            connections=max(
                10, settings.large_file_slots * max(settings.upload_concurrency, settings.download_concurrency)
            ),
            multipart_etags=config.kind == "s3",
            aws_profile=profile,
        )

    @property
    def signed(self) -> bool:
        """Whether requests are signed (keys or a profile); anonymous otherwise, for public buckets."""
        return bool(self.access_key_id and self.secret_access_key) or self.aws_profile is not None

    @property
    def private_channel(self) -> bool:
        """True for AWS's default (TLS) endpoint, any https endpoint, and plain http on the loopback interface."""
        if not self.endpoint:
            return True
        parts = urlsplit(self.endpoint)
        return parts.scheme == "https" or (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")

    # -- obstore ----------------------------------------------------------------------------------------------
    def obstore_config(self) -> ObstoreS3Config:
        """obstore's S3 settings: every PUT and part carries a CRC64NVME the server checks."""
        config: ObstoreS3Config = {
            "checksum_algorithm": "crc64nvme",
            "virtual_hosted_style_request": not self.path_style,
        }
        if self.region:
            config["region"] = self.region
        if self.endpoint:
            config["endpoint"] = self.endpoint
        if self.access_key_id and self.secret_access_key:
            config["access_key_id"] = self.access_key_id
            config["secret_access_key"] = self.secret_access_key
        elif self.aws_profile is None:
            config["skip_signature"] = True
        return config

    def obstore_store(self) -> S3Store:
        from obstore.store import S3Store

        return S3Store(
            self.bucket,
            config=self.obstore_config(),
            client_options=self.http.client_options(),
            retry_config=self.http.retry_config(),
            credential_provider=self.aws_profile.credential_provider(self.volume) if self.aws_profile else None,
        )

    # -- botocore ---------------------------------------------------------------------------------------------
    def botocore_config(self) -> BotocoreConfig:
        """botocore's client config: the same addressing, region, timeouts and number of attempts as obstore's."""
        from botocore import UNSIGNED
        from botocore.config import Config

        options: dict[str, Any] = {
            "region_name": self.region,
            "s3": {
                "addressing_style": "path" if self.path_style else "virtual",
                # Every part carries its own checksum (CRC64NVME, SHA-256 or Content-MD5) that the server checks, so
                # hashing the body a second time for the signature only costs CPU; skip it where nobody can alter
                # the bytes on the way (TLS, or loopback), as obstore's unsigned_payload does.
                "payload_signing_enabled": not self.private_channel,
            },
            "retries": {"mode": "standard", "total_max_attempts": self.http.total_attempts},
            "connect_timeout": self.http.connect_timeout_s,
            "read_timeout": self.http.read_timeout_s,
            # Checksums are chosen per request; botocore's defaults would add CRC32 trailers that S3-compatible
            # servers often reject, and validate ranged answers some of them get wrong.
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "max_pool_connections": self.connections,
            "user_agent_extra": USER_AGENT,
        }
        if not self.signed:
            options["signature_version"] = UNSIGNED
        return Config(**options)

    def botocore_client(self) -> Any:
        """A botocore S3 client (untyped: botocore has no stubs); ConfigError when the environment breaks it."""
        from sdgui.core.backends.botocore_errors import raise_a_cancel

        # botocore logs every event handler at DEBUG; keep SDGUI_DEBUG=1 output about sdgui.
        if logging.getLogger("botocore").level == logging.NOTSET:
            logging.getLogger("botocore").setLevel(logging.INFO)
        credentials: dict[str, Any] = {}
        if self.access_key_id:
            credentials = {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}
        try:
            # A profile's session carries its refreshing credentials; obstore's provider reads the same ones.
            with _SESSIONS:
                session = self.aws_profile.session if self.aws_profile else _session()
                client = session.create_client(
                    "s3", endpoint_url=self.endpoint, config=self.botocore_config(), **credentials
                )
        except Exception as exc:  # bad profile in the environment, malformed endpoint...
            raise errors.ConfigError(
                f"cannot configure the S3 client: {type(exc).__name__}", volume=self.volume
            ) from None
        client.meta.events.register_first("needs-retry.s3.UploadPart", raise_a_cancel)
        return client


def _check_profile_endpoint(config: VolumeConfig, endpoint: str) -> None:
    url = urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise errors.ConfigError(
            f"AWS profile {config.profile}: endpoint_url {endpoint!r} must be an http:// or https:// URL",
            volume=config.name,
        )
    if url.scheme == "http" and not config.allow_http:
        raise errors.ConfigError(
            f"AWS profile {config.profile} points at plain http {endpoint!r}; set allow_http on the volume to "
            "send credentials unencrypted",
            volume=config.name,
        )
