"""An AWS profile as a volume's identity: botocore resolves it, obstore and botocore's S3 client share the result.

Only the profile's name is stored. botocore's own resolver reads ``~/.aws/config`` and ``~/.aws/credentials``
(static keys, SSO, ``credential_process``, assume-role chains) and refreshes what expires; the providers that
do not belong to a profile (environment variables, instance metadata, containers, boto2 files) are taken out
of its chain, so a profile that fails raises instead of quietly resolving another account.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sdgui.core import errors
from sdgui.core.redaction import redact, register_secret

if TYPE_CHECKING:
    from obstore.store import S3Credential

logger = logging.getLogger(__name__)

# Credential providers of botocore's default chain that ignore the profile: with any of them left in, a profile
# without usable credentials would silently become whatever the environment or the machine offers.
_AMBIENT_PROVIDERS = ("env", "ec2-credentials-file", "boto-config", "container-role", "iam-role")

CREDENTIAL_TTL = timedelta(minutes=5)
"""How long obstore keeps one answer of the provider. botocore hands out refreshable credentials only while at
least its mandatory refresh window (10 minutes) is left and refreshes them before, so 5 minutes is always safe;
asking again is cheap (no request unless botocore refreshes)."""


def available_profiles() -> list[str]:
    """The profile names of ``~/.aws/config`` and ``~/.aws/credentials`` (or AWS_CONFIG_FILE and
    AWS_SHARED_CREDENTIALS_FILE), sorted; an unreadable file gives none rather than an error."""
    import botocore.session

    try:
        return sorted(botocore.session.Session().available_profiles)
    except Exception as exc:  # a malformed file: the dialog still opens, `volume test` reports it
        logger.debug("cannot read the AWS profiles: %s", type(exc).__name__)
        return []


def sso_login_hint(profile: str) -> str:
    return f"the SSO session of AWS profile {profile} is missing or expired; run `aws sso login --profile {profile}`"


def translated_credential_error(exc: Exception, profile: str, volume: str | None) -> errors.SdError:
    """A botocore failure to resolve ``profile``'s credentials as the error a user can act on."""
    from botocore import exceptions as bce

    if isinstance(exc, errors.SdError):
        return exc
    if isinstance(exc, bce.ProfileNotFound):
        return errors.ConfigError(
            f"there is no AWS profile named {profile} in ~/.aws/config or ~/.aws/credentials", volume=volume
        )
    if isinstance(exc, bce.SSOError | bce.TokenRetrievalError):
        return errors.CredentialsError(sso_login_hint(profile), volume=volume)
    if isinstance(exc, bce.CredentialRetrievalError):
        # credential_process: botocore's message carries what the process said on stderr.
        return errors.CredentialsError(f"AWS profile {profile}: {redact(str(exc))}", volume=volume)
    if isinstance(exc, bce.ClientError):
        # STS refused an AssumeRole of the chain.
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        return errors.CredentialsError(
            f"AWS profile {profile}: the service refused the credentials ({code}: {redact(message)})",
            volume=volume,
            service_code=code or None,
        )
    if isinstance(exc, bce.BotoCoreError):
        return errors.CredentialsError(f"AWS profile {profile}: {redact(str(exc))}", volume=volume)
    return errors.CredentialsError(
        f"AWS profile {profile}: cannot resolve its credentials ({type(exc).__name__})", volume=volume
    )


def _refuse_mfa_prompt(prompt: str) -> str:
    raise errors.CredentialsError(
        "the profile's role needs an MFA code, which sdgui cannot ask for; use a profile whose credentials "
        "need no prompt (SSO or credential_process)"
    )


@dataclass(frozen=True)
class AwsProfile:
    """One resolved AWS profile: the botocore session both S3 clients use, its credentials, region and endpoint."""

    name: str
    session: Any = field(repr=False, compare=False)
    credentials: Any = field(repr=False, compare=False)
    region: str | None
    endpoint: str | None
    method: str
    """How botocore found the credentials: shared-credentials-file, config-file, sso, custom-process, assume-role..."""

    @classmethod
    def open(cls, name: str, *, volume: str | None = None) -> AwsProfile:
        """Resolve profile ``name`` now (so a missing SSO login or a failing process is reported at once)."""
        import botocore.session
        from botocore.configprovider import ConfiguredEndpointProvider

        # botocore logs each failed refresh as a WARNING with a traceback; the error raised here says it better.
        quiet = logging.getLogger("botocore.credentials")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.ERROR)
        try:
            session = botocore.session.Session(profile=name)
            if name not in session.available_profiles:
                raise errors.ConfigError(
                    f"there is no AWS profile named {name} in ~/.aws/config or ~/.aws/credentials; "
                    "`aws configure list-profiles` shows the ones there are",
                    volume=volume,
                )
            resolver = session.get_component("credential_provider")
            for method in _AMBIENT_PROVIDERS:
                resolver.remove(method)
            # Private, but botocore's only hook: its default asks for an MFA code on the terminal, which would
            # hang a window.
            resolver.get_provider("assume-role")._prompter = _refuse_mfa_prompt
            credentials = session.get_credentials()
            if credentials is None:
                raise errors.CredentialsError(
                    f"AWS profile {name} has no credentials (no keys, sso_*, credential_process or role_arn)",
                    volume=volume,
                )
            _frozen(credentials)  # the first request: SSO token, process or AssumeRole, here rather than mid-copy
            scoped = session.get_scoped_config()
            # environ={}: the profile's own endpoint (services section or endpoint_url), not AWS_ENDPOINT_URL*.
            endpoint = ConfiguredEndpointProvider(session.full_config, scoped, "s3", environ={}).provide()
        except Exception as exc:
            raise translated_credential_error(exc, name, volume) from None
        return cls(
            name=name,
            session=session,
            credentials=credentials,
            region=scoped.get("region") or None,
            endpoint=str(endpoint).rstrip("/") if endpoint else None,
            method=str(getattr(credentials, "method", "") or "unknown"),
        )

    def credential_provider(self, volume: str | None = None) -> BotocoreCredentialProvider:
        """obstore's ``credential_provider`` over this profile's (refreshing) credentials."""
        return BotocoreCredentialProvider(self, volume)


def _frozen(credentials: Any) -> Any:
    frozen = credentials.get_frozen_credentials()
    for value in (frozen.secret_key, frozen.token):
        if value:
            register_secret(value)
    return frozen


class BotocoreCredentialProvider:
    """obstore's S3 credential provider over botocore credentials (the shape of obstore.auth.boto3's, without
    boto3): each call hands out botocore's current frozen credentials, which botocore refreshes before expiry."""

    def __init__(self, profile: AwsProfile, volume: str | None = None) -> None:
        self.profile = profile
        self.volume = volume
        self._lock = threading.Lock()

    def __call__(self) -> S3Credential:
        try:
            with self._lock:
                frozen = _frozen(self.profile.credentials)
        except Exception as exc:
            error = translated_credential_error(exc, self.profile.name, self.volume)
            logger.warning("%s", error)
            raise error from None
        refreshing = getattr(self.profile.credentials, "refresh_needed", None) is not None
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": datetime.now(UTC) + CREDENTIAL_TTL if refreshing else None,
        }
