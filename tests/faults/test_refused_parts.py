"""A resumed upload whose parts the service refuses at completion (400 InvalidPart, as rclone serve s3 answers
for a part an earlier run cut off) is sent again from the start, and the file's outcome says so."""

from __future__ import annotations

import os
from pathlib import Path

from blake3 import blake3

from sdgui.core.settings import MiB
from tests.faults.conftest import Volume
from tests.faults.proxy import FaultProxy, HttpFault
from tests.test_cli import JsonLines, of_type, sdgui
from tests.test_resume import resume

SIZE = 20 * MiB  # above the multipart threshold: a resumable multipart upload
COMPLETE = "uploadId="  # CompleteMultipartUpload is the one POST whose target names the upload


def test_resumed_upload_refused_at_completion_starts_over_and_says_so(
    faulty: Volume, proxy: FaultProxy, tmp_path: Path
) -> None:
    data = os.urandom(SIZE)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    # The first run sends every part, then its completion fails in a way that leaves the upload open.
    proxy.http_faults(
        HttpFault(1.0, status=400, code="MalformedXML", methods=frozenset({"POST"}), target_contains=COMPLETE)
    )
    code, seen, _ = JsonLines(sdgui("copy", str(source), "cloud:big.bin", "--json")).finish()
    assert code != 0
    job_id = str(of_type(seen, "job_started")[0]["job_id"])
    assert of_type(seen, "file_failed"), seen
    [upload] = faulty.server.client().list_multipart_uploads(Bucket=faulty.bucket)["Uploads"]
    assert upload["Key"] == "big.bin"  # left open for the resume, with its parts

    # On resume the held parts prove out against the file, but the service will not assemble them.
    proxy.http_faults(
        HttpFault(1.0, status=400, code="InvalidPart", methods=frozenset({"POST"}), target_contains=COMPLETE, times=1)
    )
    code, seen, err = resume(job_id)
    assert code == 0, err
    assert proxy.count("http-400") >= 2
    [done] = of_type(seen, "file_done")
    assert "refused the interrupted upload's parts (InvalidPart)" in done["note"]
    assert "uploaded again from the start" in done["note"]
    assert done["bytes_resumed"] == 0  # the parts reused at first were taken back when the file started over
    assert seen[-1]["bytes_transferred"] == SIZE
    assert faulty.read("big.bin") == data
    head = faulty.server.client().head_object(Bucket=faulty.bucket, Key="big.bin")
    metadata = {key.lower(): value for key, value in head["Metadata"].items()}
    assert metadata["sdgui-blake3"] == blake3(data).hexdigest()  # a restarted upload carries its blake3 too
    assert faulty.server.client().list_multipart_uploads(Bucket=faulty.bucket).get("Uploads", []) == []
