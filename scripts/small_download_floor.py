"""The floor of a verified small-file download in Python: a bare obstore loop beside sdgui and s5cmd.

    .venv/bin/python scripts/small_download_floor.py [--files 1000] [--rounds 4]

Starts SeaweedFS on loopback, puts FILES x 64 KiB there with s5cmd, then downloads them, round after round, with:
the least a verified download does (obstore GETs from 64 threads, MD5 against the ETag and blake3 of each body, a
temporary name, a rename, one syncfs at the end), the same on one asyncio loop, `sdgui copy`, and s5cmd. Prints the
median wall time of each. Figures, not assertions (docs/performance.md, 2026-12-06: what limits W2d).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench.clients import S5cmd, Sdgui, Volume  # noqa: E402
from scripts.bench.harness import write_small_files  # noqa: E402
from scripts.bench.servers import SeaweedServer  # noqa: E402

PREFIX = "floor"

# The prototype, run as `python -c PROTOTYPE MODE URL KEY SECRET COUNT OUT` so that each run pays its own start.
PROTOTYPE = """
import asyncio, hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
import obstore
from blake3 import blake3
from obstore.store import S3Store

mode, url, key_id, secret, count, out = sys.argv[1:7]
store = S3Store(
    "bench", endpoint=url, access_key_id=key_id, secret_access_key=secret, region="us-east-1",
    client_options={"allow_http": True}, virtual_hosted_style_request=False,
)
keys = [f"floor/f{i:06d}.bin" for i in range(int(count))]

def finish(key, data, etag):
    if hashlib.md5(data).hexdigest() != etag.strip('"'):
        sys.exit(f"{key}: MD5 differs from the ETag")
    blake3(data).hexdigest()
    name = key.rsplit("/", 1)[1]
    temp = os.path.join(out, "." + name + ".part")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, data)
    os.close(fd)
    os.rename(temp, os.path.join(out, name))

if mode == "async":
    async def one(room, key):
        async with room:
            result = await obstore.get_async(store, key)
            finish(key, bytes(await result.bytes_async()), result.meta["e_tag"])
    async def main():
        room = asyncio.Semaphore(64)
        await asyncio.gather(*(one(room, key) for key in keys))
    asyncio.run(main())
else:
    def one(key):
        result = obstore.get(store, key)
        finish(key, bytes(result.bytes()), result.meta["e_tag"])
    with ThreadPoolExecutor(64) as pool:
        list(pool.map(one, keys))
fd = os.open(out, os.O_RDONLY)
os.syncfs(fd) if hasattr(os, "syncfs") else os.sync()
os.close(fd)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdgui-floor-"))
    server = SeaweedServer(work / "seaweedfs")
    server.start()
    try:
        vol = Volume("bench", server, server.endpoint)
        sdgui, s5cmd = Sdgui(work, [vol]), S5cmd(work, [vol])
        source = work / "source"
        write_small_files(source, args.files, 64 * 1024)
        subprocess.run(s5cmd.upload_dir(source, vol, PREFIX), env=s5cmd.env_for(vol), check=True, capture_output=True)
        python = sys.executable
        secret = (server.access_key, server.secret_key)

        def commands(out: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
            def prototype(mode: str) -> list[str]:
                return [python, "-c", PROTOTYPE, mode, server.endpoint, *secret, str(args.files), str(out)]

            return {
                "prototype, 64 threads": (prototype("threads"), sdgui.env),
                "prototype, asyncio": (prototype("async"), sdgui.env),
                "sdgui copy": (sdgui.download_dir(vol, PREFIX, out), sdgui.env),
                "s5cmd cp": (s5cmd.download_dir(vol, PREFIX, out), s5cmd.env_for(vol)),
            }

        times: dict[str, list[float]] = {name: [] for name in commands(work)}
        runs = 0
        for _ in range(args.rounds):
            for name in times:
                runs += 1
                out = work / "dl" / str(runs)  # a fresh folder each run: nothing deleted just before (see the doc)
                out.mkdir(parents=True)
                command, env = commands(out)[name]
                started = time.monotonic()
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=work)
                times[name].append(time.monotonic() - started)
                got = sum(1 for path in out.rglob("*.bin") if path.is_file())
                if got != args.files:
                    raise SystemExit(f"{name}: {got} files of {args.files}")
        for name, values in times.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"{name:24s} median {statistics.median(values):.2f} s  ({shown})")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
