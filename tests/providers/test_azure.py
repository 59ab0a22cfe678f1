"""Azure Blob end to end on Azurite: every strategy, provider checksums, cancel, errors, probe and cleanup."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import pytest
from blake3 import blake3

from sdgui.core import errors
from sdgui.core.backends.base import AZURE_BLAKE3_KEY, BLAKE3_KEY, MTIME_KEY, VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.events import JobEvent
from sdgui.core.journal import Journal
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeRegistry
from tests.cloud_servers import Azurite, azurite_account_sas
from tests.copying import add_azure_volume, make_job, run_copy, write_tree
from tests.providers.common import FAST_FAIL, SLOW_PARTS, SMALL_PARTS, open_backend


def _backend(name: str = "azure", settings: TransferSettings = SMALL_PARTS) -> VolumeBackend:
    return open_backend(name, settings)


def test_small_and_block_uploads_round_trip(azurite: Azurite, azure_container: str, tmp_path: Path) -> None:
    add_azure_volume(azurite, azure_container)
    big = os.urandom(12 * MiB + 123)
    tree = write_tree(tmp_path / "src", {"a.txt": b"hello azure\n", "sub/big.bin": big, "empty.bin": b""})
    os.utime(tree / "a.txt", (1_600_000_000.5, 1_600_000_000.5))

    up = run_copy([f"{tree}/"], "azure:backup/", SMALL_PARTS)
    assert up.final.type == "job_finished", up.final
    assert up.of("job_started")[0].strategy == "streaming upload"  # type: ignore[attr-defined]
    blob = azurite.blob(azure_container, "backup/src/sub/big.bin")
    assert blob.download_blob().readall() == big
    # Azure's metadata names are C# identifiers: the blake3 goes under an underscore, never a hyphen.
    metadata = blob.get_blob_properties().metadata
    assert metadata[AZURE_BLAKE3_KEY] == blake3(big).hexdigest() and BLAKE3_KEY not in metadata
    small = azurite.blob(azure_container, "backup/src/a.txt").get_blob_properties().metadata
    assert float(small[MTIME_KEY]) == pytest.approx(1_600_000_000.5)
    # The block upload committed its blocks and left none uncommitted.
    assert azurite.uncommitted_blocks(azure_container, "backup/src/sub/big.bin") == []

    down = run_copy(["azure:backup/src/"], f"{tmp_path}/restored/", SMALL_PARTS)
    assert down.final.type == "job_finished", down.final
    assert (tmp_path / "restored/src/sub/big.bin").read_bytes() == big
    assert (tmp_path / "restored/src/a.txt").read_bytes() == b"hello azure\n"
    assert (tmp_path / "restored/src/empty.bin").read_bytes() == b""
    assert {e.verified for e in down.of("file_done")} == {"verified"}  # type: ignore[attr-defined]
    assert (tmp_path / "restored/src/a.txt").stat().st_mtime == pytest.approx(1_600_000_000.5)


def test_ranged_download_of_a_blob_another_tool_wrote(azurite: Azurite, azure_container: str, tmp_path: Path) -> None:
    add_azure_volume(azurite, azure_container)
    data = os.urandom(9 * MiB + 7)
    azurite.blob(azure_container, "foreign.bin").upload_blob(data)  # one Put Blob: the service keeps its MD5
    run = run_copy(["azure:foreign.bin"], f"{tmp_path}/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert (tmp_path / "foreign.bin").read_bytes() == data
    [done] = run.of("file_done")
    assert done.blake3 == blake3(data).hexdigest()  # type: ignore[attr-defined]
    # Not written by sdgui, yet verified: by the Content-MD5 Azure computed when the SDK wrote it.
    assert (done.verified, done.check) == ("verified", "md5")  # type: ignore[attr-defined]
    small = os.urandom(1000)
    azurite.blob(azure_container, "small.bin").upload_blob(small)
    [done] = run_copy(["azure:small.bin"], f"{tmp_path}/", SMALL_PARTS).of("file_done")
    assert (done.verified, done.check) == ("verified", "md5")  # type: ignore[attr-defined]


def test_checksums_are_what_the_service_holds(azurite: Azurite, azure_container: str) -> None:
    add_azure_volume(azurite, azure_container)
    data = os.urandom(100_000)
    azurite.blob(azure_container, "put-blob.bin").upload_blob(data)
    served = azurite.blob(azure_container, "put-blob.bin").get_blob_properties().content_settings.content_md5
    assert bytes(served) == hashlib.md5(data).digest()  # what Azurite computed, as the SDK reads it
    # Staged blocks committed without a Content-MD5: the service has no whole-object MD5 to give.
    blocks = azurite.blob(azure_container, "blocks.bin")
    blocks.stage_block(base64.b64encode(b"block-1").decode(), data[:50_000])
    blocks.stage_block(base64.b64encode(b"block-2").decode(), data[50_000:])
    blocks.commit_block_list([base64.b64encode(b"block-1").decode(), base64.b64encode(b"block-2").decode()])

    backend = _backend()
    try:
        assert backend.stat("put-blob.bin").checksums == {}  # one request: no MD5
        assert backend.stat_with_checksums("put-blob.bin").checksums == {"md5": hashlib.md5(data).hexdigest()}
        entry, body = backend.read_whole("put-blob.bin")
        assert body == data and entry.checksums == {"md5": hashlib.md5(data).hexdigest()}
        assert backend.stat_with_checksums("blocks.bin").checksums == {}
        # A SAS-token volume reaches the same properties with its token.
        sas = azurite_account_sas()
        add_azure_volume(azurite, azure_container, "azure-sas", secret=sas, sas=True)
        sas_backend = _backend("azure-sas")
        try:
            assert sas_backend.stat_with_checksums("put-blob.bin").checksums == {"md5": hashlib.md5(data).hexdigest()}
            assert b"".join(sas_backend.read("put-blob.bin")) == data
        finally:
            sas_backend.close()
    finally:
        backend.close()


def test_server_side_copy_within_the_container(azurite: Azurite, azure_container: str, tmp_path: Path) -> None:
    add_azure_volume(azurite, azure_container)
    data = os.urandom(3 * MiB)
    (tmp_path / "f.bin").write_bytes(data)
    assert run_copy([str(tmp_path / "f.bin")], "azure:a/f.bin", SMALL_PARTS).final.type == "job_finished"
    run = run_copy(["azure:a/f.bin"], "azure:b/", SMALL_PARTS)
    assert run.final.type == "job_finished", run.final
    assert run.of("job_started")[0].strategy == "server-side copy"  # type: ignore[attr-defined]
    copied = azurite.blob(azure_container, "b/f.bin")
    assert copied.download_blob().readall() == data
    assert copied.get_blob_properties().metadata[AZURE_BLAKE3_KEY] == blake3(data).hexdigest()


@pytest.mark.parametrize("journaled", [True, False], ids=["journaled", "no-journal"])
def test_cancelled_block_upload_leaves_no_blob_and_no_uncommitted_blocks(
    azurite: Azurite, azure_container: str, tmp_path: Path, journaled: bool
) -> None:
    """Journaled (the CLI's and the window's jobs): sdgui's own Put Block upload; without: obstore's."""
    add_azure_volume(azurite, azure_container)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(48 * MiB))
    job = make_job([str(big)], "azure:big.bin", SLOW_PARTS)
    cancelled_at: list[float] = []

    def sink(event: JobEvent) -> None:
        if event.type == "progress" and event.bytes_done > 8 * MiB and not cancelled_at:  # type: ignore[attr-defined]
            cancelled_at.append(time.monotonic())
            job.cancel()

    with Journal(tmp_path / "journal.sqlite") as journal:
        job.journal = journal if journaled else None
        final = job.run(sink)
        assert [j.state for j in journal.unfinished_jobs()] == (["cancelled"] if journaled else [])
    assert cancelled_at, "the job finished before it could be cancelled"
    assert final.type == "job_cancelled"
    assert time.monotonic() - cancelled_at[0] < 2.0
    left = [(b.name, b.size) for b in azurite.service().get_container_client(azure_container).list_blobs()]
    assert left == [], (left, final)
    assert azurite.uncommitted_blocks(azure_container, "big.bin") == []


def test_wrong_key_missing_container_and_closed_port_say_what_and_where(
    azurite: Azurite, azure_container: str, closed_port_endpoint: str
) -> None:
    wrong = base64.b64encode(b"not the key" * 6).decode()
    add_azure_volume(azurite, azure_container, "azure-wrong", secret=wrong)
    add_azure_volume(azurite, "no-such-container", "azure-nobox")
    add_azure_volume(azurite, azure_container, "azure-closed", endpoint=f"{closed_port_endpoint}/devstoreaccount1")
    cases = {
        "azure-wrong": errors.CredentialsError,
        "azure-nobox": errors.NotFoundError,  # "the container does not exist" from the listing
        "azure-closed": errors.NetworkError,
    }
    for name, expected in cases.items():
        backend = _backend(name, FAST_FAIL)
        try:
            with pytest.raises(expected) as caught:
                list(backend.list(""))
            assert caught.value.volume == name, caught.value
            with pytest.raises(expected) as caught:
                backend.stat("some/file.bin")
            assert (caught.value.volume, caught.value.path) == (name, "some/file.bin"), caught.value
        finally:
            backend.close()


def test_a_refused_write_is_not_a_network_error(azurite: Azurite, azure_container: str) -> None:
    """Azure's 400 for a metadata name it refuses (as `sdgui-blake3` once was) fails at once: never retried."""
    import obstore

    from sdgui.core.backends.azure import AzureBackend
    from sdgui.core.backends.obstore_errors import translated

    add_azure_volume(azurite, azure_container)
    backend = _backend()
    try:
        assert isinstance(backend, AzureBackend)
        with pytest.raises(errors.SdError) as caught, translated("azure", "x.bin"):
            obstore.put(backend.store, "x.bin", b"x", attributes={BLAKE3_KEY: "1"}, use_multipart=False)
        assert type(caught.value) is errors.SdError and not caught.value.retryable
        assert (caught.value.status, caught.value.service_code) == (400, "InvalidMetadata")
    finally:
        backend.close()


def test_cache_opens_azure_volumes(azurite: Azurite, azure_container: str) -> None:
    add_azure_volume(azurite, azure_container)
    cache = BackendCache(VolumeRegistry())
    try:
        assert cache.get("azure").capabilities.server_side_copy
    finally:
        cache.close()
