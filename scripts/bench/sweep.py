"""--sweep: W1/W1d on SeaweedFS for a few part/chunk sizes and concurrencies (TransferSettings overrides), with
s5cmd and rclone at their defaults as the anchors.

The CLI takes no settings, so every sdgui figure here, the defaults included, comes from the core API in a
`python -c` subprocess (a FileCopyJob without the CLI's journal and output): compare sweep rows with each other,
not with the main table.
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from . import report, workloads
from .clients import Client, Rclone, S5cmd, SdguiApi, Volume
from .harness import Bench, Row, Sizes, write_random_file
from .servers import SeaweedServer

MiB = 1024 * 1024

# name, overrides: part size and concurrency of uploads and downloads moved together
SWEEP: list[tuple[str, dict[str, int]]] = [
    ("defaults", {}),
    ("parts 16 MiB", {"upload_chunk_size": 16 * MiB, "download_part_size": 16 * MiB}),
    ("parts 32 MiB", {"upload_chunk_size": 32 * MiB, "download_part_size": 32 * MiB}),
    ("parts 64 MiB", {"upload_chunk_size": 64 * MiB, "download_part_size": 64 * MiB}),
    ("concurrency 2", {"upload_concurrency": 2, "download_concurrency": 2}),
    ("concurrency 8", {"upload_concurrency": 8, "download_concurrency": 8}),
    ("concurrency 16", {"upload_concurrency": 16, "download_concurrency": 16}),
    ("32 MiB x 8", {"upload_chunk_size": 32 * MiB, "download_part_size": 32 * MiB, "upload_concurrency": 8,
                    "download_concurrency": 8}),
]  # fmt: skip


def _overrides_text(overrides: dict[str, int]) -> str:
    if not overrides:
        return "none"
    return ", ".join(f"{k}={v // MiB} MiB" if k.endswith("_size") else f"{k}={v}" for k, v in overrides.items())


def _cell(row: Row | None, client: str) -> str:
    if row is None or not row.runs.get(client):
        return "-"
    runs = row.runs[client]
    size_mb = row.size_bytes / 10**6
    wall = row.median(client) or 0.0
    cpu = sorted(m.cpu_s for m in runs)[len(runs) // 2]
    rss = max(m.maxrss_mb for m in runs)
    return f"{wall:.2f} s, {size_mb / wall:,.0f} MB/s, {cpu:.1f} CPU s, {rss:.0f} MB"


def run_sweep(args: argparse.Namespace, work: Path, log: Path) -> tuple[str, str, str]:
    started_at = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()[0]
    server = SeaweedServer(work / "seaweedfs")
    server.start()
    rows: list[tuple[str, Row | None, Row | None]] = []
    all_rows: list[Row] = []
    try:
        vol = Volume("seaweedfs", server, server.endpoint)
        big = work / "src" / f"big-{args.size_mib}MiB.bin"
        write_random_file(big, args.size_mib * MiB)
        sizes = Sizes(big_mib=args.size_mib)
        anchors: list[Client] = [S5cmd(work, [vol]), Rclone(work, [vol])]
        configs: list[tuple[str, list[Client]]] = [(c.name + " (defaults)", [c]) for c in anchors]
        configs += [
            (name, [SdguiApi(work / f"api-{i}", [vol], overrides)]) for i, (name, overrides) in enumerate(SWEEP)
        ]
        versions = {c.name: c.version() for c in [configs[-1][1][0], *anchors]}
        versions["weed"] = server.version()
        for name, clients in configs:
            for client in clients:
                client.work.mkdir(parents=True, exist_ok=True)
            bench = Bench(work, clients, sizes, args.runs, log)
            bench.seeded = {(id(server), workloads.BIG_KEY)} if rows else set()
            workloads.w1_upload(bench, vol, big)
            workloads.w1d_download(bench, vol, big)
            up, down = bench.rows
            for r in (up, down):
                r.size_bytes = big.stat().st_size
                r.label = f"{r.label}, {name}"
            rows.append((name, up, down))
            all_rows += bench.rows
    finally:
        server.stop()
    lines = [
        "| settings | client | W1 upload (median wall, rate, CPU, peak RSS) | W1d download |",
        "|---|---|---:|---:|",
    ]
    for (name, up_row, down_row), (_, config_clients) in zip(rows, configs, strict=True):
        who = config_clients[0].name
        lines.append(f"| {name} | {who} | {_cell(up_row, who)} | {_cell(down_row, who)} |")
    overrides = "; ".join(f"{name}: {_overrides_text(o)}" for name, o in SWEEP)
    section = "\n".join(
        [
            f"## Sweep of {started_at:%Y-%m-%d %H:%M %Z}: {args.size_mib} MiB up and down, SeaweedFS",
            "",
            *lines,
            "",
            f"- Machine: {report.machine_text()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} "
            f"after. Versions: {report.versions_text(versions)}.",
            f"- Median of {args.runs} run(s). sdgui through the core API (a FileCopyJob in a `python -c` "
            "subprocess, settings from an env var), verification on; s5cmd and rclone with their defaults.",
            f"- Overrides: {overrides}. Defaults: {report.transfer_settings_text()}.",
        ]
    )
    return section, "sweep", report.rows_json(all_rows)
