"""Real S3 servers (moto_server, rclone serve s3) run as subprocesses on loopback ports for tests.

Each server is started, polled for health against a deadline and always stopped. Output goes to a log file
whose tail is shown when a server fails to come up.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import ClientError

from sdgui.demo import stop_process

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3

MOTO_CREDENTIALS = ("testing", "testing-secret")
RCLONE_CREDENTIALS = ("rclone-access", "rclone-secret")
RCLONE_B_CREDENTIALS = ("rclone-b-access", "rclone-b-secret")


class ServerStartError(RuntimeError):
    """A test server did not answer before its deadline, or exited while starting."""


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str:
    """The venv's copy of a console script or bundled binary, else the one on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def orphan_guard() -> list[str]:
    """A command prefix that sends the server SIGTERM when the thread that started it dies.

    pytest-timeout's thread method ends a hung run with os._exit, which skips every fixture finalizer; without
    this the servers would outlive the run. Start servers from the main thread (fixtures do).
    """
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def server_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The machine's environment without AWS_* or RCLONE_* settings, so servers never pick up real accounts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env.update(extra or {})
    return env


def wait_until_answering(
    host: str, port: int, process: subprocess.Popen[bytes], deadline: float, poll_interval: float = 0.05
) -> None:
    """Poll until an HTTP request to host:port gets any answer; fail if the process exits or time runs out."""
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"exited with code {process.returncode} before answering")
        conn = http.client.HTTPConnection(host, port, timeout=1.0)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            # Any status (200 for moto, 403 for an unsigned request to rclone) means something serves; it is
            # ours only if our process is still alive (another one may have taken the port first).
            if process.poll() is None:
                return
            raise ServerStartError(f"exited with code {process.returncode}; another process answers on {port}")
        except (OSError, http.client.HTTPException) as exc:
            last_error = exc
        finally:
            conn.close()
        time.sleep(poll_interval)
    raise ServerStartError(f"did not answer on {host}:{port} in time (last error: {last_error!r})")


@dataclass
class S3Server:
    """One S3-compatible server subprocess and what a client needs to reach it."""

    name: str
    endpoint: str
    access_key_id: str
    secret_access_key: str
    process: subprocess.Popen[bytes] | None
    data_dir: Path | None
    log_path: Path
    command: Callable[[int], list[str]] = field(repr=False)
    env: dict[str, str] | None = field(default=None, repr=False)  # None: the cleaned-up environment
    stop_timeout: float = STOP_TIMEOUT
    ready: Callable[[S3Server], None] | None = field(default=None, repr=False)
    """Waits (after the port answers) until the server really serves; raises ServerStartError if it does not."""
    _session: Any = field(default=None, repr=False)
    _clients: list[Any] = field(default_factory=list, repr=False)

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self, *, timeout: float = START_TIMEOUT) -> None:
        """Start the process on self.port and wait until it answers HTTP; stop it again if it does not."""
        if self.running:
            return
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [*orphan_guard(), *self.command(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env if self.env is not None else server_environment(),
                cwd=str(self.log_path.parent),
            )
        finally:
            log.close()  # The child holds its own copy of the descriptor.
        try:
            wait_until_answering(LOOPBACK, self.port, self.process, time.monotonic() + timeout)
            if self.ready is not None:
                self.ready(self)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, ServerStartError):
                raise ServerStartError(f"{self.name} at {self.endpoint}: {exc}\n{self.log_tail()}") from None
            raise

    def stop(self, *, timeout: float | None = None) -> None:
        """Terminate the process, kill it if it lingers, and reap it. Safe to call twice or after a crash."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, self.stop_timeout if timeout is None else timeout)

    def restart(self, *, timeout: float = START_TIMEOUT) -> None:
        """Stop and start again on the same port with the same data dir (kill-and-restart tests)."""
        self.stop()
        self.start(timeout=timeout)

    def ensure_running(self) -> None:
        """Start the server again if a test left it stopped or killed it."""
        if not self.running:
            self.stop()  # Reap a crashed process.
            self.start()

    def close(self) -> None:
        """Stop the server and close every client handed out (their sockets would warn when collected)."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_path})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path} ---\n{tail}"

    # -- clients ---------------------------------------------------------------------------------------------

    def client(self) -> Any:
        """A boto3 S3 client for this server (path-style, us-east-1); closed when the server is closed."""
        if self._session is None:
            self._session = boto3.session.Session()
        config = botocore.config.Config(
            # rclone returns the whole object's checksum on a ranged GET, which boto3's validation rejects.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        client = self._session.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=config,
        )
        self._clients.append(client)
        return client

    def _admin(self) -> Any:
        if not self._clients:
            self.client()
        return self._clients[0]

    def create_bucket(self, name: str) -> str:
        self._admin().create_bucket(Bucket=name)
        return name

    def new_bucket(self, prefix: str = "test") -> str:
        """Create a bucket with a unique name on the server and return the name."""
        return self.create_bucket(f"{prefix}-{uuid.uuid4().hex[:16]}")

    def open_multipart_uploads(self, bucket: str) -> list[tuple[str, str]]:
        """(key, upload_id) of every unfinished multipart upload in the bucket."""
        s3 = self._admin()
        found: list[tuple[str, str]] = []
        kwargs: dict[str, str] = {"Bucket": bucket}
        while True:
            try:
                page = s3.list_multipart_uploads(**kwargs)
            except ClientError as exc:
                # rclone answers "none open" with 404 NoSuchUpload instead of an empty listing.
                if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                    return found
                raise
            found.extend((u["Key"], u["UploadId"]) for u in page.get("Uploads", []))
            if not page.get("IsTruncated"):
                return found
            kwargs["KeyMarker"] = page.get("NextKeyMarker", "")
            kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker", "")

    def delete_bucket(self, bucket: str) -> None:
        """Abort open uploads, delete every object, then the bucket (keeps moto's memory in check)."""
        s3 = self._admin()
        for key, upload_id in self.open_multipart_uploads(bucket):
            with contextlib.suppress(ClientError):
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        with contextlib.suppress(ClientError):
            s3.delete_bucket(Bucket=bucket)


def _start_on_free_port(make: Callable[[int], S3Server]) -> S3Server:
    """Start a server on a fresh free port, retrying when another process grabbed the port first."""
    last_error: ServerStartError | None = None
    for _ in range(PORT_ATTEMPTS):
        server = make(free_port())
        try:
            server.start()
        except ServerStartError as exc:
            last_error = exc
            continue
        return server
    assert last_error is not None
    raise last_error


def start_moto(work_dir: Path, credentials: tuple[str, str] = MOTO_CREDENTIALS) -> S3Server:
    """Start `moto_server` on a free loopback port. It keeps objects in memory; work_dir holds its log."""
    work_dir.mkdir(parents=True, exist_ok=True)
    binary = find_binary("moto_server")
    # moto checks no signature unless told to; say so explicitly so a stray setting cannot turn it on.
    env = server_environment({"INITIAL_NO_AUTH_ACTION_COUNT": "inf", "PYTHONUNBUFFERED": "1"})

    def make(port: int) -> S3Server:
        return S3Server(
            name="moto",
            endpoint=f"http://{LOOPBACK}:{port}",
            access_key_id=credentials[0],
            secret_access_key=credentials[1],
            process=None,
            data_dir=None,
            log_path=work_dir / "moto.log",
            command=lambda p: [binary, "-H", LOOPBACK, "-p", str(p)],
            env=env,
        )

    return _start_on_free_port(make)


SEAWEED_CREDENTIALS = ("seaweed-access", "seaweed-secret-key")
SEAWEED_BUCKET = "seaweed-probe"


def start_seaweedfs(work_dir: Path, credentials: tuple[str, str] = SEAWEED_CREDENTIALS) -> S3Server:
    """Start SeaweedFS (`weed mini`: master, volume, filer and S3 in one process) on free loopback ports.

    Every port is set, else it also binds Iceberg, Lance, admin and gRPC ports of its own. Its health check answers
    before the first PUT works: ``ready`` polls with a real PUT. It takes ~4 s to stop; SIGKILL after 5.
    """
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "s3.json"
    identity = {
        "name": "admin",
        "credentials": [{"accessKey": credentials[0], "secretKey": credentials[1]}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    binary = find_binary("weed")

    def command(port: int) -> list[str]:
        master, volume, filer, admin = (free_port() for _ in range(4))
        return [
            binary, "mini", f"-dir={data_dir}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
            f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}", f"-s3.port={port}",
            f"-s3.config={config}", f"-bucket={SEAWEED_BUCKET}", "-webdav=false", "-admin.ui=false",
            f"-admin.port={admin}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
        ]  # fmt: skip

    def ready(server: S3Server) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        client = server.client()
        while True:
            try:
                client.put_object(Bucket=SEAWEED_BUCKET, Key="ready", Body=b"ok")
                return
            except Exception as exc:  # not serving yet: volumes still being allocated
                if time.monotonic() > deadline or not server.running:
                    raise ServerStartError(f"SeaweedFS answers but takes no PUT: {exc}") from None
                time.sleep(0.2)  # polling a subprocess's readiness, bounded by the deadline

    def make(port: int) -> S3Server:
        return S3Server(
            name="seaweedfs",
            endpoint=f"http://{LOOPBACK}:{port}",
            access_key_id=credentials[0],
            secret_access_key=credentials[1],
            process=None,
            data_dir=data_dir,
            log_path=work_dir / "seaweedfs.log",
            command=command,
            stop_timeout=5.0,
            ready=ready,
        )

    return _start_on_free_port(make)


def start_rclone(work_dir: Path, credentials: tuple[str, str] = RCLONE_CREDENTIALS, name: str = "rclone") -> S3Server:
    """Start `rclone serve s3` on a free loopback port, serving work_dir/data (buckets are its top folders)."""
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "rclone.conf"
    config.touch()  # An empty config of its own: never read the user's remotes.
    binary = find_binary("rclone")
    env = server_environment({"RCLONE_CACHE_DIR": str(work_dir / "cache")})

    def command(port: int) -> list[str]:
        return [
            binary,
            "serve",
            "s3",
            "--config",
            str(config),
            "--addr",
            f"{LOOPBACK}:{port}",
            "--auth-key",
            f"{credentials[0]},{credentials[1]}",
            "--dir-cache-time",
            "1s",  # 0s makes it spin at 100 % CPU.
            str(data_dir),
        ]

    def make(port: int) -> S3Server:
        return S3Server(
            name=name,
            endpoint=f"http://{LOOPBACK}:{port}",
            access_key_id=credentials[0],
            secret_access_key=credentials[1],
            process=None,
            data_dir=data_dir,
            log_path=work_dir / "rclone.log",
            command=command,
            env=env,
        )

    return _start_on_free_port(make)
