"""Volume definitions: validation, the TOML registry, and the rule that the file never holds a secret."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from sdgui.core.errors import ConfigError, NotFoundError
from sdgui.core.volumes import VolumeConfig, VolumeRegistry, config_dir, data_dir


@pytest.fixture
def cfg_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("SDGUI_CONFIG_DIR", str(directory))
    return directory


def s3(**overrides: Any) -> VolumeConfig:
    fields: dict[str, Any] = {"name": "minio", "kind": "s3", "bucket": "photos"}
    fields.update(overrides)
    return VolumeConfig(**fields)


VALID = [
    s3(),
    s3(name="aws", endpoint="https://s3.example.com", region="eu-west-1", prefix="a/b", access_key_id="AKIA"),
    s3(
        name="local-minio",
        endpoint="http://127.0.0.1:9000",
        allow_http=True,
        path_style=True,
        secret_env="MINIO_SECRET",
    ),
    VolumeConfig("cf", "r2", bucket="b", endpoint="https://acct.r2.cloudflarestorage.com", access_key_id="k"),
    VolumeConfig("g", "gcs", bucket="b"),
    VolumeConfig("az", "azure", bucket="container", access_key_id="account"),
    VolumeConfig("home", "local", root="/home/me", read_only=True),
    VolumeConfig("home2", "local", root="~/data"),
]


@pytest.mark.parametrize("config", VALID, ids=lambda c: c.name)
def test_valid_configs(config: VolumeConfig) -> None:
    config.validate()
    assert VolumeConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (s3(name="bad name"), "invalid volume name"),
        (s3(name=""), "invalid volume name"),
        (s3(kind="ftp"), "unknown kind"),
        (s3(bucket=None), "needs a bucket"),
        (s3(bucket=""), "needs a bucket"),
        (s3(bucket="a/b"), "bare name"),
        (VolumeConfig("az", "azure"), "needs a container"),
        (VolumeConfig("g", "gcs"), "needs a bucket"),
        (VolumeConfig("cf", "r2", bucket="b"), "needs an endpoint"),
        (VolumeConfig("l", "local"), "root directory"),
        (VolumeConfig("l", "local", root="relative/dir"), "absolute"),
        (s3(endpoint="ftp://host"), "http:// or https://"),
        (s3(endpoint="s3.example.com"), "http:// or https://"),
        (s3(endpoint="https://"), "http:// or https://"),
        (s3(endpoint="http://minio:9000"), "allow_http"),
        (s3(endpoint="https://user:pw@host"), "credentials"),
        (s3(prefix="a/../b"), "invalid prefix"),
        (s3(secret_env="wJalrXUtnFEMI/K7MDENG/bPxRfiCY"), "name of an environment variable"),
        (s3(secret_env="1VAR"), "name of an environment variable"),
    ],
)
def test_invalid_configs(config: VolumeConfig, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert fragment in str(info.value)


def test_defaults() -> None:
    assert s3().effective_region() == "us-east-1"
    assert s3(region="eu-central-1").effective_region() == "eu-central-1"
    r2 = VolumeConfig("cf", "r2", bucket="b", endpoint="https://x.r2.cloudflarestorage.com")
    assert r2.effective_region() == "auto"
    assert VolumeConfig("g", "gcs", bucket="b").effective_region() is None
    assert s3().effective_path_style() is False
    assert s3(endpoint="https://minio.local").effective_path_style() is True
    assert s3(endpoint="https://minio.local", path_style=False).effective_path_style() is False
    assert r2.effective_path_style() is False


def test_to_dict_omits_none() -> None:
    assert s3().to_dict() == {
        "name": "minio",
        "kind": "s3",
        "bucket": "photos",
        "prefix": "",
        "allow_http": False,
        "read_only": False,
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "x", "kind": "s3", "bucket": "b", "secret_access_key": "abc"}, "looks like a secret"),
        ({"name": "x", "kind": "s3", "bucket": "b", "password": "abc"}, "looks like a secret"),
        ({"name": "x", "kind": "azure", "bucket": "b", "account_key": "abc"}, "looks like a secret"),
        ({"name": "x", "kind": "s3", "bucket": "b", "session_token": "abc"}, "looks like a secret"),
        ({"name": "x", "kind": "s3", "bucket": "b", "secret": "abc"}, "looks like a secret"),
        ({"name": "x", "kind": "s3", "bucket": "b", "bucketname": "b"}, "unknown key"),
        ({"name": "x", "bucket": "b"}, "missing 'kind'"),
        ({"name": "x", "kind": "s3", "bucket": 3}, "must be a str"),
        ({"name": "x", "kind": "s3", "bucket": "b", "read_only": "yes"}, "must be a bool"),
    ],
)
def test_from_dict_refuses(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        VolumeConfig.from_dict(data)
    assert fragment in str(info.value)
    # The refusal names the key, never the value.
    if "secret" in fragment:
        assert "abc" not in str(info.value)


def test_config_and_data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDGUI_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("SDGUI_DATA_DIR", str(tmp_path / "d"))
    assert config_dir() == tmp_path / "c"
    assert not (tmp_path / "c").exists()
    assert data_dir() == tmp_path / "d"
    assert (tmp_path / "d").is_dir()


def test_registry_round_trip(cfg_dir: Path) -> None:
    registry = VolumeRegistry()
    assert registry.path == cfg_dir / "volumes.toml"
    assert registry.list() == []
    for config in VALID:
        registry.add(config)
    registry.save()

    reloaded = VolumeRegistry()
    assert reloaded.list() == sorted(VALID, key=lambda c: c.name)
    assert reloaded.get("minio") == VALID[0]
    document = tomllib.loads((cfg_dir / "volumes.toml").read_text())
    assert set(document) == {"volumes"}
    assert document["volumes"]["minio"] == {
        "kind": "s3",
        "bucket": "photos",
        "prefix": "",
        "allow_http": False,
        "read_only": False,
    }


def test_registry_explicit_dir(tmp_path: Path) -> None:
    registry = VolumeRegistry(tmp_path / "elsewhere")
    registry.add(s3())
    registry.save()
    assert (tmp_path / "elsewhere" / "volumes.toml").is_file()


def test_registry_file_mode_and_no_leftovers(cfg_dir: Path) -> None:
    registry = VolumeRegistry()
    registry.add(s3())
    registry.save()
    registry.add(s3(name="two"))
    registry.save()
    assert sorted(os.listdir(cfg_dir)) == ["volumes.toml"]
    if os.name != "nt":
        assert stat.S_IMODE((cfg_dir / "volumes.toml").stat().st_mode) == 0o600


def test_registry_file_holds_no_secret(cfg_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("MINIO_SECRET", secret)
    registry = VolumeRegistry()
    registry.add(s3(access_key_id="AKIAEXAMPLE", secret_env="MINIO_SECRET"))
    registry.save()
    text = (cfg_dir / "volumes.toml").read_text()
    assert secret not in text
    assert 'secret_env = "MINIO_SECRET"' in text


def test_registry_add_remove_get(cfg_dir: Path) -> None:
    registry = VolumeRegistry()
    registry.add(s3())
    with pytest.raises(ConfigError, match="already exists"):
        registry.add(s3(bucket="other"))
    registry.add(s3(bucket="other"), replace=True)
    assert registry.get("minio").bucket == "other"
    with pytest.raises(ConfigError):
        registry.add(s3(name="bad name"))
    registry.remove("minio")
    with pytest.raises(NotFoundError) as info:
        registry.get("minio")
    assert "no volume named minio" in str(info.value)
    assert "`sdgui volume list`" in str(info.value)
    with pytest.raises(NotFoundError):
        registry.remove("minio")


def test_registry_changes_stay_in_memory_until_save(cfg_dir: Path) -> None:
    registry = VolumeRegistry()
    registry.add(s3())
    assert VolumeRegistry().list() == []
    registry.save()
    assert [v.name for v in VolumeRegistry().list()] == ["minio"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[volumes.x]\nkind = "s3"\nbucket = "b"\nsecret_access_key = "hunter2hunter2"\n', "looks like a secret"),
        ('[volumes.x]\nkind = "azure"\nbucket = "b"\naccount_key = "hunter2hunter2"\n', "looks like a secret"),
        ('password = "hunter2hunter2"\n', "looks like a secret"),
        ('[other]\ntoken = "hunter2hunter2"\n', "looks like a secret"),
        ('[volumes.x]\nkind = "s3"\n', "needs a bucket"),
        ('[volumes.x]\nkind = "s3"\nbucket = "b"\nname = "y"\n', "says its name is"),
        ('[volumes."bad name"]\nkind = "s3"\nbucket = "b"\n', "invalid volume name"),
        ("volumes = 3\n", "must be a table"),
        ("[other]\n", "unknown top-level key"),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_registry_refuses_bad_file(cfg_dir: Path, text: str, fragment: str) -> None:
    cfg_dir.mkdir()
    (cfg_dir / "volumes.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        VolumeRegistry().list()
    assert fragment in str(info.value)
    assert "hunter2" not in str(info.value)


def test_registry_refuses_to_save_a_secret(cfg_dir: Path) -> None:
    class Leaky(VolumeConfig):
        def to_dict(self) -> dict[str, Any]:
            return {**super().to_dict(), "secret_access_key": "hunter2hunter2"}

    registry = VolumeRegistry()
    registry.add(Leaky("leaky", "s3", bucket="b"))
    with pytest.raises(ConfigError, match="looks like a secret"):
        registry.save()
    assert not (cfg_dir / "volumes.toml").exists()
    assert not cfg_dir.exists() or os.listdir(cfg_dir) == []


@pytest.mark.parametrize("name", ["team-secrets", "api-tokens", "passwords", "my.credentials", "account_key"])
def test_volume_names_are_not_field_names(cfg_dir: Path, name: str) -> None:
    registry = VolumeRegistry()
    registry.add(s3(name=name, access_key_id="AKIAEXAMPLE"))
    registry.save()
    assert [volume.name for volume in VolumeRegistry().list()] == [name]
    assert VolumeRegistry().get(name).access_key_id == "AKIAEXAMPLE"


@pytest.mark.parametrize(
    "text",
    [
        '[volumes.team-secrets]\nkind = "s3"\nbucket = "b"\nsecret_access_key = "hunter2hunter2"\n',
        '[volumes.api-tokens]\nkind = "s3"\nbucket = "b"\n[volumes.api-tokens.extra]\ntoken = "hunter2hunter2"\n',
        '[volumes.fine]\nkind = "s3"\nbucket = "b"\n[secrets]\nx = "hunter2hunter2"\n',
    ],
)
def test_a_secret_field_is_refused_whatever_the_volume_is_called(cfg_dir: Path, text: str) -> None:
    cfg_dir.mkdir()
    (cfg_dir / "volumes.toml").write_text(text)
    with pytest.raises(ConfigError, match="looks like a secret") as info:
        VolumeRegistry().list()
    assert "hunter2" not in str(info.value)
