"""What `volume list` and the volume dialog say about who a volume acts as."""

from __future__ import annotations

import pytest

from sdgui.core.identity import describe_identity
from sdgui.core.volumes import VolumeConfig


@pytest.mark.parametrize(
    ("config", "identity"),
    [
        (VolumeConfig("a", "s3", bucket="b", profile="prod"), "profile prod"),
        (VolumeConfig("a", "s3", bucket="b", access_key_id="AKIAEXAMPLE"), "access key AKIAEXAMPLE (keyring)"),
        (
            VolumeConfig(
                "a", "r2", bucket="b", endpoint="https://x.example", access_key_id="k1", secret_env="R2_SECRET"
            ),
            "access key k1 (environment variable R2_SECRET)",
        ),
        (VolumeConfig("a", "azure", bucket="c", access_key_id="acct"), "account acct (keyring)"),
        (
            VolumeConfig("a", "gcs", bucket="b", secret_env="GCS_KEY"),
            "service account key (environment variable GCS_KEY)",
        ),
        (
            VolumeConfig("a", "gcs", bucket="b", service_account_file="/keys/sa.json"),
            "service account file /keys/sa.json",
        ),
        (VolumeConfig("a", "s3", bucket="b"), "anonymous"),
        (VolumeConfig("a", "local", root="/srv"), "local disk"),
    ],
)
def test_describe_identity(config: VolumeConfig, identity: str) -> None:
    config.validate()
    assert describe_identity(config) == identity
