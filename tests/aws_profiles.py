"""AWS config and credentials files of a test's own (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, an empty HOME)."""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


@dataclass
class AwsFiles:
    """Where the test's profiles live; ``write`` replaces both files."""

    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / "config"

    @property
    def credentials(self) -> Path:
        return self.directory / "credentials"

    def write(self, config: str = "", credentials: str = "") -> None:
        self.config.write_text(config)
        self.credentials.write_text(credentials)

    def process_script(self, name: str, *, key: str, secret: str, fail: str | None = None) -> str:
        """A credential_process command: prints botocore's JSON (expiring in an hour), or fails saying ``fail``."""
        script = self.directory / f"{name}.py"
        expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = {"Version": 1, "AccessKeyId": key, "SecretAccessKey": secret, "Expiration": expiration}
        body = f"import sys\nsys.stderr.write({fail!r})\nsys.exit(3)\n" if fail else f"print({json.dumps(answer)!r})\n"
        script.write_text(body)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return f"{sys.executable} {script}"


def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsFiles:
    directory = tmp_path / "aws"
    directory.mkdir()
    files = AwsFiles(directory)
    files.write()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files.config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files.credentials))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # ~/.aws/sso/cache: no SSO token unless a test writes one
    return files
