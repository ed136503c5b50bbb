"""Estimate against measurement: the memory preflight's estimate per node next to the peak
resident memory the ranks really reached (JSON `peak_rss_bytes`, summed over ranks).

    .venv/bin/python bench/memory_estimate.py --scales 20 22 --ranks 2 --roots 2
    .venv/bin/python bench/memory_estimate.py --scales 24 --kernels bfs bfs,sssp

Each (SCALE, kernels) is one real run under .venv/bin/mpiexec (or $MPIEXEC); check `free -g`
before large SCALEs (SCALE 26 with SSSP needs about 20 GiB on 2 ranks). Numba's cache should
be warm (run once at a small SCALE first): a cold compile's own peak is not part of the model.
Prints one row per run: the estimate, the measured sum, their ratio, and each phase's share.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from graph500.memory import BASE_BYTES, phase_bytes  # noqa: E402


def run(scale, kernels, ranks, roots, edgefactor, extra):
    mpiexec = os.environ.get("MPIEXEC") or os.path.join(ROOT, ".venv", "bin", "mpiexec")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "graph500", "-s", str(scale),
               "-e", str(edgefactor), "--roots", str(roots), "--kernels", kernels, "--quiet",
               "--json", out] + extra
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            sys.exit("run failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
        with open(out) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", type=int, nargs="+", default=[16, 18, 20])
    ap.add_argument("--kernels", nargs="+", default=["bfs", "bfs,sssp"])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--roots", type=int, default=2)
    ap.add_argument("-e", "--edgefactor", type=int, default=16)
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="more graph500 options after --")
    a = ap.parse_args()
    extra = [x for x in a.extra if x != "--"]
    mib = 1 << 20
    print("%5s %-9s %5s %11s %11s %6s   %s" % ("SCALE", "kernels", "ranks", "estimate",
                                                "measured", "ratio", "phases (MiB, + base)"))
    worst = 0.0
    for scale in a.scales:
        for kernels in a.kernels:
            r = run(scale, kernels, a.ranks, a.roots, a.edgefactor, extra)
            est = sum(r["memory_estimate_bytes"])
            meas = sum(r["peak_rss_bytes"])
            ratio = est / meas
            worst = max(worst, abs(ratio - 1))
            phases = phase_bytes(scale, a.edgefactor, a.ranks, tuple(kernels.split(",")),
                                 r.get("delta"))
            print("%5d %-9s %5d %8.0f MiB %8.0f MiB %6.3f   %s  per rank measured %s" % (
                scale, kernels, a.ranks, est / mib, meas / mib, ratio,
                " ".join("%s %.0f" % (k, v / mib) for k, v in phases.items()),
                "/".join("%.0f" % (x / mib) for x in r["peak_rss_bytes"])), flush=True)
    print("base %.0f MiB per rank; worst deviation %.1f %%" % (BASE_BYTES / mib, 100 * worst))


if __name__ == "__main__":
    main()
