"""SSSP (Kernel 3) before/after in one process, as bench/bfs_ab.py for BFS: times sssp() (the
1-D kernel) or sssp2d() (--2d) of this checkout against the `kernels` package of another
source tree on the same weighted graph (edgefactor 16, seed 2 3), interleaved per root, each
search at its kernel's default delta, and reports wall and CPU time (time.process_time, max
over ranks, which a shared machine's load hits far less than the wall clock): per root the
least of REPEAT sweeps, summed. Both trees must give the same distances bit for bit, and
here the same parents too (checked on every search; exits 1 when they differ), unless
--ties: a change of relaxation order may pick another parent among equal distances, so then
only the distances are compared (run the validator's tests for the parents).

  mkdir -p /tmp/old && git archive <commit> kernels | tar -x -C /tmp/old
  rm -rf /tmp/old/oldkernels && mv /tmp/old/kernels /tmp/old/oldkernels
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/sssp_ab.py \\
      /tmp/old SCALE [--2d] [--roots 8] [--repeat 3]
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500.kernels.construct import construct_graph
from graph500.kernels.construct2d import construct_graph2d
from graph500.kernels.sssp import SSSPWorkspace, sssp
from graph500.kernels.sssp2d import SSSP2DWorkspace, sssp2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bfs_ab import benchmark_tuples, roots_with_edges  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("scale", type=int)
    ap.add_argument("--2d", dest="two_d", action="store_true",
                    help="the 2-D kernel (kernels/sssp2d.py) on the 2-D layout")
    ap.add_argument("--roots", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ties", action="store_true",
                    help="compare distances only (parents may differ on ties)")
    args = ap.parse_args()
    sys.path.insert(0, args.old)
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    src, dst, w = benchmark_tuples(comm, args.scale, weights=True)
    g1 = construct_graph(comm, args.scale, src, dst, w)
    roots = roots_with_edges(comm, g1, args.roots)   # the same for both layouts
    if args.two_d:
        del g1
        g = construct_graph2d(comm, args.scale, src, dst, w)
        old = importlib.import_module("oldkernels.sssp2d")
        kinds = {"before": (old.SSSP2DWorkspace(g, comm), old.sssp2d),
                 "after": (SSSP2DWorkspace(g, comm), sssp2d)}
    else:
        g = g1
        old = importlib.import_module("oldkernels.sssp")
        kinds = {"before": (old.SSSPWorkspace(g, comm), old.sssp),
                 "after": (SSSPWorkspace(g, comm), sssp)}
    del src, dst, w
    for ws, f in kinds.values():              # compile outside the timings
        ws.reset()
        f(ws, roots[0])
    best = {k: np.full((len(roots), 2), np.inf) for k in kinds}
    for _ in range(args.repeat):
        for j, root in enumerate(roots):
            out = {}
            for name, (ws, f) in kinds.items():
                ws.reset()
                comm.Barrier()
                t0, c0 = time.perf_counter(), time.process_time()
                dist, parent = f(ws, root)
                comm.Barrier()
                wall = time.perf_counter() - t0
                cpu = comm.allreduce(time.process_time() - c0, op=MPI.MAX)
                best[name][j] = np.minimum(best[name][j], (wall, cpu))
                out[name] = (dist.view(np.uint32).copy(), parent.copy())
            pairs = list(zip(out["before"], out["after"]))[:1 if args.ties else 2]
            same = all(np.array_equal(a, b) for a, b in pairs)
            if not comm.allreduce(same, op=MPI.LAND):
                if r == 0:
                    print("root %d: distances%s differ" % (root, "" if args.ties else
                                                           " or parents"))
                sys.exit(1)
    best = {k: v.sum(axis=0) for k, v in best.items()}
    if r == 0:
        b, a = best["before"], best["after"]
        print("%s SCALE %d, %d ranks, %d roots, per-root best of %d sweeps: wall before %.3f s "
              "after %.3f s (after/before %.2f); cpu (max over ranks) before %.3f s after "
              "%.3f s (after/before %.2f); distances%s identical"
              % ("sssp2d" if args.two_d else "sssp", args.scale, p, len(roots), args.repeat,
                 b[0], a[0], a[0] / b[0], b[1], a[1], a[1] / b[1],
                 "" if args.ties else " and parents"))


if __name__ == "__main__":
    main()
