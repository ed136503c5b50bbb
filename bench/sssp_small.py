"""SSSP's small searches against large ones (issue 7 item 5): harmonic-mean TEPS at two SCALEs
and their ratio (target: SCALE 16 at least 0.75x SCALE 20, 2 ranks x 1 thread).

  python bench/sssp_small.py [--scales 16 20] [--ranks 2] [--roots 16] [--threads 1]

Runs, from the checkout it is started in (its .venv), for each SCALE:
  mpiexec -n RANKS .venv/bin/python -m graph500 -s S --kernels sssp --roots K
          --skip-validation --threads T --json FILE
and prints each harmonic mean, the mean search time, and the ratio of the first SCALE's
harmonic mean to the last's. MPI ranks busy-wait in collectives, so on a loaded machine the
search times (and SCALE 16's more than SCALE 20's: it has more rounds per edge) say more
about the load than about the code; bench/sssp_phases.py measures CPU time per step instead.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[16, 20])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--roots", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    venv = os.path.join(os.getcwd(), ".venv", "bin")
    hm = {}
    with tempfile.TemporaryDirectory() as tmp:
        for s in a.scales:
            out = os.path.join(tmp, "s%d.json" % s)
            cmd = [os.path.join(venv, "mpiexec"), "-n", str(a.ranks),
                   os.path.join(venv, "python"), "-m", "graph500", "-s", str(s),
                   "--kernels", "sssp", "--roots", str(a.roots), "--skip-validation",
                   "--threads", str(a.threads), "--quiet", "--json", out]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                r = json.load(f)["sssp"]
            hm[s] = r["harmonic_mean_TEPS"]
            print("SCALE %d: harmonic mean %.2f MTEPS, mean search %.4f s"
                  % (s, hm[s] / 1e6, r["mean_time"]), flush=True)
    if len(a.scales) > 1:
        print("ratio SCALE %d / SCALE %d: %.3f"
              % (a.scales[0], a.scales[-1], hm[a.scales[0]] / hm[a.scales[-1]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
