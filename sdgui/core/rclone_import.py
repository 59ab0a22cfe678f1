"""Volumes from an rclone.conf: s3 (AWS, Cloudflare, Minio, Wasabi, Other), b2, azureblob and google cloud storage
remotes become volumes, their secrets go to the OS keyring; what cannot be imported is reported, never guessed.

rclone remotes name an account, sdgui volumes a bucket: the bucket comes from the caller (``buckets``) or from an
``alias`` remote that points into one (``remote:bucket/folder``).
"""

from __future__ import annotations

import base64
import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from sdgui.core.errors import ConfigError, SdError
from sdgui.core.identity import describe_identity
from sdgui.core.paths import is_valid_volume_name
from sdgui.core.secrets import SecretStore, register_secret
from sdgui.core.volumes import VolumeConfig, VolumeKind, VolumeRegistry

ENCRYPTED_MARKER = "RCLONE_ENCRYPT_V"

# rclone's fixed key for "obscured" config values (fs/config/obscure/obscure.go): obscuring, not encryption.
_OBSCURE_KEY = bytes.fromhex("9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638")
_AES_BLOCK = 16

# Options of the imported types that rclone stores obscured (IsPassword); every other value is verbatim, as rclone
# reads it (secret_access_key, b2's key and azureblob's key are NOT obscured).
OBSCURED_OPTIONS: Mapping[str, frozenset[str]] = {
    "azureblob": frozenset({"password", "client_certificate_password"}),
}

S3_PROVIDERS = ("AWS", "Cloudflare", "Minio", "Wasabi", "Other")
_B2_S3_HOST = re.compile(r"s3\.([a-z0-9-]+)\.backblazeb2\.com")


def default_config_path() -> Path:
    """Where rclone reads its config: $RCLONE_CONFIG, else ~/.config/rclone/rclone.conf (XDG_CONFIG_HOME honoured)."""
    override = os.environ.get("RCLONE_CONFIG")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "rclone" / "rclone.conf"


def reveal(obscured: str) -> str:
    """An obscured rclone value in clear, exactly as ``rclone reveal``: base64url without padding of IV + AES-CTR."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        data = base64.urlsafe_b64decode(obscured + "=" * (-len(obscured) % 4))
    except ValueError:
        raise ConfigError("base64 decode failed when revealing password - is it obscured?") from None
    if len(data) < _AES_BLOCK:
        raise ConfigError("input too short when revealing password - is it obscured?")
    decryptor = Cipher(algorithms.AES(_OBSCURE_KEY), modes.CTR(data[:_AES_BLOCK])).decryptor()
    try:
        return (decryptor.update(data[_AES_BLOCK:]) + decryptor.finalize()).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the revealed value is not text - was it obscured by rclone?") from None


def read_remotes(path: Path) -> dict[str, dict[str, str]]:
    """The remotes of an rclone.conf, by name; ConfigError for a missing, encrypted or malformed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"there is no rclone config at {path}; pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if any(line.strip().startswith(ENCRYPTED_MARKER) for line in text.splitlines()):
        raise ConfigError(
            f"{path} is an encrypted rclone config; sdgui does not decrypt it. Decrypt a copy with "
            "`rclone config encryption remove` (or `rclone config show > plain.conf`) and import that"
        )
    # rclone has no DEFAULT section and no interpolation: "%" and a section called DEFAULT are plain text.
    parser = configparser.ConfigParser(interpolation=None, strict=False, default_section="\x00sdgui-none")
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(f"{path} is not a valid rclone config: {type(exc).__name__}") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


@dataclass
class ImportItem:
    """What became of one rclone remote: a volume to add (with its secret, if any), or why it was skipped."""

    remote: str
    rclone_type: str
    volume: VolumeConfig | None = None
    secret: str | None = field(default=None, repr=False)
    skipped: str | None = None
    note: str | None = None
    imported: bool = False

    @property
    def identity(self) -> str | None:
        return describe_identity(self.volume) if self.volume else None


class _Skip(Exception):
    """One remote cannot be imported; the message says why (never with a secret in it)."""


def plan_import(
    remotes: Mapping[str, Mapping[str, str]],
    *,
    buckets: Mapping[str, str] | None = None,
    endpoints: Mapping[str, str] | None = None,
    existing: set[str] | frozenset[str] = frozenset(),
    profiles: set[str] | frozenset[str] = frozenset(),
) -> list[ImportItem]:
    """One ImportItem per remote, in file order. ``buckets`` and ``endpoints`` are per remote name; ``profiles``
    are the AWS profiles there are (for ``env_auth``); ``existing`` volume names are never overwritten."""
    buckets = buckets or {}
    endpoints = endpoints or {}
    items: list[ImportItem] = []
    for name, options in remotes.items():
        rclone_type = options.get("type", "")
        item = ImportItem(name, rclone_type)
        items.append(item)
        try:
            if not is_valid_volume_name(name):
                raise _Skip("the name is not a valid volume name (letters, digits, '_', '.', '-')")
            if name in existing:
                raise _Skip(f"a volume named {name} already exists; it was not overwritten")
            target, bucket, prefix = name, buckets.get(name), ""
            if rclone_type == "alias":
                target, bucket, prefix = _alias_target(options, remotes)
            target_options = remotes[target]
            volume, secret, note = _volume_of(name, target_options, profiles, endpoints.get(name))
            if not bucket:
                noun = "container" if volume.kind == "azure" else "bucket"
                raise _Skip(f"an rclone remote names no {noun}; pass --bucket {name}={noun.upper()}")
            item.volume = replace(volume, bucket=bucket, prefix=prefix)
            item.volume.validate()
            item.secret, item.note = secret, note
        except _Skip as skip:
            item.skipped = str(skip)
        except SdError as exc:
            item.skipped = exc.detail
    return items


def _alias_target(options: Mapping[str, str], remotes: Mapping[str, Mapping[str, str]]) -> tuple[str, str, str]:
    target = options.get("remote", "")
    remote, sep, path = target.partition(":")
    if not sep or remote not in remotes:
        raise _Skip(f"an alias of {target!r}, which is not a remote of this file")
    if remotes[remote].get("type") == "alias":
        raise _Skip("an alias of another alias")
    bucket, _, prefix = path.strip("/").partition("/")
    return remote, bucket, prefix.strip("/")


def _volume_of(
    name: str, options: Mapping[str, str], profiles: set[str] | frozenset[str], endpoint: str | None
) -> tuple[VolumeConfig, str | None, str | None]:
    """(volume without its bucket, secret, note) for one remote's options."""
    rclone_type = options.get("type", "")
    for option in OBSCURED_OPTIONS.get(rclone_type, ()):
        if options.get(option):
            register_secret(reveal(options[option]))  # revealed only to be redacted: no such auth is imported
    for value in (options.get(k) for k in ("secret_access_key", "key", "sas_url", "service_account_credentials")):
        if value:
            register_secret(value)
    if rclone_type == "s3":
        return _s3(name, options, profiles, endpoint)
    if rclone_type == "b2":
        return _b2(name, options, endpoint)
    if rclone_type == "azureblob":
        return _azure(name, options, endpoint)
    if rclone_type in ("google cloud storage", "gcs"):
        return _gcs(name, options)
    raise _Skip(f"rclone type {rclone_type or '(none)'!r} is not supported")


def _url(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    return endpoint if "://" in endpoint else f"https://{endpoint}"


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _s3(
    name: str, options: Mapping[str, str], profiles: set[str] | frozenset[str], endpoint_override: str | None
) -> tuple[VolumeConfig, str | None, str | None]:
    provider = options.get("provider", "AWS") or "AWS"
    if provider not in S3_PROVIDERS:
        raise _Skip(f"s3 provider {provider} is not supported (only {', '.join(S3_PROVIDERS)})")
    endpoint = _url(endpoint_override or options["endpoint"]) if endpoint_override or options.get("endpoint") else None
    if endpoint is None and provider != "AWS":
        raise _Skip(f"an s3 remote of provider {provider} without an endpoint")
    path_style: bool | None = None
    if "force_path_style" in options:
        path_style = _is_true(options["force_path_style"])
    elif provider in ("Minio", "Other", "Cloudflare"):
        path_style = True  # rclone's quirks: these use path style unless told otherwise
    elif endpoint is not None:
        path_style = False  # AWS and Wasabi: virtual-hosted, as rclone does
    kind: VolumeKind = "r2" if provider == "Cloudflare" else "s3"
    region = options.get("region") or None
    if kind == "r2" and region in (None, "auto"):
        region = None
    volume = VolumeConfig(
        name=name,
        kind=kind,
        bucket="-",
        endpoint=endpoint,
        region=region,
        path_style=path_style,
        allow_http=bool(endpoint and endpoint.startswith("http://")),
    )
    note = "its endpoint is plain http, as in rclone.conf" if volume.allow_http else None
    key_id, secret = options.get("access_key_id", ""), options.get("secret_access_key", "")
    if options.get("session_token"):
        raise _Skip("a session_token expires; use an AWS profile (sdgui volume add --profile) instead")
    if key_id or secret:
        if not (key_id and secret):
            raise _Skip("access_key_id and secret_access_key must both be set")
        return replace(volume, access_key_id=key_id), secret, note
    if _is_true(options.get("env_auth")):
        # rclone's env_auth runs the AWS SDK's default chain. sdgui names the identity instead: the profile rclone
        # would read (its `profile` option, else "default"), and never the environment's variables.
        profile = options.get("profile") or "default"
        if profile not in profiles:
            raise _Skip(f"env_auth with no AWS profile {profile} in ~/.aws/config or ~/.aws/credentials")
        return replace(volume, profile=profile), None, note
    return volume, None, note  # rclone's anonymous access


def _b2(name: str, options: Mapping[str, str], endpoint: str | None) -> tuple[VolumeConfig, str | None, str | None]:
    # b2's native API is not S3; its S3-compatible API takes the same key id and application key, at an endpoint
    # of the account's region, which rclone.conf does not hold.
    key_id, key = options.get("account", ""), options.get("key", "")
    if not (key_id and key):
        raise _Skip("a b2 remote needs account and key")
    if not endpoint:
        raise _Skip(
            f"Backblaze's S3 endpoint depends on the account's region (s3.REGION.backblazeb2.com, shown with the "
            f"bucket in the B2 web console); pass --endpoint {name}=https://s3.REGION.backblazeb2.com"
        )
    url = _url(endpoint)
    match = _B2_S3_HOST.fullmatch(urlsplit(url).hostname or "")
    volume = VolumeConfig(
        name=name,
        kind="s3",
        bucket="-",
        endpoint=url,
        region=match.group(1) if match else None,
        path_style=False,
        access_key_id=key_id,
        allow_http=url.startswith("http://"),
    )
    return volume, key, "through Backblaze's S3-compatible API"


def _azure(name: str, options: Mapping[str, str], endpoint: str | None) -> tuple[VolumeConfig, str | None, str | None]:
    account, key = options.get("account", ""), options.get("key", "")
    if options.get("sas_url"):
        raise _Skip("azureblob with a SAS URL is not supported; use the account name and key")
    if options.get("client_id") or options.get("tenant"):
        raise _Skip("azureblob with a service principal is not supported; use the account name and key")
    for flag in ("env_auth", "use_msi", "use_emulator", "use_az"):
        if _is_true(options.get(flag)):
            raise _Skip(f"azureblob with {flag} is not supported; use the account name and key")
    if not (account and key):
        raise _Skip("an azureblob remote needs account and key")
    url = _url(endpoint or options["endpoint"]) if endpoint or options.get("endpoint") else None
    volume = VolumeConfig(
        name=name,
        kind="azure",
        bucket="-",
        endpoint=url,
        access_key_id=account,
        allow_http=bool(url and url.startswith("http://")),
    )
    return volume, key, None


def _gcs(name: str, options: Mapping[str, str]) -> tuple[VolumeConfig, str | None, str | None]:
    volume = VolumeConfig(name=name, kind="gcs", bucket="-")
    if options.get("service_account_file"):
        path = os.path.expanduser(os.path.expandvars(options["service_account_file"]))
        return replace(volume, service_account_file=path), None, None
    if options.get("service_account_credentials"):
        return volume, options["service_account_credentials"], None
    if _is_true(options.get("env_auth")):
        raise _Skip("env_auth uses ambient Google credentials; set service_account_file in rclone.conf")
    if _is_true(options.get("anonymous")):
        raise _Skip("anonymous gcs access is not supported")
    raise _Skip("OAuth login (token) is not supported; use a service account file")


def apply_import(items: list[ImportItem], registry: VolumeRegistry, secrets: SecretStore | None = None) -> None:
    """Add every importable item: its secret to the keyring first, then all volumes to the file in one save.

    An item whose secret cannot be stored (no keyring) is marked skipped with the reason; the others go on.
    """
    secrets = secrets if secrets is not None else SecretStore()
    added = False
    for item in items:
        if item.volume is None or item.skipped:
            continue
        try:
            registry.add(item.volume)
        except SdError as exc:
            item.skipped = exc.detail
            continue
        try:
            if item.secret:
                secrets.set(item.volume.name, item.secret)
        except SdError as exc:
            registry.remove(item.volume.name)
            item.skipped = exc.detail
            continue
        item.imported = True
        added = True
    if added:
        registry.save()
