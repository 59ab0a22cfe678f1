"""Build the VolumeBackend for a volume definition (or for the local filesystem)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdgui.core import errors
from sdgui.core.backends.base import Capabilities, VolumeBackend
from sdgui.core.backends.http_policy import HttpPolicy
from sdgui.core.backends.local import LocalBackend
from sdgui.core.backends.s3 import S3_KINDS, S3Backend, S3Config
from sdgui.core.backends.s3.profile import available_profiles
from sdgui.core.secrets import SecretStore, register_secret, resolve_secret
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig, VolumeRegistry

if TYPE_CHECKING:
    from obstore.store import AzureConfig, AzureStore, GCSConfig, GCSStore

    from sdgui.core.backends.azure import BlobProperties
    from sdgui.core.backends.gcs_json_api import GcsJsonApi

__all__ = ["LOCAL_VOLUME", "BackendCache", "available_profiles", "backend_for_config", "has_resumable_uploads"]

LOCAL_VOLUME = "local"
"""The name under which plain local paths appear in events and errors."""

CLOUD_CAPABILITIES = Capabilities(is_local=False, server_side_copy=True, range_reads=True)
"""GCS and Azure: server-side copy within a bucket (no size limit known here), ranged reads."""


def has_resumable_uploads(config: VolumeConfig) -> bool:
    """Whether a volume of this kind has multipart uploads that can be resumed, listed and aborted (s3, r2)."""
    return config.kind in S3_KINDS


def _gcs_store(config: VolumeConfig, secret: str | None, http: HttpPolicy) -> GCSStore:
    """A service account's JSON key (the secret), else application default credentials (obstore looks them up:
    GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the metadata server)."""
    from obstore.store import GCSStore

    gcs: GCSConfig = {}
    if config.service_account_file:
        gcs["service_account"] = os.path.expanduser(config.service_account_file)
    elif secret:
        gcs["service_account_key"] = secret
    if config.endpoint:
        gcs["base_url"] = config.endpoint
    return GCSStore(
        config.bucket or "", config=gcs, client_options=http.client_options(), retry_config=http.retry_config()
    )


def _gcs_account(config: VolumeConfig, secret: str | None) -> dict[str, Any]:
    """The volume's service account JSON ({} with application default credentials, or when it cannot be read:
    obstore then says what is wrong with it)."""
    try:
        if config.service_account_file:
            text = Path(os.path.expanduser(config.service_account_file)).read_text(encoding="utf-8")
        else:
            text = secret or ""
        account = json.loads(text) if text else {}
    except (OSError, ValueError):
        return {}
    return account if isinstance(account, dict) else {}


def _gcs_can_sign(account: dict[str, Any]) -> bool:
    """Whether the service account JSON holds a private key obstore signs URLs with on its own (without one, or
    with ``disable_oauth``, obstore asks IAM's signBlob, which application default credentials may not)."""
    return bool(account.get("private_key")) and not account.get("disable_oauth")


def _gcs_json_api(config: VolumeConfig, account: dict[str, Any], http: HttpPolicy) -> GcsJsonApi | None:
    """How the volume changes an object's headers (the JSON API's PATCH): with an OAuth token from the key's
    private_key, or with none where the JSON says ``disable_oauth`` (local servers); None with application default
    credentials, whose token obstore keeps to itself."""
    from sdgui.core.backends.gcs_json_api import JSON_API_BASE, GcsJsonApi
    from sdgui.core.backends.gcs_oauth import ServiceAccountKey

    if account.get("disable_oauth"):
        key = None
    elif account.get("private_key"):
        key = ServiceAccountKey.from_json(account)
    else:
        return None
    return GcsJsonApi(
        config.name,
        config.bucket or "",
        base_url=config.endpoint or str(account.get("gcs_base_url") or JSON_API_BASE),
        tokens_from=key,
        timeout_s=max(http.connect_timeout_s, http.read_timeout_s),
        allow_http=http.allow_http,
    )


def _azure_store(config: VolumeConfig, secret: str | None, http: HttpPolicy) -> AzureStore:
    """The account name (``access_key_id``) with its key or, with ``sas``, a SAS token as the secret."""
    from obstore.store import AzureStore

    azure: AzureConfig = {}
    if config.access_key_id:
        azure["account_name"] = config.access_key_id
    if secret and config.sas:
        azure["sas_key"] = secret.lstrip("?")
    elif secret:
        azure["account_key"] = secret
    if config.endpoint:
        azure["endpoint"] = config.endpoint
    return AzureStore(
        config.bucket or "", config=azure, client_options=http.client_options(), retry_config=http.retry_config()
    )


def _blob_properties(config: VolumeConfig, secret: str | None, http: HttpPolicy) -> BlobProperties | None:
    """How an Azure volume asks for a blob's Content-MD5: with a URL signed by the key, or the SAS token."""
    if not secret or not config.access_key_id:
        return None
    endpoint = config.endpoint or f"https://{config.access_key_id}.blob.core.windows.net"
    from sdgui.core.backends.azure import BlobProperties

    return BlobProperties(
        container=config.bucket or "",
        sas_token=secret.lstrip("?") if config.sas else None,
        endpoint=endpoint,
        timeout_s=max(http.connect_timeout_s, http.read_timeout_s),
    )


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
    try:
        if config.kind in S3_KINDS:
            return S3Backend(S3Config.from_volume(config, secret, settings), settings)
        http = HttpPolicy.from_settings(settings, allow_http=bool(config.allow_http))
        # Azure's and GCS's modules are imported when a volume of theirs opens: a start-up pays only for S3.
        if config.kind == "gcs":
            from sdgui.core.backends.gcs import GcsBackend

            gcs = _gcs_store(config, secret, http)
            account = _gcs_account(config, secret)
            return GcsBackend(
                config.name,
                gcs,
                CLOUD_CAPABILITIES,
                prefix=config.prefix,
                settings=settings,
                can_sign=_gcs_can_sign(account),
                json_api=_gcs_json_api(config, account, http),
            )
        azure = _azure_store(config, secret, http)
        properties = _blob_properties(config, secret, http)
    except errors.SdError:
        raise
    except Exception as exc:  # obstore raises plain ValueError/GenericError on bad builder input
        raise errors.ConfigError(f"cannot configure the store: {exc}", volume=config.name) from None
    from sdgui.core.backends.azure import AzureBackend

    return AzureBackend(
        config.name, azure, CLOUD_CAPABILITIES, prefix=config.prefix, settings=settings, properties=properties
    )


class BackendCache:
    """Opens each volume's backend once per job or window; local paths share one LocalBackend. Thread-safe: the
    window's workers and a job's threads share one cache, and a volume is opened once however many ask at once."""

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
        self._lock = threading.RLock()

    def get(self, volume: str | None) -> VolumeBackend:
        with self._lock:
            if volume not in self._backends:
                if volume is None:
                    self._backends[None] = LocalBackend(Path("/"), volume=LOCAL_VOLUME)
                else:
                    config = self.registry.get(volume)
                    backend = backend_for_config(config, secrets=self.secrets, settings=self.settings)
                    self._backends[volume] = backend
            return self._backends[volume]

    def close(self) -> None:
        with self._lock:
            backends = list(self._backends.values())
            self._backends.clear()
        for backend in backends:
            backend.close()
