"""Volume definitions, stored as TOML in the user's config directory; never a secret, only where to find one."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import platformdirs

from sdgui.core.errors import ConfigError, InvalidPathError, NotFoundError
from sdgui.core.paths import is_valid_volume_name, normalise_key

logger = logging.getLogger(__name__)

VolumeKind = Literal["s3", "r2", "gcs", "azure", "local"]
VOLUME_KINDS: tuple[str, ...] = get_args(VolumeKind)
CLOUD_KINDS = frozenset({"s3", "r2", "gcs", "azure"})

VOLUMES_FILE = "volumes.toml"

# Keys that would mean a secret sits in the file. Matched as substrings so "aws_secret_access_key" or
# "sas_token" are caught too; secret_env only names a variable and is the one allowed exception.
_SECRET_KEY_RE = re.compile(r"secret|passw|token|account_key|private_key|api_key|credential", re.IGNORECASE)
_ALLOWED_SECRETISH_KEYS = frozenset({"secret_env"})
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What the AWS CLI accepts in practice; no spaces, so a profile name is one word in `volume list`.
_PROFILE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+=,:/-]{0,127}")

_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "kind": str,
    "bucket": str,
    "endpoint": str,
    "region": str,
    "prefix": str,
    "path_style": bool,
    "access_key_id": str,
    "secret_env": str,
    "profile": str,
    "service_account_file": str,
    "allow_http": bool,
    "root": str,
    "read_only": bool,
    "sas": bool,
}


def _is_secret_key(key: str) -> bool:
    return key not in _ALLOWED_SECRETISH_KEYS and _SECRET_KEY_RE.search(key) is not None


def _refuse_secrets(data: Mapping[str, Any], where: str) -> None:
    """Raise ConfigError if any field name, at any depth, looks like it holds a secret."""
    for key, value in data.items():
        if _is_secret_key(str(key)):
            raise ConfigError(
                f"{where}: key {key!r} looks like a secret; secrets live in the OS keyring or in an environment "
                "variable named by secret_env, never in the volumes file"
            )
        if isinstance(value, Mapping):
            _refuse_secrets(value, f"{where}.{key}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    _refuse_secrets(item, f"{where}.{key}")


def _refuse_secrets_in_document(document: Mapping[str, Any], where: str) -> None:
    """``_refuse_secrets`` over a whole volumes file, whose ``[volumes.NAME]`` keys are volume names, not fields:
    a volume called ``team-secrets`` holds no secret, a field called ``secret`` does."""
    _refuse_secrets({key: value for key, value in document.items() if key != "volumes"}, where)
    tables = document.get("volumes")
    if not isinstance(tables, Mapping):
        _refuse_secrets({key: value for key, value in document.items() if key == "volumes"}, where)
        return
    for name, table in tables.items():
        if isinstance(table, Mapping):
            _refuse_secrets(table, f"{where}: volumes.{name}")


@dataclass
class VolumeConfig:
    """One named volume: a bucket (or container) on a cloud service, or a directory on a local disk.

    ``secret_env`` holds only the NAME of an environment variable and ``profile`` only the name of an AWS profile
    (``~/.aws/config``); the secret itself is never stored here.
    """

    name: str
    kind: VolumeKind
    bucket: str | None = None
    endpoint: str | None = None
    region: str | None = None
    prefix: str = ""
    path_style: bool | None = None
    access_key_id: str | None = None
    secret_env: str | None = None
    allow_http: bool = False
    root: str | None = None
    read_only: bool = False
    profile: str | None = None
    service_account_file: str | None = None
    sas: bool | None = None
    """azure: the secret is a SAS token (``sv=…&sig=…``), not the account key."""

    def validate(self) -> None:
        """Raise ConfigError naming the first problem with this definition."""
        if not is_valid_volume_name(self.name):
            raise ConfigError(
                f"invalid volume name {self.name!r}; use a letter or digit followed by up to 63 letters, digits, "
                "'_', '.' or '-'"
            )
        if self.kind not in VOLUME_KINDS:
            raise ConfigError(
                f"unknown kind {self.kind!r}; expected one of {', '.join(VOLUME_KINDS)}", volume=self.name
            )
        if self.kind == "local":
            if not self.root:
                raise ConfigError("a local volume needs a root directory", volume=self.name)
            if not os.path.isabs(os.path.expanduser(self.root)):
                raise ConfigError(f"root {self.root!r} must be an absolute path", volume=self.name)
        else:
            self._validate_cloud()
        try:
            normalise_key(self.prefix)
        except InvalidPathError as exc:
            raise ConfigError(f"invalid prefix: {exc.detail}", volume=self.name) from None
        if self.secret_env is not None and not _ENV_NAME_RE.fullmatch(self.secret_env):
            # Also catches a secret pasted where the variable's name belongs, before it reaches the file.
            raise ConfigError(
                "secret_env must be the name of an environment variable, like MY_SECRET", volume=self.name
            )
        if self.profile is not None:
            self._validate_profile()
        if self.service_account_file is not None:
            self._validate_service_account_file()

    def _validate_service_account_file(self) -> None:
        if self.kind != "gcs":
            raise ConfigError("a service account file applies only to gcs volumes", volume=self.name)
        if not os.path.isabs(os.path.expanduser(self.service_account_file or "")):
            raise ConfigError("service_account_file must be an absolute path", volume=self.name)
        if self.secret_env is not None:
            raise ConfigError(
                "a gcs volume reads its key from either a service account file or secret_env, not both",
                volume=self.name,
            )

    def _validate_profile(self) -> None:
        if self.kind not in ("s3", "r2"):
            raise ConfigError(f"an AWS profile applies only to s3 and r2 volumes, not {self.kind}", volume=self.name)
        if not _PROFILE_NAME_RE.fullmatch(self.profile or ""):
            raise ConfigError(f"invalid AWS profile name {self.profile!r}", volume=self.name)
        if self.access_key_id is not None or self.secret_env is not None:
            # Two identities for one volume would leave it unclear which account a request uses.
            raise ConfigError(
                "a volume uses either an AWS profile or an access key id and secret, not both", volume=self.name
            )

    def _validate_cloud(self) -> None:
        noun = "container" if self.kind == "azure" else "bucket"
        if not self.bucket:
            raise ConfigError(f"kind {self.kind} needs a {noun}", volume=self.name)
        if "/" in self.bucket or self.bucket.strip() != self.bucket:
            raise ConfigError(f"{noun} {self.bucket!r} must be a bare name; put folders in prefix", volume=self.name)
        if self.kind == "azure" and not self.access_key_id:
            raise ConfigError("an azure volume needs its storage account name (access_key_id)", volume=self.name)
        if self.sas and self.kind != "azure":
            raise ConfigError("sas (a SAS token as the secret) is for azure volumes only", volume=self.name)
        if self.kind == "r2" and not self.endpoint and not self.profile:  # a profile may carry its endpoint_url
            raise ConfigError(
                "an r2 volume needs an endpoint (https://<account>.r2.cloudflarestorage.com)", volume=self.name
            )
        if self.endpoint is not None:
            url = urlsplit(self.endpoint)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigError(f"endpoint {self.endpoint!r} must be an http:// or https:// URL", volume=self.name)
            if url.username is not None or url.password is not None:
                raise ConfigError(
                    "endpoint must not carry credentials; use access_key_id and the keyring", volume=self.name
                )
            if url.scheme == "http" and not self.allow_http:
                raise ConfigError(
                    f"endpoint {self.endpoint!r} is plain http; set allow_http to send credentials unencrypted",
                    volume=self.name,
                )

    def effective_region(self) -> str | None:
        """The region to sign requests for: "auto" for r2, the given one or "us-east-1" for s3."""
        if self.kind == "r2":
            return self.region or "auto"
        if self.kind == "s3":
            return self.region or "us-east-1"
        return self.region

    def effective_path_style(self) -> bool:
        """Path-style addressing: as configured, else on for s3 with a custom endpoint (MinIO, Ceph...)."""
        if self.path_style is not None:
            return self.path_style
        return self.kind == "s3" and self.endpoint is not None

    def to_dict(self) -> dict[str, Any]:
        """A TOML-ready dict of the fields, leaving out those that are None."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VolumeConfig:
        """Build and validate a config; ConfigError on secrets, unknown keys or wrong types."""
        name = data.get("name")
        where = f"volume {name!r}" if isinstance(name, str) else "volume"
        _refuse_secrets(data, where)
        unknown = sorted(set(data) - set(_FIELD_TYPES))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys are {', '.join(_FIELD_TYPES)}")
        for key in ("name", "kind"):
            if key not in data:
                raise ConfigError(f"{where}: missing {key!r}")
        for key, value in data.items():
            expected = _FIELD_TYPES[key]
            if not isinstance(value, expected):
                type_name = expected.__name__ if isinstance(expected, type) else "/".join(t.__name__ for t in expected)
                raise ConfigError(f"{where}: {key!r} must be a {type_name}, not {value!r}")
        config = cls(**data)
        config.validate()
        return config


def config_dir() -> Path:
    """Where volumes.toml lives: $SDGUI_CONFIG_DIR, else the platform's user config directory."""
    override = os.environ.get("SDGUI_CONFIG_DIR")
    return Path(override) if override else platformdirs.user_config_path("sdgui")


def data_dir() -> Path:
    """Where sdgui keeps job state: $SDGUI_DATA_DIR, else the platform's user data directory; created on demand."""
    override = os.environ.get("SDGUI_DATA_DIR")
    path = Path(override) if override else platformdirs.user_data_path("sdgui")
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """What sdgui may rebuild (files opened from a cloud volume): $SDGUI_CACHE_DIR, else the platform's user cache
    directory."""
    override = os.environ.get("SDGUI_CACHE_DIR")
    return Path(override) if override else platformdirs.user_cache_path("sdgui", appauthor=False)


_default_config_dir = config_dir  # the constructor's parameter shadows the function's name


class VolumeRegistry:
    """The configured volumes, loaded lazily from ``volumes.toml``; changes stay in memory until ``save()``."""

    def __init__(self, config_dir: Path | None = None) -> None:
        self.config_dir = config_dir if config_dir is not None else _default_config_dir()
        self.path = self.config_dir / VOLUMES_FILE
        self._volumes: dict[str, VolumeConfig] | None = None

    def _loaded(self) -> dict[str, VolumeConfig]:
        if self._volumes is None:
            self._volumes = self._load()
        return self._volumes

    def _load(self) -> dict[str, VolumeConfig]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.path} is not valid TOML: {exc}") from None
        # Checked before anything else so a secret is refused even in a table we would otherwise ignore.
        _refuse_secrets_in_document(document, str(self.path))
        unknown = sorted(set(document) - {"volumes"})
        if unknown:
            raise ConfigError(f"{self.path}: unknown top-level key {unknown[0]!r}; expected [volumes.NAME] tables")
        tables = document.get("volumes", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"{self.path}: 'volumes' must be a table of [volumes.NAME] tables")
        volumes: dict[str, VolumeConfig] = {}
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{self.path}: volumes.{name} must be a table")
            if table.get("name", name) != name:
                raise ConfigError(f"{self.path}: volumes.{name} says its name is {table['name']!r}")
            try:
                volumes[name] = VolumeConfig.from_dict({**table, "name": name})
            except ConfigError as exc:
                raise ConfigError(f"{self.path}: {exc.detail}", volume=exc.volume) from None
        return volumes

    def get(self, name: str) -> VolumeConfig:
        """The volume called ``name``; NotFoundError if there is none."""
        try:
            return self._loaded()[name]
        except KeyError:
            raise NotFoundError(f"no volume named {name}; `sdgui volume list` shows the configured ones") from None

    def add(self, config: VolumeConfig, replace: bool = False) -> None:
        """Add (or with ``replace``, overwrite) a volume after validating it."""
        config.validate()
        volumes = self._loaded()
        if config.name in volumes and not replace:
            raise ConfigError(f"a volume named {config.name} already exists; remove it first or replace it")
        volumes[config.name] = config

    def remove(self, name: str) -> None:
        """Forget volume ``name``; NotFoundError if there is none."""
        self.get(name)
        del self._loaded()[name]

    def save(self) -> None:
        """Write the volumes atomically, readable by the owner only."""
        # Imported here: every command reads the volumes, few write them.
        import tempfile

        import tomli_w

        volumes = self._loaded()
        document: dict[str, Any] = {
            "volumes": {name: _file_table(volumes[name]) for name in sorted(volumes)},
        }
        # The dataclass has no secret field today; this keeps a future one from ever reaching the disk.
        _refuse_secrets_in_document(document, str(self.path))
        data = tomli_w.dumps(document).encode("utf-8")
        self.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600, so there is no moment when others could read it.
        fd, tmp_name = tempfile.mkstemp(dir=self.config_dir, prefix=".volumes-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o600)
            os.replace(tmp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        logger.debug("saved %d volume(s) to %s", len(volumes), self.path)

    def list(self) -> builtins.list[VolumeConfig]:
        """All volumes, sorted by name."""
        volumes = self._loaded()
        return [volumes[name] for name in sorted(volumes)]


def _file_table(config: VolumeConfig) -> dict[str, Any]:
    # The name is the table's key in the file; storing it twice would let the two disagree.
    table = config.to_dict()
    del table["name"]
    return table
