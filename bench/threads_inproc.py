"""Threads 2 vs 1 inside one process (one rank): Kernel 1 and BFS, interleaved, best of
REPEAT, so a shared machine's changing load hits both settings alike.

  NUMBA_NUM_THREADS=2 .venv/bin/mpiexec -n 1 .venv/bin/python bench/threads_inproc.py \\
      [SCALE] [REPEAT] [NROOTS]
"""
import sys
import time

import numba
import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.construct import construct_graph


def main():
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    nroots = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    comm = MPI.COMM_WORLD
    src, dst, _ = generate_edges(scale, 16, 2, 3, 0, 16 << scale)
    counts = sorted({1, numba.config.NUMBA_NUM_THREADS})
    s0, d0, _ = generate_edges(8, 16, 2, 3, 0, 16 << 8)
    for t in counts:                                  # compile outside the timings
        numba.set_num_threads(t)
        g0 = construct_graph(comm, 8, s0, d0)
        bfs(BFSWorkspace(g0, comm), 1)
    deg = None
    res = {t: {"construction": [], "bfs": []} for t in counts}
    for _ in range(repeat):
        for t in counts:
            numba.set_num_threads(t)
            t0 = time.perf_counter()
            g = construct_graph(comm, scale, src, dst)
            res[t]["construction"].append(time.perf_counter() - t0)
            if deg is None:
                deg = np.diff(g.rowptr)
                roots = choose_roots(scale, nroots, 2, 3, lambda c: deg[c] > 0)
            ws = BFSWorkspace(g, comm)
            total = 0.0
            for root in roots:
                ws.reset()
                t0 = time.perf_counter()
                bfs(ws, root)
                total += time.perf_counter() - t0
            res[t]["bfs"].append(total / len(roots))
            del g, ws
    print("SCALE %d, 1 rank, best of %d, threading layer %s (shared machine: compare ratios)"
          % (scale, repeat, numba.threading_layer()))
    base = {k: min(v) for k, v in res[counts[0]].items()}
    for t in counts:
        print("threads %d: construction %.3f s (speed-up %.2f), BFS mean %.4f s (speed-up %.2f)"
              % (t, min(res[t]["construction"]), base["construction"] / min(res[t]["construction"]),
                 min(res[t]["bfs"]), base["bfs"] / min(res[t]["bfs"])))


if __name__ == "__main__":
    main()
