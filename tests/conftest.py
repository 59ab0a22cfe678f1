"""Shared fixtures: a clean environment for every test and real S3 servers on loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core.secrets import forget_secrets
from tests.cloud_servers import Azurite, FakeGcs, GcsXml, start_azurite, start_fake_gcs, start_gcs_xml
from tests.keyrings import memory_keyring, no_keyring  # noqa: F401  (fixtures for every test)
from tests.servers import (
    LOOPBACK,
    RCLONE_B_CREDENTIALS,
    RCLONE_CREDENTIALS,
    S3Server,
    free_port,
    start_moto,
    start_rclone,
    start_seaweedfs,
)

# tests/bundle/ tries the built bundle that SDGUI_BUNDLE names (`make package-test`); without one it is not collected.
collect_ignore = [] if os.environ.get("SDGUI_BUNDLE") else ["bundle"]

# Variables that would point boto3, obstore or the app at a real account, region or endpoint.
LEAKY_ENV_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ALLOW_HTTP",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "RCLONE_CONFIG",
)


# -- environment hygiene -------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _session_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the machine's cloud settings and display out of the whole run, session fixtures included."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [*LEAKY_ENV_VARS, *(k for k in os.environ if k.startswith("AWS_"))]:
            mp.delenv(name, raising=False)
        # boto3 would still read ~/.aws/{config,credentials}; point it at empty files.
        aws_dir = tmp_path_factory.mktemp("aws")
        for file_name, var in (("config", "AWS_CONFIG_FILE"), ("credentials", "AWS_SHARED_CREDENTIALS_FILE")):
            (aws_dir / file_name).touch()
            mp.setenv(var, str(aws_dir / file_name))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")  # Never probe 169.254.169.254 for credentials.
        if not os.environ.get("QT_QPA_PLATFORM"):
            mp.setenv("QT_QPA_PLATFORM", "offscreen")
        yield


@pytest.fixture(autouse=True)
def _isolated_app_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the app's config, data and log dirs at fresh temp dirs, so no test touches the user's real ones;
    forget the secrets a test registered, so one test's secret never redacts another's messages."""
    base = tmp_path_factory.mktemp("sdgui-home")
    for var, sub in (("SDGUI_CONFIG_DIR", "config"), ("SDGUI_DATA_DIR", "data"), ("SDGUI_LOG_DIR", "log")):
        path = base / sub
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    yield
    forget_secrets()


# -- ports ---------------------------------------------------------------------------------------------------


@pytest.fixture
def closed_port_endpoint() -> str:
    """An http://127.0.0.1:PORT endpoint with nothing listening, for 'unreachable' tests."""
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex((LOOPBACK, port)) != 0, f"port {port} unexpectedly answers"
    return f"http://{LOOPBACK}:{port}"


# -- S3 servers ----------------------------------------------------------------------------------------------


def _serve(server: S3Server) -> Iterator[S3Server]:
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto_server (in-memory, full S3 API surface) for the whole session."""
    yield from _serve(start_moto(tmp_path_factory.mktemp("moto")))


@pytest.fixture(scope="session")
def rclone_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """An `rclone serve s3` (file-backed, see server.data_dir) for the whole session."""
    yield from _serve(start_rclone(tmp_path_factory.mktemp("rclone"), RCLONE_CREDENTIALS))


@pytest.fixture(scope="session")
def rclone_s3_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A second, independent rclone server with other credentials: the 'other cloud'."""
    yield from _serve(start_rclone(tmp_path_factory.mktemp("rclone-b"), RCLONE_B_CREDENTIALS))


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS (`weed mini`): the S3 server that behaves like S3 (206 ranges, every additional checksum)."""
    yield from _serve(start_seaweedfs(tmp_path_factory.mktemp("seaweedfs")))


SERVER_FIXTURES = {"moto": "moto_s3", "rclone": "rclone_s3", "seaweedfs": "seaweed_s3"}


@pytest.fixture(params=list(SERVER_FIXTURES))
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    """The session's moto, rclone or SeaweedFS server: a test written once runs against each ([moto], [rclone],
    [seaweedfs])."""
    server: S3Server = request.getfixturevalue(SERVER_FIXTURES[request.param])
    server.ensure_running()  # An earlier kill-and-restart test may have left it down.
    return server


@pytest.fixture
def bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh, empty bucket on s3_server; emptied and deleted afterwards."""
    name = s3_server.new_bucket()
    yield name
    if s3_server.running:
        s3_server.delete_bucket(name)


# -- Azure and GCS servers -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service (in memory) for the whole session; installed by `make deps-azurite`."""
    server = start_azurite(tmp_path_factory.mktemp("azurite"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def azure_container(azurite: Azurite) -> Iterator[str]:
    """A fresh container on Azurite, deleted afterwards."""
    azurite.server.ensure_running()
    name = azurite.new_container()
    yield name
    if azurite.server.running:
        azurite.delete_container(name)


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGcs]:
    """fake-gcs-server (in memory) for GCS reads, for the whole session."""
    server = start_fake_gcs(tmp_path_factory.mktemp("fake-gcs"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def gcs_xml() -> Iterator[GcsXml]:
    """The suite's own GCS XML-API server (writes, multipart, copies) for the whole session."""
    server = start_gcs_xml()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def gcs_bucket(gcs_xml: GcsXml) -> Iterator[str]:
    """A fresh bucket on the GCS XML-API server, dropped afterwards."""
    name = gcs_xml.new_bucket()
    yield name
    gcs_xml.delete_bucket(name)


# -- a full disk ----------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a real full disk (needs root, as CI has)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
