"""Cost of the Kernel 1 audit next to Kernel 1 itself, from the JSON of real runs.

  .venv/bin/python bench/audit_cost.py --scales 20 22 --ranks 2 [--kernels bfs]

Runs `mpiexec -n RANKS python -m graph500 -s SCALE --kernels K --roots 4 --skip-validation`
per SCALE and prints construction time, audit time and their ratio (both from one run, so the
ratio holds up on a busy machine better than either time)."""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scales", type=int, nargs="+", default=[20])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--kernels", default="bfs")
    a = p.parse_args()
    mpiexec = str(pathlib.Path(sys.executable).parent / "mpiexec")
    print("SCALE ranks kernels  construction_s  audit_s  audit/construction  entries")
    for scale in a.scales:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.json")
            subprocess.run([mpiexec, "-n", str(a.ranks), sys.executable, "-m", "graph500", "-s",
                            str(scale), "--kernels", a.kernels, "--roots", "4",
                            "--skip-validation", "--energy", "off", "--quiet", "--json", out],
                           check=True, cwd=str(ROOT), stdout=subprocess.DEVNULL)
            r = json.load(open(out))
        c, t = r["construction_time"], r["audit"]["time"]
        print("%5d %5d %-8s %14.3f %8.3f %19.1f%% %8d"
              % (scale, a.ranks, a.kernels, c, t, 100 * t / c, r["audit"]["entries"]))


if __name__ == "__main__":
    main()
