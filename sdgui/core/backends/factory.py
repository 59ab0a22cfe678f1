"""Build the VolumeBackend for a volume definition (or for the local filesystem)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sdgui.core import errors
from sdgui.core.backends.base import S3_SINGLE_COPY_LIMIT, Capabilities, VolumeBackend
from sdgui.core.backends.local import LocalBackend
from sdgui.core.backends.object_store import ObjectStoreBackend
from sdgui.core.backends.obstore_errors import note_read_timeout
from sdgui.core.backends.s3_multipart import MULTIPART_KINDS, S3MultipartClient
from sdgui.core.secrets import SecretStore, register_secret, resolve_secret
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig, VolumeRegistry

LOCAL_VOLUME = "local"
"""The name under which plain local paths appear in events and errors."""


REQUEST_TIMEOUT = timedelta(hours=12)
"""A backstop on one whole request. Stalls are the read timeout's job: measured with obstore 0.12, the read
timeout also cuts an upload whose part stops moving (reqwest counts it from the last byte the server sent,
which for a PUT is nothing until the whole part arrived), while a short whole-request timeout cuts a long
streamed GET again and again, each cut spending one of the request's retries."""


def client_options(config: VolumeConfig, settings: TransferSettings) -> dict[str, Any]:
    """HTTP client options: stalls are caught by the read timeout, never by a cap on a whole body."""
    return {
        "allow_http": bool(config.allow_http),
        "connect_timeout": timedelta(seconds=settings.connect_timeout_s),
        "read_timeout": timedelta(seconds=settings.stall_timeout_s),
        "timeout": REQUEST_TIMEOUT,
        "pool_max_idle_per_host": "32",
        "user_agent": "sdgui/0.1",
    }


def retry_config(config: VolumeConfig, settings: TransferSettings | None = None) -> dict[str, Any]:
    """Bounded per-request retries with backoff (network errors, 5xx, 429, a stalled body); a closed port fails
    in seconds, not minutes. What outlasts them fails the file, and the job's per-file retry takes over."""
    settings = settings or TransferSettings()
    return {
        "max_retries": max(0, settings.request_retries),
        # Long enough for a stalled request to be tried again once (a retried GET resumes where it stopped).
        "retry_timeout": timedelta(seconds=max(60.0, 2 * settings.stall_timeout_s)),
        "backoff": {"init_backoff": timedelta(milliseconds=200), "max_backoff": timedelta(seconds=8), "base": 2},
    }


def _s3_store(config: VolumeConfig, secret: str | None, settings: TransferSettings) -> Any:
    from obstore.store import S3Store

    kwargs: dict[str, Any] = {"region": config.effective_region(), "checksum_algorithm": "sha256"}
    if config.endpoint:
        kwargs["endpoint"] = config.endpoint.rstrip("/")
    path_style = config.path_style if config.path_style is not None else bool(config.endpoint)
    kwargs["virtual_hosted_style_request"] = not path_style
    if config.access_key_id:
        if not secret:
            raise errors.CredentialsError("no secret is stored for this volume", volume=config.name)
        kwargs["access_key_id"] = config.access_key_id
        kwargs["secret_access_key"] = secret
    else:
        kwargs["skip_signature"] = True
    return S3Store(
        config.bucket or "",
        client_options=client_options(config, settings),  # type: ignore[arg-type]
        retry_config=retry_config(config, settings),  # type: ignore[arg-type]
        **kwargs,
    )


def _gcs_store(config: VolumeConfig, secret: str | None, settings: TransferSettings) -> Any:
    from obstore.store import GCSStore

    kwargs: dict[str, Any] = {}
    if secret:
        kwargs["service_account_key"] = secret
    if config.endpoint:
        kwargs["base_url"] = config.endpoint
    return GCSStore(
        config.bucket or "",
        client_options=client_options(config, settings),  # type: ignore[arg-type]
        retry_config=retry_config(config, settings),  # type: ignore[arg-type]
        **kwargs,
    )


def _azure_store(config: VolumeConfig, secret: str | None, settings: TransferSettings) -> Any:
    from obstore.store import AzureStore

    kwargs: dict[str, Any] = {}
    if config.access_key_id:
        kwargs["account_name"] = config.access_key_id
    if secret:
        kwargs["access_key"] = secret
    if config.endpoint:
        kwargs["endpoint"] = config.endpoint
    return AzureStore(
        config.bucket or "",
        client_options=client_options(config, settings),  # type: ignore[arg-type]
        retry_config=retry_config(config, settings),  # type: ignore[arg-type]
        **kwargs,
    )


def capabilities_for(config: VolumeConfig) -> Capabilities:
    """What each kind of service does natively."""
    if config.kind == "local":
        return Capabilities(is_local=True)
    if config.kind in ("s3", "r2"):
        return Capabilities(
            is_local=False,
            server_side_copy=True,
            server_side_copy_max=S3_SINGLE_COPY_LIMIT,
            range_reads=True,
            multipart=True,
            provider_checksums=True,
        )
    return Capabilities(is_local=False, server_side_copy=True, range_reads=True, multipart=True)


def backend_for_config(
    config: VolumeConfig,
    *,
    secrets: SecretStore | None = None,
    settings: TransferSettings | None = None,
    secret: str | None = None,
) -> VolumeBackend:
    """The backend serving ``config``; resolves its secret from the keyring or environment.

    A ``secret`` given here is used as is and nothing is looked up or stored (a dialog testing typed values).
    """
    settings = settings or TransferSettings()
    config.validate()
    if config.kind == "local":
        return LocalBackend(Path(config.root or "/"), volume=config.name)
    if secret:
        register_secret(secret)
    else:
        secret = resolve_secret(config, secrets)
    note_read_timeout(config.name, settings.stall_timeout_s)
    builders = {"s3": _s3_store, "r2": _s3_store, "gcs": _gcs_store, "azure": _azure_store}
    try:
        store = builders[config.kind](config, secret, settings)
    except errors.SdError:
        raise
    except Exception as exc:  # obstore raises plain ValueError/GenericError on bad builder input
        raise errors.ConfigError(f"cannot configure the store: {exc}", volume=config.name) from None
    backend = ObjectStoreBackend(config.name, store, capabilities_for(config), prefix=config.prefix, settings=settings)
    if config.kind in MULTIPART_KINDS:
        backend.multipart = S3MultipartClient(config, secret, settings=settings)  # built on first use
    return backend


class BackendCache:
    """Opens each volume's backend once per job or window; local paths share one LocalBackend."""

    def __init__(
        self,
        registry: VolumeRegistry,
        *,
        secrets: SecretStore | None = None,
        settings: TransferSettings | None = None,
    ) -> None:
        self.registry = registry
        self.secrets = secrets
        self.settings = settings or TransferSettings()
        self._backends: dict[str | None, VolumeBackend] = {}

    def get(self, volume: str | None) -> VolumeBackend:
        if volume not in self._backends:
            if volume is None:
                self._backends[None] = LocalBackend(Path("/"), volume=LOCAL_VOLUME)
            else:
                config = self.registry.get(volume)
                self._backends[volume] = backend_for_config(config, secrets=self.secrets, settings=self.settings)
        return self._backends[volume]

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
