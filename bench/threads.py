"""Thread scaling of Kernel 1 and BFS on one node: `--threads 2` against `--threads 1`.

  .venv/bin/python bench/threads.py [--scale 20] [--ranks 1] [--threads 1 2] [--repeat 2]
                                    [--tree DIR]

Runs `mpiexec -n RANKS python -m graph500 -s SCALE --kernels bfs --roots 8
--skip-validation --threads T` for each T, REPEAT times interleaved (so a change in the
machine's load hits every setting alike), and prints construction time and BFS mean time
(the best of the repeats) with their ratios to the first thread count. `--tree DIR` runs
another checkout's sources (e.g. a `git archive` of an older commit) for a before/after
comparison under the same conditions. Timings on a shared machine are noisy: compare ratios
from one invocation, not numbers across invocations.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def one(args, threads, out):
    env = dict(os.environ, PYTHONPATH=str(args.tree or ROOT), NUMBA_NUM_THREADS=str(threads))
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    cmd = [str(mpiexec), "-n", str(args.ranks), sys.executable, "-m", "graph500", "-s",
           str(args.scale), "--kernels", "bfs", "--roots", str(args.roots), "--skip-validation",
           "--threads", str(threads), "--quiet", "--json", out]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd=str(args.tree or ROOT))
    r = json.loads(pathlib.Path(out).read_text())
    return r["construction_time"], r["bfs"]["mean_time"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=int, default=20)
    p.add_argument("--ranks", type=int, default=1)
    p.add_argument("--roots", type=int, default=8)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--tree", default=None, help="run this source tree instead of this checkout")
    args = p.parse_args()
    best = {t: [float("inf"), float("inf")] for t in args.threads}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(args.repeat):
            for t in args.threads:
                c, b = one(args, t, os.path.join(d, "r.json"))
                best[t] = [min(best[t][0], c), min(best[t][1], b)]
    t0 = args.threads[0]
    print("SCALE %d, %d ranks, best of %d (loaded machine: compare ratios)"
          % (args.scale, args.ranks, args.repeat))
    print("threads  construction_s  ratio  bfs_mean_s  ratio")
    for t in args.threads:
        c, b = best[t]
        print("%7d  %14.3f  %5.2f  %10.4f  %5.2f" % (t, c, best[t0][0] / c, b, best[t0][1] / b))


if __name__ == "__main__":
    main()
