"""The object stores the benchmark runs against: SeaweedFS (`weed mini`) and `rclone serve s3`, on loopback.

Both are started on free ports, polled until they take a real PUT and always stopped. Recipes (ports, readiness,
stop times) as in /work/shared/notes/test-servers.md and tests/servers.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
BUCKET = "bench"
START_TIMEOUT_S = 60.0
ROOT = Path(__file__).resolve().parents[2]


class BenchError(RuntimeError):
    """A tool failed or the setup is broken; the message says which."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pdeath_prefix() -> list[str]:
    """Ask the kernel to TERM the child when this script dies, so no server outlives a crash."""
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def find_tool(name: str) -> Path:
    """A console script or bundled binary of the venv, else the one on PATH."""
    for candidate in (ROOT / ".venv" / "bin" / name, Path(sys.executable).parent / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name} not found in .venv/bin nor on PATH (make bench installs it)")
    return Path(found)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without AWS_*, RCLONE_* or SDGUI_* settings: no tool picks up a real account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "SDGUI_"))}
    env.update(extra or {})
    return env


def process_cpu_s(pid: int | None) -> float:
    """utime + stime of a running process from /proc (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """One S3 server subprocess: ``kind`` is "seaweedfs" or "rclone"; clients reach it at ``endpoint``."""

    kind: str
    work: Path
    access_key: str
    secret_key: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    stop_timeout_s: float = 10.0
    _client: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log(self) -> Path:
        return self.work / f"{self.kind}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            self.port = free_port()
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*pdeath_prefix(), *self.command()],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=clean_env({"RCLONE_CACHE_DIR": str(self.work / "rclone-cache")}),
                    cwd=self.work,
                )
            if self._wait_ready(time.monotonic() + START_TIMEOUT_S):
                return
            self.stop()
        raise BenchError(f"{self.kind} did not start; see {self.log}")

    def _wait_ready(self, deadline: float) -> bool:
        """Poll until a PUT of a probe object works (SeaweedFS answers HTTP before it takes writes)."""
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                self.client().put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
                self.client().delete_object(Bucket=BUCKET, Key="ready")
                return self.process.poll() is None
            except Exception:  # not serving yet (SeaweedFS: volumes still being allocated); bounded by the deadline
                time.sleep(0.2)
        return False

    def client(self) -> Any:
        """A boto3 S3 client (path-style) for setup and cleanup; the clients under test never use it."""
        if self._client is None:
            import boto3
            import botocore.config

            config = botocore.config.Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=32,
            )
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                config=config,
            )
        return self._client

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix`` (a trailing / is added)."""
        s3 = self.client()
        prefix = prefix.rstrip("/") + "/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})

    def count_prefix(self, prefix: str) -> tuple[int, int]:
        """(objects, bytes) under ``prefix``: the check that a copy landed whole."""
        count = total = 0
        prefix = prefix.rstrip("/") + "/"
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for obj in page.get("Contents", []):
                count += 1
                total += int(obj["Size"])
        return count, total

    def stop(self) -> None:
        process, self.process = self.process, None
        if self._client is not None:
            self._client.close()
            self._client = None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class SeaweedServer(Server):
    """`weed mini` (master, volume, filer and S3 in one process) with every port set, so it binds no others."""

    def __init__(self, work: Path) -> None:
        super().__init__("seaweedfs", work, "bench-seaweed", "bench-seaweed-secret", stop_timeout_s=5.0)

    def command(self) -> list[str]:
        data = self.work / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.work / "s3.json"
        identity = {
            "name": "admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        master, volume, filer, admin = (free_port() for _ in range(4))
        return [
            str(find_tool("weed")), "mini", f"-dir={data}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
            f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", f"-s3.port={self.port}",
            f"-s3.config={config}", f"-bucket={BUCKET}", "-webdav=false", "-admin.ui=false",
            f"-admin.port={admin}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
        ]  # fmt: skip

    def version(self) -> str:
        out = subprocess.run([str(find_tool("weed")), "version"], capture_output=True, text=True).stdout
        found = re.search(r"\b(\d+\.\d+(\.\d+)?)\b", out)  # "version 8000GB 4.48 pypi linux amd64"
        return found.group(1) if found else "?"


class RcloneServer(Server):
    """`rclone serve s3` with its default flags (MD5 ETag on every HEAD/GET, 5 min dir cache) over a data dir.

    Every write and delete goes through S3, so the directory cache never goes stale.
    """

    def __init__(self, work: Path) -> None:
        super().__init__("rclone", work, "bench-rclone", "bench-rclone-secret")

    def command(self) -> list[str]:
        data = self.work / "data"
        (data / BUCKET).mkdir(parents=True, exist_ok=True)
        config = self.work / "rclone.conf"
        config.touch()  # an empty config: never the user's remotes
        return [
            str(find_tool("rclone")), "serve", "s3", "--config", str(config), "--addr", f"{LOOPBACK}:{self.port}",
            "--auth-key", f"{self.access_key},{self.secret_key}", str(data),
        ]  # fmt: skip

    def version(self) -> str:
        out = subprocess.run([str(find_tool("rclone")), "version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].replace("rclone ", "", 1) if out else "?"


def make_server(kind: str, work: Path) -> Server:
    if kind == "seaweedfs":
        return SeaweedServer(work)
    if kind == "rclone":
        return RcloneServer(work)
    raise BenchError(f"unknown server {kind!r}")
