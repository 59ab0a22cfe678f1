"""A killed download from Azure or GCS resumes from its parts (ranged reads work there as on S3).

Uploads to Azure and GCS do not resume across processes: obstore runs their block/multipart uploads itself and
hands out no upload id, so a killed upload is sent again whole (what it staged is dropped: see the cancel tests).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core.settings import MiB
from tests.cloud_servers import AZURITE_ACCOUNT, Azurite, GcsXml
from tests.copying import add_azure_volume, add_gcs_volume
from tests.gcs_xml_server import StoredObject
from tests.test_cli import JsonLines, ThrottlingProxy, of_type, sdgui
from tests.test_resume import kill_when, partials, past, resume

SIZE = 24 * MiB  # above the single-GET threshold: the ranged, resumable path
RATE = 8 * 1000 * 1000


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
