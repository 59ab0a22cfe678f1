#!/usr/bin/env python3
"""Copy a prefix of many small objects from `rclone serve s3` with the sdgui CLI: time to the first file done,
files/s, and the peak RSS of the sdgui process, for each count given.

    .venv/bin/python scripts/prefix_copy.py 100000 300000 [--per-dir 1000]

The objects are written straight into the directory rclone serves (fast), ``--per-dir`` to a folder so the
server's listing pages stay cheap (rclone re-reads a whole folder for every page of a flat one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACCESS, SECRET = "prefix-access", "prefix-secret-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill(bucket_dir: Path, count: int, per_dir: int) -> None:
    for n in range(count):
        folder = bucket_dir / "big" / f"d{n // per_dir:04d}"
        if n % per_dir == 0:
            folder.mkdir(parents=True)
        (folder / f"f{n:07d}.txt").write_bytes(b"x%d\n" % n)


def measure(count: int, work: Path, endpoint: str, env: dict[str, str]) -> dict[str, float | int]:
    out = work / f"out{count}"
    command = [str(BIN / "sdgui"), "copy", "bench:big/", f"{out}/", "--json"]
    started = time.monotonic()
    first: float | None = None
    done = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event["type"] == "file_done":
                done += 1
                if first is None:
                    first = time.monotonic() - started
            elif event["type"] in ("job_failed", "job_cancelled"):
                raise SystemExit(f"job ended: {event}")
    elapsed = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # this process's only child so far… the max
    shutil.rmtree(out)
    return {
        "files": count,
        "first_file_s": round(first or 0.0, 2),
        "files_per_s": round(done / elapsed, 1),
        "elapsed_s": round(elapsed, 1),
        "peak_rss_mb": round(peak_kib / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=int, nargs="+")
    parser.add_argument("--per-dir", type=int, default=1000)
    args = parser.parse_args()
    results = []
    for count in args.counts:  # one sdgui process per measurement: ru_maxrss of children is a running maximum
        code = subprocess.run(
            [sys.executable, __file__, "--one", str(count), "--per-dir", str(args.per_dir)],
            capture_output=True,
            text=True,
        )
        if code.returncode:
            print(code.stderr, file=sys.stderr)
            return 1
        results.append(json.loads(code.stdout.strip().splitlines()[-1]))
    print("| objects | first file done | files/s | peak RSS |")
    print("|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['files']:,} | {r['first_file_s']} s | {r['files_per_s']} | {r['peak_rss_mb']} MB |")
    return 0


def one(count: int, per_dir: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="sdgui-prefix-"))
    port = free_port()
    data = work / "data"
    (work / "rclone.conf").touch()
    fill(data / "bench", count, per_dir)
    server = subprocess.Popen(
        [str(BIN / "rclone"), "serve", "s3", "--config", str(work / "rclone.conf"), "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{ACCESS},{SECRET}", "--dir-cache-time", "1s", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        env = dict(os.environ, SDGUI_CONFIG_DIR=str(work / "cfg"), SDGUI_DATA_DIR=str(work / "state"))
        env["SDGUI_PREFIX_SECRET"] = SECRET
        subprocess.run(
            [str(BIN / "sdgui"), "volume", "add", "bench", "--kind", "s3", "--bucket", "bench", "--endpoint",
             f"http://127.0.0.1:{port}", "--access-key-id", ACCESS, "--secret-env", "SDGUI_PREFIX_SECRET",
             "--allow-http"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(json.dumps(measure(count, work, f"http://127.0.0.1:{port}", env)))
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        per = int(sys.argv[sys.argv.index("--per-dir") + 1]) if "--per-dir" in sys.argv else 1000
        sys.exit(one(int(sys.argv[2]), per))
    sys.exit(main())
