"""Which identity a volume uses, in words a user recognises; never the secret itself."""

from __future__ import annotations

from sdgui.core.volumes import VolumeConfig


def describe_identity(config: VolumeConfig) -> str:
    """``profile prod``, ``access key AKIA… (keyring)``, ``environment variable VAR``, ``anonymous``...

    Read from the definition alone: no keyring or network is asked, so a listing of volumes stays instant.
    """
    if config.kind == "local":
        return "local disk"
    if config.profile:
        return f"profile {config.profile}"
    if config.service_account_file:
        return f"service account file {config.service_account_file}"
    where = f"environment variable {config.secret_env}" if config.secret_env else "keyring"
    if config.access_key_id:
        noun = "account" if config.kind == "azure" else "access key"
        return f"{noun} {config.access_key_id} ({where})"
    if config.kind == "gcs":
        # resolve_secret looks in the keyring for a gcs key even without an id; obstore's defaults apply otherwise.
        if config.secret_env:
            return f"service account key ({where})"
        return "service account key (keyring), else Google application default credentials"
    if config.secret_env:
        return where
    return "anonymous"
