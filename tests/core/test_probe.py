"""probe_volume against real S3 servers: every step passes, or the first failure says what kind it is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.base import BeforeCommit, VolumeBackend, WriteResult
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.local import LocalBackend
from sdgui.core.probe import PROBE_PREFIX, PROBE_STEPS, ProbeStep, probe_volume
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig
from tests.copying import add_volume
from tests.servers import S3Server
from tests.silent_server import silent_server


def keys(server: S3Server, bucket: str) -> list[str]:
    return [obj["Key"] for obj in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def open_backend(config: VolumeConfig) -> VolumeBackend:
    return backend_for_config(config)


def test_every_step_passes_and_the_probe_object_is_gone(s3_server: S3Server, bucket: str) -> None:
    s3_server.client().put_object(Bucket=bucket, Key="existing.txt", Body=b"x")
    backend = open_backend(add_volume(s3_server, bucket))
    heard: list[ProbeStep] = []
    try:
        steps = probe_volume(backend, on_step=heard.append)
    finally:
        backend.close()
    assert [s.name for s in steps] == list(PROBE_STEPS)
    assert all(s.ok and s.error_kind is None for s in steps), steps
    assert heard == steps
    assert steps[0].message == "1 entry at the top"
    assert all(s.seconds >= 0 for s in steps)
    assert keys(s3_server, bucket) == ["existing.txt"]
    assert not any(k.startswith(PROBE_PREFIX) for k in keys(s3_server, bucket))


def test_read_only_stops_after_listing(moto_s3: S3Server) -> None:
    bucket = moto_s3.new_bucket()
    backend = open_backend(add_volume(moto_s3, bucket))
    try:
        steps = probe_volume(backend, read_only=True)
    finally:
        backend.close()
        moto_s3.delete_bucket(bucket)
    assert [(s.name, s.ok) for s in steps] == [("list", True)]


def test_wrong_secret_fails_the_listing_with_a_credentials_error(rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    backend = open_backend(add_volume(rclone_s3, bucket, secret="not-the-secret"))
    try:
        steps = probe_volume(backend)
    finally:
        backend.close()
        rclone_s3.delete_bucket(bucket)
    assert len(steps) == 1
    (step,) = steps
    assert (step.name, step.ok, step.error_kind) == ("list", False, "credentials")
    assert "credentials" in step.message


def test_typed_secret_is_used_without_storing_anything(rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    config = VolumeConfig(
        "typed",
        "s3",
        bucket=bucket,
        endpoint=rclone_s3.endpoint,
        access_key_id=rclone_s3.access_key_id,
        allow_http=True,
    )
    backend = backend_for_config(config, secret=rclone_s3.secret_access_key)
    try:
        steps = probe_volume(backend)
    finally:
        backend.close()
        rclone_s3.delete_bucket(bucket)
    assert all(s.ok for s in steps), steps


@pytest.mark.timeout(60)
def test_closed_port_fails_the_listing_with_a_network_error(moto_s3: S3Server, closed_port_endpoint: str) -> None:
    backend = open_backend(add_volume(moto_s3, "nowhere", endpoint=closed_port_endpoint))
    try:
        steps = probe_volume(backend)
    finally:
        backend.close()
    assert [(s.name, s.ok, s.error_kind) for s in steps] == [("list", False, "network")]
    assert steps[0].message


class GarblingBackend(LocalBackend):
    """A local disk whose reads return other bytes than were written."""

    def read(self, key: str, *, offset: int = 0, if_match: str | None = None) -> Iterator[bytes]:
        yield b"something else"


class FullDiskBackend(LocalBackend):
    """A local disk that refuses every write."""

    def write(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        before_commit: BeforeCommit | None = None,
    ) -> WriteResult:
        raise errors.DiskFullError("no space left", volume=self.volume, path=key)


def test_a_failed_read_back_still_deletes_the_probe_object(tmp_path: Path) -> None:
    steps = probe_volume(GarblingBackend(tmp_path, volume="disk"))
    assert [(s.name, s.ok, s.error_kind) for s in steps] == [
        ("list", True, None),
        ("write", True, None),
        ("read back", False, "checksum"),
        ("delete", True, None),
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_stops_the_probe(tmp_path: Path) -> None:
    steps = probe_volume(FullDiskBackend(tmp_path, volume="disk"))
    assert [(s.name, s.ok, s.error_kind) for s in steps] == [("list", True, None), ("write", False, "disk-full")]
    assert "no space left" in steps[-1].message


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """The http:// endpoint of a server that accepts connections and never answers."""
    with silent_server() as server:
        yield server.endpoint


SILENCE_1S = TransferSettings(connect_timeout_s=1.0, stall_timeout_s=1.0, request_retries=0)


def test_a_silent_service_fails_the_listing_as_a_timeout(silent_endpoint: str) -> None:
    """The read timeout of a connection test is classified by its transport, not by obstore's words."""
    config = VolumeConfig("hang", "s3", bucket="bucket", endpoint=silent_endpoint, access_key_id="key", allow_http=True)
    backend = backend_for_config(config, secret="wrong-secret", settings=SILENCE_1S)
    try:
        [step] = probe_volume(backend)
    finally:
        backend.close()
    assert (step.name, step.ok, step.error_kind, step.transport) == ("list", False, "network", "timeout")
    assert 0.9 <= step.seconds < 10
