"""Cloud providers as users know them (Amazon S3, R2, B2, MinIO, GCS, Azure), mapped to volume kinds."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sdgui.core.volumes import VolumeConfig, VolumeKind

log = logging.getLogger(__name__)

B2_ENDPOINT = "https://s3.{region}.backblazeb2.com"


@dataclass(frozen=True)
class Preset:
    """One provider as the user knows it, mapped to a VolumeConfig kind and the fields that kind needs."""

    key: str
    title: str
    kind: VolumeKind
    fields: frozenset[str]  # optional widgets shown: endpoint, region, path_style, allow_http
    labels: dict[str, str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)
    help: str = ""


_S3_LABELS = {"bucket": "Bucket:", "access_key_id": "Access key ID:", "secret": "Secret access key:"}
PRESETS: tuple[Preset, ...] = (
    Preset(
        "aws",
        "Amazon S3",
        "s3",
        frozenset({"region"}),
        _S3_LABELS,
        {"region": "us-east-1", "access_key_id": "AKIA…, or empty for a public bucket"},
        "An AWS S3 bucket. Create an access key in IAM → Users → Security credentials.",
    ),
    Preset(
        "r2",
        "Cloudflare R2",
        "r2",
        frozenset({"endpoint", "region"}),
        _S3_LABELS,
        {"endpoint": "https://<account-id>.r2.cloudflarestorage.com", "region": "auto"},
        "A Cloudflare R2 bucket. Create an API token under R2 → Manage R2 API Tokens.",
    ),
    Preset(
        "b2",
        "Backblaze B2",
        "s3",
        frozenset({"endpoint", "region"}),
        {"bucket": "Bucket:", "access_key_id": "Application key ID:", "secret": "Application key:"},
        {"region": "us-west-004", "endpoint": B2_ENDPOINT.format(region="<region>")},
        "A Backblaze B2 bucket through its S3 API. The endpoint follows from the region when left empty.",
    ),
    Preset(
        "minio",
        "MinIO / other S3-compatible",
        "s3",
        frozenset({"endpoint", "region", "path_style", "allow_http"}),
        _S3_LABELS,
        {"endpoint": "https://minio.example.com:9000", "region": "us-east-1"},
        "MinIO, Ceph, Wasabi, Garage, rclone serve s3 or any other service speaking the S3 API.",
    ),
    Preset(
        "gcs",
        "Google Cloud Storage",
        "gcs",
        frozenset(),
        {"bucket": "Bucket:", "secret": "Service-account key:"},
        {"secret": "paste the JSON key, or load it from a file"},
        "A Google Cloud Storage bucket, reached with a service account's JSON key.",
    ),
    Preset(
        "azure",
        "Azure Blob Storage",
        "azure",
        frozenset({"endpoint"}),
        {"bucket": "Container:", "access_key_id": "Storage account name:", "secret": "Account key:"},
        {"endpoint": "empty for https://<account>.blob.core.windows.net", "access_key_id": "mystorageaccount"},
        "A container in an Azure storage account; the key is under Security + networking → Access keys.",
    ),
)
PRESETS_BY_KEY = {preset.key: preset for preset in PRESETS}


def preset_for(config: VolumeConfig) -> Preset:
    """The preset a saved volume was most likely made with."""
    if config.kind == "s3":
        if not config.endpoint:
            return PRESETS_BY_KEY["aws"]
        host = urlsplit(config.endpoint).hostname or ""
        return PRESETS_BY_KEY["b2" if host.endswith("backblazeb2.com") else "minio"]
    return PRESETS_BY_KEY.get(config.kind, PRESETS_BY_KEY["minio"])


def suggested_env_name(volume: str) -> str:
    """``my-vol`` → ``SDGUI_SECRET_MY_VOL``."""
    stem = "".join(c if c.isalnum() else "_" for c in volume.upper())
    return f"SDGUI_SECRET_{stem}" if stem else "SDGUI_SECRET"
