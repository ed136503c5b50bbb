"""Where a 2-D SSSP search (kernels/sssp2d.py) spends its time, step by step, per thread count.

    NUMBA_NUM_THREADS=2 mpiexec -n P python bench/sssp2d_phases.py SCALE [--threads 1,2]
                                                                [--roots K]

Wraps the compiled steps the search calls from Python (extract, the settled set's words,
unpack, relax, pack, apply, re-bucket) and the MPI exchanges with counters of calls, wall
time and process CPU time (all the rank's threads) spent inside them, then runs K searches
per thread count (after an untimed one) on the benchmark graph (edgefactor 16). Prints, for
rank 0, per search and step: calls, wall and CPU milliseconds. A step whose wall time falls
with threads while its CPU time stays put spreads well; a step that keeps its wall time is
still serial (or too small to chunk). Works on the tree before threads too (the steps take
no `par` argument there; unknown names are skipped). The wrappers add about a microsecond
per call. Timings taken on a loaded machine are noisy: compare within one run.
"""
import argparse
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from graph500 import numba_cache  # noqa: E402

numba_cache.configure()

import numba  # noqa: E402
from mpi4py import MPI  # noqa: E402
from sssp2d_threads import graph2d_and_roots  # noqa: E402

import graph500.kernels.sssp2d as K  # noqa: E402

STEPS = ("_extract", "_pack_settled", "_unpack_frontier", "_relax", "_pack", "_apply",
         "_rebucket", "alltoallv_known", "_agree")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--roots", type=int, default=3)
    a = ap.parse_args()

    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    g, roots = graph2d_and_roots(comm, a.scale, a.roots)
    ws = K.SSSP2DWorkspace(g, comm)
    tally = {}

    def wrap(name, f):
        def timed(*args, **kw):
            c0, t0 = time.process_time(), time.perf_counter()
            try:
                return f(*args, **kw)
            finally:
                e = tally.setdefault(name, [0, 0.0, 0.0])
                e[0] += 1
                e[1] += time.perf_counter() - t0
                e[2] += time.process_time() - c0
        return timed

    # compile (or load) everything first: Numba resolves a step's callees when it compiles
    # it, and would find a wrapper where it expects a compiled function
    ws.reset()
    K.sssp2d(ws, roots[0])
    for name in STEPS:
        if hasattr(K, name):
            setattr(K, name, wrap(name, getattr(K, name)))
    for t in [int(x) for x in a.threads.split(",")]:
        numba.set_num_threads(t)
        ws.reset()
        K.sssp2d(ws, roots[0])
        tally.clear()
        wall = cpu = 0.0
        for root in roots:
            ws.reset()
            comm.Barrier()
            c0, t0 = time.process_time(), time.perf_counter()
            K.sssp2d(ws, root)
            wall += time.perf_counter() - t0
            cpu += time.process_time() - c0
        if rank == 0:
            k = len(roots)
            print("SCALE %d, %d ranks, %d threads: search wall %.1f ms, CPU %.1f ms (rank 0)"
                  % (a.scale, p, t, 1e3 * wall / k, 1e3 * cpu / k))
            for name in STEPS:
                if name in tally:
                    c, tw, tc = tally[name]
                    print("  %-17s %8.1f calls %9.2f ms wall %9.2f ms CPU"
                          % (name, c / k, 1e3 * tw / k, 1e3 * tc / k))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
