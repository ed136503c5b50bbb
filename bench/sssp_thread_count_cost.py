"""What makes tests/test_sssp.py's thread_runs fixture the slowest setup of the suite: the cost
of one SSSP search per Numba thread count, at the same number of exchange rounds.

  NUMBA_NUM_THREADS=3 mpiexec -n 2 .venv/bin/python bench/sssp_thread_count_cost.py \
      [--threads 1 2 3] [--par-min 1] [--scale 9] [--repeat 3] [--chunks C]

Builds tests/mpi_sssp_common.py's random graph (the one tests/mpi_sssp_threads.py uses first),
then for each thread count runs REPEAT searches from one root with the default delta and prints,
on rank 0, the exchange rounds per search (calls of _Search.agree, wrapped here), the wall time
and the CPU time of rank 0's process (all its threads). Equal rounds with very unequal CPU time
mean the cost is per round and comes from the threading, not from the algorithm.
par_min=1 chunks every pass (what the test does); a large par_min is the benchmark's default.

Measured on the shared 2-core machine under load (load average 8-10), 2 ranks, par_min=1:
102 rounds for 1, 2 and 3 threads; rank 0 CPU 0.14 s (1 thread), 2.1 s (2 threads),
0.08 s (3 threads) per search; the same with --chunks 8 or 12 (so the thread count, not the
chunk count), with NUMBA_THREADING_LAYER=omp, and at 3 ranks (107 rounds: 0.11, 2.5, 0.22 s);
with the default par_min (no chunking at this size) 2 threads cost no more than 1. Take ratios
within one run; the absolute times follow the load.

The cause: libgomp's idle threads spin between parallel regions when a process's team fits
its own mask (2 threads on 2 cores), and the spinning takes the core the other rank needs; with
more threads than cores it spins far less. With OMP_WAIT_POLICY=PASSIVE (lead, same load):
1 / 2 / 3 threads 0.014 / 0.037 / 0.032 s rank-0 CPU per search, against 0.031 / 1.393 / 0.069
without. The CLI now sets it on an oversubscribed node (graph500/threads.py), and the tests'
mpiexec runs set it (tests/mpi_util.py); set it by hand to reproduce the slow case here:
OMP_WAIT_POLICY=ACTIVE.
"""
import argparse
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [_ROOT, os.path.join(_ROOT, "tests")]
from graph500 import numba_cache  # noqa: E402

numba_cache.configure()          # the CLI's keyed cache, before Numba is imported

import numba  # noqa: E402
from mpi4py import MPI  # noqa: E402

import mpi_sssp_common as common  # noqa: E402
from graph500.kernels import sssp as K  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--par-min", type=int, default=1)
    ap.add_argument("--scale", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=0,
                    help="force this many chunks per pass (0: the workspace's own 4 x threads)")
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    rounds = [0]
    agree = K._Search.agree

    def counted(self, *args):
        rounds[0] += 1
        return agree(self, *args)

    K._Search.agree = counted
    src, dst, w = common.random_edges(a.scale, 8 << a.scale, 7)
    g = common.build_graph(comm, a.scale, src, dst, w)
    root = int(src[src != dst][0])
    ws = K.SSSPWorkspace(g, comm, par_min=a.par_min)
    if a.chunks:                                   # tells chunk count from thread count
        ws.par = lambda: (a.chunks, a.par_min)
    K.sssp(ws, root, K.DEFAULT_DELTA)            # loads every step from the Numba cache
    for t in a.threads:
        numba.set_num_threads(t)
        rounds[0] = 0
        comm.Barrier()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(a.repeat):
            K.sssp(ws, root, K.DEFAULT_DELTA)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if comm.Get_rank() == 0:
            print("ranks %d threads %d chunks %s par_min %d: %d rounds/search, wall %.3f s, "
                  "rank-0 CPU %.3f s per search" % (comm.Get_size(), t, a.chunks or "4 x threads", a.par_min,
                                                    rounds[0] // a.repeat, wall / a.repeat,
                                                    cpu / a.repeat), flush=True)


if __name__ == "__main__":
    main()
