"""Ctrl-C and SIGTERM in the middle of a copy: the command exits 130, and nothing partial is left behind."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import S3Server
from tests.test_cli import JsonLines, MiB, add_volume, exists, keys, of_type, sdgui, started_transfer
from tests.throttling_proxy import ThrottlingProxy


@pytest.fixture
def slow_link(rclone_s3: S3Server) -> Iterator[ThrottlingProxy]:
    """rclone_s3 behind a 16 MB/s link."""
    rclone_s3.ensure_running()
    proxy = ThrottlingProxy(rclone_s3.endpoint, rate=16 * 1000 * 1000)
    yield proxy
    proxy.close()


@pytest.fixture
def slow_volume(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, slow_link: ThrottlingProxy
) -> Iterator[str]:
    """Volume "cloud" on a fresh bucket of rclone_s3, reached over the slow link; yields the bucket."""
    bucket = rclone_s3.new_bucket()
    add_volume(capsys, monkeypatch, rclone_s3, bucket, endpoint=slow_link.endpoint)
    yield bucket
    rclone_s3.delete_bucket(bucket)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """128 MiB: well over what an upload reads ahead (obstore's parts in flight plus the pump's queue, ~60 MiB)."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(128 * MiB))
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_upload_leaves_nothing(
    rclone_s3: S3Server, slow_volume: str, big_file: Path, signum: signal.Signals
) -> None:
    lines = JsonLines(sdgui("copy", str(big_file), "cloud:big.bin", "--json"))
    lines.wait_for(started_transfer)
    assert rclone_s3.open_multipart_uploads(slow_volume)  # mid-upload: parts are on the server
    lines.process.send_signal(signum)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"
    assert of_type(seen, "file_done") == []
    assert "cancel" in err and "Traceback" not in err
    assert rclone_s3.open_multipart_uploads(slow_volume) == []
    assert not exists(rclone_s3, slow_volume, "big.bin")
    assert keys(rclone_s3, slow_volume) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_download_leaves_nothing(
    rclone_s3: S3Server, slow_volume: str, tmp_path: Path, signum: signal.Signals
) -> None:
    assert rclone_s3.data_dir is not None
    # rclone serves files from disk: placing one there is quicker than uploading it over the slow link.
    (rclone_s3.data_dir / slow_volume / "big.bin").write_bytes(os.urandom(64 * MiB))
    destination = tmp_path / "down"
    destination.mkdir()
    lines = JsonLines(sdgui("copy", "cloud:big.bin", str(destination) + "/", "--json"))
    lines.wait_for(started_transfer)
    partial = [path.name for path in destination.iterdir()]
    assert len(partial) == 1 and partial[0].endswith(".part")  # the download is under way
    lines.process.send_signal(signum)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"
    assert list(destination.iterdir()) == []


def test_second_sigint_still_waits_for_cleanup(rclone_s3: S3Server, slow_volume: str, big_file: Path) -> None:
    lines = JsonLines(sdgui("copy", str(big_file), "cloud:", "--json"))
    lines.wait_for(started_transfer)
    lines.process.send_signal(signal.SIGINT)
    lines.process.send_signal(signal.SIGINT)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"  # it waited for the job to end, not just for the signal
    assert rclone_s3.open_multipart_uploads(slow_volume) == []
    assert keys(rclone_s3, slow_volume) == []
