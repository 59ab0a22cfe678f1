"""Transfer settings: chunk sizes and concurrency, with defaults chosen by benchmark (see README)."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class TransferSettings:
    """How big the pieces are and how many move at once.

    Defaults come from measurements against ``rclone serve s3`` on loopback: upload speed is flat from
    5 MiB x 4 to 64 MiB x 16 (the server is the bottleneck) while memory grows with both, so uploads
    use small parts; downloads gain 3x from parallel ranged GETs.
    """

    upload_chunk_size: int = 8 * MiB
    upload_concurrency: int = 4
    download_part_size: int = 16 * MiB
    download_concurrency: int = 6
    multipart_threshold: int = 16 * MiB
    file_concurrency: int = 16
    large_file_slots: int = 2
    read_timeout_s: float = 60.0
    connect_timeout_s: float = 10.0
