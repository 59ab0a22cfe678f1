"""Test-side plumbing: register a server's bucket as a volume and run copy jobs, collecting their events."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.events import JobEvent
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.paths import SdPath
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from tests.cloud_servers import AZURITE_ACCOUNT, AZURITE_KEY, Azurite, gcs_service_account
from tests.servers import S3Server


def add_volume(
    server: S3Server, bucket: str, name: str = "cloud", *, secret: str | None = None, endpoint: str | None = None
) -> VolumeConfig:
    """Register ``bucket`` on ``server`` as volume ``name``; the secret travels through an environment variable."""
    env = f"SDGUI_TEST_SECRET_{name.upper().replace('-', '_')}"
    os.environ[env] = secret if secret is not None else server.secret_access_key
    config = VolumeConfig(
        name,
        "s3",
        bucket=bucket,
        endpoint=endpoint or server.endpoint,
        access_key_id=server.access_key_id,
        secret_env=env,
        allow_http=True,
    )
    registry = VolumeRegistry()
    registry.add(config, replace=True)
    registry.save()
    return config


def _secret_env(name: str, secret: str) -> str:
    env = f"SDGUI_TEST_SECRET_{name.upper().replace('-', '_')}"
    os.environ[env] = secret
    return env


def add_azure_volume(
    azurite: Azurite,
    container: str,
    name: str = "azure",
    *,
    secret: str = AZURITE_KEY,
    sas: bool = False,
    endpoint: str | None = None,
) -> VolumeConfig:
    """Register an Azurite container as volume ``name`` (account key, or with ``sas`` a SAS token, by env var)."""
    config = VolumeConfig(
        name,
        "azure",
        bucket=container,
        endpoint=endpoint or azurite.endpoint,
        access_key_id=AZURITE_ACCOUNT,
        secret_env=_secret_env(name, secret),
        allow_http=True,
        sas=sas or None,
    )
    registry = VolumeRegistry()
    registry.add(config, replace=True)
    registry.save()
    return config


def add_gcs_volume(endpoint: str, bucket: str, name: str = "gcs") -> VolumeConfig:
    """Register a bucket of a local GCS server as volume ``name``; its service-account JSON travels by env var."""
    config = VolumeConfig(
        name,
        "gcs",
        bucket=bucket,
        secret_env=_secret_env(name, json.dumps(gcs_service_account(endpoint))),
        allow_http=True,
    )
    registry = VolumeRegistry()
    registry.add(config, replace=True)
    registry.save()
    return config


@dataclass
class JobRun:
    """A finished job with every event it reported, in order."""

    final: JobEvent
    events: list[JobEvent] = field(default_factory=list)

    def of(self, kind: str) -> list[JobEvent]:
        return [e for e in self.events if e.type == kind]


def make_job(
    sources: list[str], destination: str, settings: TransferSettings | None = None, **options: object
) -> FileCopyJob:
    action = CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination), CopyOptions(**options))  # type: ignore[arg-type]
    return FileCopyJob(action, BackendCache(VolumeRegistry(), settings=settings))


def run_copy(
    sources: list[str], destination: str, settings: TransferSettings | None = None, **options: object
) -> JobRun:
    job = make_job(sources, destination, settings, **options)
    events: list[JobEvent] = []
    final = job.run(events.append)
    return JobRun(final, events)


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_object(server: S3Server, bucket: str, key: str) -> bytes:
    return server.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def put_in_parts(server: S3Server, bucket: str, key: str, data: bytes, part: int = 5 * MiB) -> None:
    """A multipart upload with no checksums, as older tools (and s5cmd) write them."""
    client = server.client()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), part), 1):
        answer = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data[start : start + part]
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert client.head_object(Bucket=bucket, Key=key)["ETag"].endswith(f'-{len(parts)}"')


def put_multipart(server: S3Server, bucket: str, key: str, data: bytes, algorithm: str, part_size: int) -> str:
    """Upload ``data`` in parts of ``part_size``, each with its ``algorithm`` checksum, as boto3 or the aws cli
    would; returns the composite checksum the server keeps (base64, perhaps with -N)."""
    client = server.client()
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), start=1):
        answer = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=data[start : start + part_size],
            ChecksumAlgorithm=algorithm,
        )  # fmt: skip
        parts.append(
            {"PartNumber": number, "ETag": answer["ETag"], f"Checksum{algorithm}": answer[f"Checksum{algorithm}"]}
        )
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    return str(client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")[f"Checksum{algorithm}"])
