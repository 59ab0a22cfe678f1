"""A killed download from Azure or GCS resumes from its parts (ranged reads work there as on S3); a killed upload to
Azure resumes from the blocks it staged (sdgui's own Put Block / Put Block List, block ids that carry each block's
MD5).

Uploads to GCS do not resume across processes: obstore runs their multipart uploads itself and hands out no upload
id, and its GCS URL signing needs IAM's signBlob, so a killed upload is sent again whole.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from blake3 import blake3

from sdgui.core.settings import MiB, TransferSettings
from tests.cloud_servers import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, GcsXml, azurite_account_sas
from tests.copying import add_azure_volume, add_gcs_volume
from tests.gcs_xml_server import StoredObject
from tests.test_cli import JsonLines, of_type, sdgui
from tests.test_resume import kill_when, partials, past, resume
from tests.throttling_proxy import ThrottlingProxy

SIZE = 24 * MiB  # above the single-GET threshold: the ranged, resumable path
RATE = 8 * 1000 * 1000
BLOCK = TransferSettings().upload_chunk_size


@pytest.mark.parametrize("provider", ["azure", "gcs"])
def test_killed_download_resumes_from_its_parts(
    provider: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    data = os.urandom(SIZE)
    digest = blake3(data).hexdigest()
    if provider == "azure":
        azurite: Azurite = request.getfixturevalue("azurite")
        container = request.getfixturevalue("azure_container")
        azurite.blob(container, "big.bin").upload_blob(data, metadata={"sdgui_blake3": digest})
        proxy = ThrottlingProxy(azurite.endpoint.rsplit("/", 1)[0], rate=RATE)
        add_azure_volume(azurite, container, "cloud", endpoint=f"{proxy.endpoint}/{AZURITE_ACCOUNT}")
    else:
        gcs_xml: GcsXml = request.getfixturevalue("gcs_xml")
        bucket = request.getfixturevalue("gcs_bucket")
        with gcs_xml.server.state.lock:
            md5 = hashlib.md5(data).digest()
            gcs_xml.server.state.buckets[bucket]["big.bin"] = StoredObject(
                data, {"sdgui-blake3": digest}, "application/octet-stream", 1, 1.7e9, md5, f'"{md5.hex()}"'
            )
        proxy = ThrottlingProxy(gcs_xml.endpoint, rate=RATE)
        add_gcs_volume(proxy.endpoint, bucket, "cloud")
    down = tmp_path / "down"
    down.mkdir()
    try:
        job_id = kill_when(JsonLines(sdgui("copy", "cloud:big.bin", f"{down}/", "--json")), past(0.4, SIZE))
        assert partials(down) == [f".big.bin.sdgui-{job_id}-0.part"]
        code, seen, err = resume(job_id)
    finally:
        proxy.close()
    assert code == 0, err
    [done] = of_type(seen, "file_done")
    assert (done["verified"], done["blake3"]) == ("verified", digest)
    assert done["bytes_resumed"] > 0  # what the killed run had written was kept, not fetched again
    assert (down / "big.bin").read_bytes() == data
    assert partials(down) == []


def staged_some(size: int) -> Any:
    """Matches the first progress event after an upload's first block and before its last."""
    return lambda e: e["type"] == "progress" and BLOCK <= e["bytes_done"] < size


@pytest.mark.parametrize("sas", [False, True], ids=["account-key", "sas-token"])
def test_killed_upload_to_azure_resumes_from_its_blocks(
    sas: bool, azurite: Azurite, azure_container: str, tmp_path: Path
) -> None:
    data = os.urandom(2 * TransferSettings().upload_concurrency * BLOCK)  # two rounds of blocks in flight
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    proxy = ThrottlingProxy(azurite.endpoint.rsplit("/", 1)[0], rate=RATE)
    secret = azurite_account_sas() if sas else AZURITE_KEY
    add_azure_volume(
        azurite, azure_container, "cloud", secret=secret, sas=sas, endpoint=f"{proxy.endpoint}/{AZURITE_ACCOUNT}"
    )
    try:
        # Killed once a block is staged: progress counts whole blocks and is told at most every 0.1 s, so a
        # fraction of the size could first be seen on the event after the last block, when the job commits.
        job_id = kill_when(JsonLines(sdgui("copy", str(source), "cloud:big.bin", "--json")), staged_some(len(data)))
    finally:
        proxy.close()
    blob = azurite.blob(azure_container, "big.bin")
    staged = blob.get_block_list("uncommitted")[1]
    assert staged, "the killed run had staged blocks"
    add_azure_volume(
        azurite, azure_container, "cloud", secret=secret, sas=sas
    )  # the same volume, now without the slow link
    code, seen, err = resume(job_id)
    assert code == 0, err
    [done] = of_type(seen, "file_done")
    # The staged blocks were proved by their size and the MD5 their ids carry, and kept.
    # (A block still on its way when the run was killed may land after the listing above: at least those.)
    assert done["bytes_resumed"] >= max(BLOCK, sum(b.size for b in staged))
    assert seen[-1]["bytes_transferred"] == len(data) - done["bytes_resumed"]
    assert blob.download_blob().readall() == data
    assert blob.get_blob_properties().metadata["sdgui_blake3"] == blake3(data).hexdigest()
    assert blob.get_block_list("uncommitted")[1] == []
