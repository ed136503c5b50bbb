"""SSSP threads on one rank: time and result hashes per thread count, in one process.

  python bench/sssp_threads.py SCALE [THREADS ...] [--roots K]

Builds the benchmark graph (edgefactor 16) on one rank, then for each thread count runs the
same K roots (after one untimed search) and prints the mean search time, the speedup over
the first thread count, the CPU time of all threads (on a loaded machine the wall-clock
speedup says little; CPU time near the one-thread time says the threads add little work),
and hashes of the distance and parent arrays: equal hashes across
thread counts are the invariance the kernel promises (issue 8 item 1). Timings taken while
other work runs are noisy: compare ratios within one run.
"""
import argparse
import hashlib
import time

import numba
import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.kernels.construct import construct_graph
from graph500.kernels.sssp import SSSPWorkspace, sssp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--roots", type=int, default=4)
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    m = 16 << a.scale
    src, dst, w = generate_edges(a.scale, 16, 2, 3, 0, m, weights=True)
    g = construct_graph(comm, a.scale, src, dst, w)
    del src, dst, w
    ws = SSSPWorkspace(g, comm)
    deg = np.diff(g.rowptr)
    roots = [int(r) for r in np.flatnonzero(deg > 0)[:: max(1, len(deg) // 97)][: a.roots]]
    base = None
    for t in a.threads:
        numba.set_num_threads(t)
        ws.reset()
        sssp(ws, roots[0])     # untimed: compiles or loads this thread count's code paths
        times, cpu, h = [], [], hashlib.sha256()
        for r in roots:
            ws.reset()
            c0 = time.process_time()
            t0 = time.perf_counter()
            dist, parent = sssp(ws, r)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            h.update(dist.tobytes())
            h.update(parent.tobytes())
        mean = float(np.mean(times))
        base = base or mean
        print("SCALE %d threads %d: mean %.4f s over %d roots, speedup %.2f, CPU %.4f s "
              "(all threads), hash %s" % (a.scale, t, mean, len(roots), base / mean,
                                          float(np.mean(cpu)), h.hexdigest()[:16]), flush=True)


if __name__ == "__main__":
    main()
