"""Kernel 1 audit before/after in one process: times audit.local_sums (the hash sums over the
generated tuples and the CSR) of this checkout against the `kernels` package of another
source tree on the same weighted graph, interleaved, best of REPEAT, in wall and CPU time
(time.process_time, max over ranks); both must give the same sums (exits 1 otherwise).

  mkdir -p /tmp/old && git archive <commit> kernels | tar -x -C /tmp/old
  rm -rf /tmp/old/oldkernels && mv /tmp/old/kernels /tmp/old/oldkernels
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/audit_ab.py \\
      /tmp/old SCALE [--repeat 5]
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500.kernels.audit import local_sums
from graph500.kernels.construct import construct_graph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bfs_ab import benchmark_tuples  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("scale", type=int)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sys.path.insert(0, args.old)
    old = importlib.import_module("oldkernels.audit").local_sums
    comm = MPI.COMM_WORLD
    src, dst, w = benchmark_tuples(comm, args.scale, weights=True)
    g = construct_graph(comm, args.scale, src, dst, w)
    kinds = {"before": old, "after": local_sums}
    sums = {k: f(g, src, dst, w) for k, f in kinds.items()}   # compile outside the timings
    same = np.array_equal(sums["before"], sums["after"])
    if not comm.allreduce(same, op=MPI.LAND):
        if comm.Get_rank() == 0:
            print("the audit sums differ")
        sys.exit(1)
    best = {k: np.array([np.inf, np.inf]) for k in kinds}
    for _ in range(args.repeat):
        for name, f in kinds.items():
            comm.Barrier()
            t0, c0 = time.perf_counter(), time.process_time()
            f(g, src, dst, w)
            comm.Barrier()
            wall = time.perf_counter() - t0
            cpu = comm.allreduce(time.process_time() - c0, op=MPI.MAX)
            best[name] = np.minimum(best[name], (wall, cpu))
    if comm.Get_rank() == 0:
        b, a = best["before"], best["after"]
        print("audit SCALE %d, %d ranks, best of %d: wall before %.3f s after %.3f s "
              "(after/before %.2f); cpu (max over ranks) before %.3f s after %.3f s "
              "(after/before %.2f); sums identical"
              % (args.scale, comm.Get_size(), args.repeat, b[0], a[0], a[0] / b[0], b[1],
                 a[1], a[1] / b[1]))


if __name__ == "__main__":
    main()
