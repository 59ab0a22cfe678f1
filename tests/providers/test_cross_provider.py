"""Copies between providers (S3 on moto, Azure on Azurite, GCS on the XML-API server) with bytes equal and verified;
`sdgui volume test` and `volume cleanup` on Azure and GCS volumes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core.settings import MiB, TransferSettings
from tests.cloud_servers import AZURITE_ACCOUNT, Azurite, GcsXml, azurite_account_sas
from tests.copying import add_azure_volume, add_gcs_volume, add_volume, run_copy, write_tree
from tests.servers import S3Server
from tests.test_cli import run

SMALL_PARTS = TransferSettings(
    upload_chunk_size=5 * MiB, multipart_threshold=6 * MiB, download_part_size=2 * MiB, download_concurrency=4
)


@pytest.fixture
def moto_bucket(moto_s3: S3Server) -> Iterator[str]:
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket()
    yield bucket
    moto_s3.delete_bucket(bucket)


def test_s3_to_azure_to_gcs_to_s3_and_home(
    moto_s3: S3Server,
    moto_bucket: str,
    azurite: Azurite,
    azure_container: str,
    gcs_xml: GcsXml,
    gcs_bucket: str,
    tmp_path: Path,
) -> None:
    add_volume(moto_s3, moto_bucket, "s3")
    add_azure_volume(azurite, azure_container)
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    files = {"small.txt": b"across the clouds\n", "big.bin": os.urandom(7 * MiB + 11)}
    tree = write_tree(tmp_path / "src", files)
    assert run_copy([f"{tree}/"], "s3:", SMALL_PARTS).final.type == "job_finished"

    hops = [("s3:src/", "azure:"), ("azure:src/", "gcs:"), ("gcs:src/", "s3:back/"), ("azure:src/", "s3:from-azure/")]
    for source, destination in hops:
        hop = run_copy([source], destination, SMALL_PARTS)
        assert hop.final.type == "job_finished", (source, destination, hop.final)
        assert hop.of("job_started")[0].strategy == "cross-volume streaming"  # type: ignore[attr-defined]
        for done in hop.of("file_done"):
            assert done.blake3 == blake3(files[Path(done.destination).name]).hexdigest()  # type: ignore[attr-defined]

    for prefix in ("back/src", "from-azure/src"):
        down = run_copy([f"s3:{prefix}/"], f"{tmp_path}/{prefix}/", SMALL_PARTS)
        assert down.final.type == "job_finished", down.final
        assert {e.verified for e in down.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
        for name, data in files.items():
            assert (tmp_path / prefix / "src" / name).read_bytes() == data
    gcs_copy = run_copy(["gcs:src/"], f"{tmp_path}/from-gcs/", SMALL_PARTS)
    assert {e.verified for e in gcs_copy.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    assert (tmp_path / "from-gcs/src/big.bin").read_bytes() == files["big.bin"]


def test_volume_test_and_cleanup_on_azure(
    capsys: pytest.CaptureFixture[str], azurite: Azurite, azure_container: str
) -> None:
    add_azure_volume(azurite, azure_container)
    code, out, err = run(capsys, "volume", "test", "azure")
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines()] == ["list", "write", "read", "delete"]
    assert [b.name for b in azurite.service().get_container_client(azure_container).list_blobs()] == []

    code, out, err = run(capsys, "volume", "cleanup", "azure", "--older-than", "0s")
    assert code != 0 and "Azure keeps no list of unfinished uploads" in err and "azure" in err, err
    assert "Traceback" not in err


def test_volume_test_and_cleanup_on_gcs(capsys: pytest.CaptureFixture[str], gcs_xml: GcsXml, gcs_bucket: str) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    code, out, err = run(capsys, "volume", "test", "gcs")
    assert code == 0, err
    assert [line.split()[1] for line in out.splitlines()] == ["list", "write", "read", "delete"]
    assert gcs_xml.server.state.buckets[gcs_bucket] == {}

    code, out, err = run(capsys, "volume", "cleanup", "gcs", "--older-than", "0s")
    assert code != 0 and "managed only on s3 and r2 volumes" in err and "gcs" in err, err


def test_volume_test_names_a_wrong_azure_key(
    capsys: pytest.CaptureFixture[str], azurite: Azurite, azure_container: str
) -> None:
    add_azure_volume(azurite, azure_container, secret="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=")
    code, _, err = run(capsys, "volume", "test", "azure")
    assert code != 0 and "credentials error at volume azure (list)" in err, err


def test_cli_adds_an_azure_volume_with_a_sas_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, azurite: Azurite, azure_container: str
) -> None:
    monkeypatch.setenv("AZ_SAS", azurite_account_sas())
    code, _, err = run(
        capsys,
        *("volume", "add", "az", "--kind", "azure", "--bucket", azure_container, "--account-name", AZURITE_ACCOUNT),
        *("--endpoint", azurite.endpoint, "--allow-http", "--sas", "--secret-env", "AZ_SAS"),
    )
    assert code == 0, err
    code, out, err = run(capsys, "volume", "test", "az")
    assert code == 0 and "read back" in out, err
