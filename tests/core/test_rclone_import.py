"""rclone.conf import: each remote type, rclone's obscured values, encrypted configs, what is skipped and why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sdgui.core.errors import ConfigError
from sdgui.core.rclone_import import (
    ImportItem,
    apply_import,
    default_config_path,
    plan_import,
    read_remotes,
    reveal,
)
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from tests.keyrings import MemoryKeyring
from tests.servers import find_binary

CONFIG = """\
[aws]
type = s3
provider = AWS
access_key_id = AKIAIMPORTED
secret_access_key = aws-secret-0123456789
region = eu-west-1

[r2]
type = s3
provider = Cloudflare
access_key_id = r2key
secret_access_key = r2-secret-0123456789
endpoint = https://acct.r2.cloudflarestorage.com

[minio]
type = s3
provider = Minio
access_key_id = minio
secret_access_key = minio-secret-0123456789
endpoint = http://127.0.0.1:9000

[wasabi]
type = s3
provider = Wasabi
access_key_id = wasabikey
secret_access_key = wasabi-secret-0123456789
endpoint = s3.eu-central-1.wasabisys.com
region = eu-central-1

[other]
type = s3
provider = Other
endpoint = https://objects.example.com
force_path_style = false

[envauth]
type = s3
provider = AWS
env_auth = true
profile = prod

[envauth-none]
type = s3
provider = AWS
env_auth = true

[ceph]
type = s3
provider = Ceph
endpoint = https://ceph.example.com

[b2]
type = b2
account = 0012345abcdef0000000001
key = K001b2-application-key-0123

[azure]
type = azureblob
account = myaccount
key = azure-key-0123456789==

[azure-sas]
type = azureblob
sas_url = https://myaccount.blob.core.windows.net/c?sv=2024&sig=sas-secret-0123456789

[gcs-file]
type = google cloud storage
service_account_file = ~/keys/sa.json

[gcs-json]
type = google cloud storage
service_account_credentials = {"type": "service_account", "private_key": "gcs-secret-0123456789"}

[gcs-oauth]
type = google cloud storage
token = {"access_token":"x"}

[box]
type = sftp
host = example.com
pass = wNVGFsABUAPr92hzUCS4Fup-hNjQ3dWGgiAC

[drive]
type = drive

[vault]
type = crypt
remote = aws:bucket

[shortcut]
type = alias
remote = aws:photos/2024/
"""

SECRETS = (
    "aws-secret-0123456789",
    "r2-secret-0123456789",
    "minio-secret-0123456789",
    "wasabi-secret-0123456789",
    "K001b2-application-key-0123",
    "azure-key-0123456789==",
    "sas-secret-0123456789",
    "gcs-secret-0123456789",
)


def plan(tmp_path: Path, **kwargs: object) -> dict[str, ImportItem]:
    path = tmp_path / "rclone.conf"
    path.write_text(CONFIG)
    buckets = {name: "bkt" for name in read_remotes(path)}
    items = plan_import(read_remotes(path), buckets=buckets, **kwargs)  # type: ignore[arg-type]
    return {item.remote: item for item in items}


def test_reveal_undoes_rclone_obscure() -> None:
    for secret in ("hello world", "p@ss/wörd+=~", "x" * 100):
        obscured = subprocess.run(
            [find_binary("rclone"), "obscure", secret], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        assert obscured != secret
        assert reveal(obscured) == secret
    with pytest.raises(ConfigError, match="is it obscured"):
        reveal("short")
    with pytest.raises(ConfigError, match="is it obscured"):
        reveal("not base64 at all!")


def test_each_type_becomes_the_volume_rclone_would_use(tmp_path: Path) -> None:
    items = plan(tmp_path, endpoints={"b2": "https://s3.us-west-004.backblazeb2.com"}, profiles={"prod"})
    volume = {name: item.volume for name, item in items.items() if item.volume and not item.skipped}
    assert volume["aws"] == VolumeConfig("aws", "s3", bucket="bkt", region="eu-west-1", access_key_id="AKIAIMPORTED")
    assert items["aws"].secret == "aws-secret-0123456789"
    assert volume["r2"] == VolumeConfig(
        "r2", "r2", bucket="bkt", endpoint="https://acct.r2.cloudflarestorage.com", path_style=True,
        access_key_id="r2key",
    )  # fmt: skip
    assert volume["minio"].endpoint == "http://127.0.0.1:9000" and volume["minio"].allow_http
    assert volume["minio"].path_style is True and items["minio"].note
    assert volume["wasabi"].endpoint == "https://s3.eu-central-1.wasabisys.com"
    assert (volume["wasabi"].path_style, volume["wasabi"].region) == (False, "eu-central-1")
    assert volume["other"].path_style is False and items["other"].secret is None  # anonymous, as rclone
    assert items["other"].identity == "anonymous"
    assert volume["envauth"].profile == "prod" and items["envauth"].identity == "profile prod"
    assert volume["b2"] == VolumeConfig(
        "b2", "s3", bucket="bkt", endpoint="https://s3.us-west-004.backblazeb2.com", region="us-west-004",
        path_style=False, access_key_id="0012345abcdef0000000001",
    )  # fmt: skip
    assert items["b2"].secret == "K001b2-application-key-0123"
    assert volume["azure"].kind == "azure" and volume["azure"].access_key_id == "myaccount"
    assert items["azure"].identity == "account myaccount (keyring)"
    assert volume["gcs-file"].service_account_file == str(Path.home() / "keys/sa.json")
    assert items["gcs-json"].secret is not None and "gcs-secret-0123456789" in items["gcs-json"].secret
    assert volume["shortcut"] == VolumeConfig(
        "shortcut", "s3", bucket="photos", prefix="2024", region="eu-west-1", access_key_id="AKIAIMPORTED"
    )
    assert items["shortcut"].secret == "aws-secret-0123456789"

    skipped = {name: item.skipped for name, item in items.items() if item.skipped}
    assert set(skipped) == {"envauth-none", "ceph", "azure-sas", "gcs-oauth", "box", "drive", "vault"}
    assert "no AWS profile default" in skipped["envauth-none"]
    assert "provider Ceph is not supported" in skipped["ceph"]
    assert "SAS URL" in skipped["azure-sas"]
    assert "OAuth" in skipped["gcs-oauth"]
    assert skipped["box"] == "rclone type 'sftp' is not supported"
    assert skipped["drive"] == "rclone type 'drive' is not supported"
    assert skipped["vault"] == "rclone type 'crypt' is not supported"
    assert not any(secret in reason for reason in skipped.values() for secret in SECRETS)


def test_without_a_bucket_or_a_b2_endpoint_the_remote_says_what_to_pass(tmp_path: Path) -> None:
    path = tmp_path / "rclone.conf"
    path.write_text(CONFIG)
    items = {item.remote: item for item in plan_import(read_remotes(path), buckets={"b2": "b"})}
    assert items["aws"].skipped == "an rclone remote names no bucket; pass --bucket aws=BUCKET"
    assert items["azure"].skipped == "an rclone remote names no container; pass --bucket azure=CONTAINER"
    assert items["b2"].skipped is not None and "--endpoint b2=https://s3.REGION.backblazeb2.com" in items["b2"].skipped
    assert items["shortcut"].skipped is None  # an alias names its bucket


def test_existing_names_are_not_overwritten(tmp_path: Path) -> None:
    items = plan(tmp_path, existing={"aws"})
    assert items["aws"].skipped == "a volume named aws already exists; it was not overwritten"


def test_encrypted_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rclone.conf"
    path.write_text("# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nc2VjcmV0IHN0dWZm\n")
    with pytest.raises(ConfigError, match="encrypted rclone config"):
        read_remotes(path)
    with pytest.raises(ConfigError, match="no rclone config at"):
        read_remotes(tmp_path / "missing.conf")


def test_default_config_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert default_config_path() == tmp_path / ".config/rclone/rclone.conf"
    monkeypatch.setenv("RCLONE_CONFIG", str(tmp_path / "elsewhere.conf"))
    assert default_config_path() == tmp_path / "elsewhere.conf"


def test_apply_puts_secrets_in_the_keyring_only(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    items = list(plan(tmp_path, endpoints={"b2": "https://s3.us-west-004.backblazeb2.com"}).values())
    registry = VolumeRegistry()
    apply_import(items, registry)
    imported = {item.remote for item in items if item.imported}
    assert {"aws", "r2", "minio", "b2", "azure", "gcs-file", "gcs-json", "shortcut"} <= imported
    assert memory_keyring.entries[("sdgui", "aws")] == "aws-secret-0123456789"
    assert memory_keyring.entries[("sdgui", "shortcut")] == "aws-secret-0123456789"
    assert ("sdgui", "other") not in memory_keyring.entries
    text = registry.path.read_text()
    assert not any(secret in text for secret in SECRETS)
    assert {volume.name for volume in VolumeRegistry().list()} == imported
