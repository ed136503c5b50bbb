"""Validation cost against the search it checks, per SCALE (issue: validation bounded).

    python bench/validation.py [--scales 20 22 24 26] [--ranks 2] [--roots 4]
                               [--kernels bfs,sssp] [--min-free-gib 16]

For each SCALE it runs `mpiexec -n RANKS python -m graph500 -s SCALE --roots ROOTS --json ...`
(validated) and prints one line per kernel: SCALE, kernel, mean search seconds, mean
validation seconds, their ratio, and the peak RSS of the busiest rank. Both means come from
the same run, so the ratio holds up on a loaded machine better than either time does.
Before a run at SCALE 24 or more it checks MemAvailable and skips the SCALE (saying so) when
less than --min-free-gib GiB are free.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def mem_available_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / (1 << 20)
    return float("inf")


def run(scale, ranks, roots, kernels):
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "graph500", "-s", str(scale),
               "--roots", str(roots), "--kernels", kernels, "--json", out, "--quiet"]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
        if res.returncode != 0:
            sys.exit("SCALE %d failed:\n%s" % (scale, res.stderr[-3000:]))
        with open(out) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=int, nargs="+", default=[20, 22, 24, 26])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--kernels", default="bfs,sssp")
    ap.add_argument("--min-free-gib", type=float, default=16.0)
    args = ap.parse_args()
    print("%5s  %-6s %12s %14s %7s %10s" % ("SCALE", "kernel", "search_s", "validate_s",
                                            "ratio", "rss_GiB"), flush=True)
    for scale in args.scales:
        free = mem_available_gib()
        if scale >= 24 and free < args.min_free_gib:
            print("%5d  skipped: %.1f GiB available, fewer than %.0f" %
                  (scale, free, args.min_free_gib), flush=True)
            continue
        r = run(scale, args.ranks, args.roots, args.kernels)
        rss = max(r.get("peak_rss_bytes") or [0]) / (1 << 30)
        for k in args.kernels.split(","):
            t = r[k]["time"]
            v = r[k]["validate_time"]
            ts, vs = sum(t) / len(t), sum(v) / len(v)
            print("%5d  %-6s %12.4f %14.4f %7.2f %10.2f" % (scale, k, ts, vs, vs / ts, rss),
                  flush=True)


if __name__ == "__main__":
    main()
