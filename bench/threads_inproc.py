"""Threads 2 vs 1 inside one process (one rank): Kernel 1 and BFS, interleaved, best of
REPEAT, so a shared machine's changing load hits both settings alike.

  NUMBA_NUM_THREADS=2 .venv/bin/mpiexec -n 1 .venv/bin/python bench/threads_inproc.py \\
      [SCALE] [REPEAT] [NROOTS] [--phases]

Besides wall time it reports CPU time (time.process_time: all threads of the process) and
its ratio to one thread's: the work a thread count adds (forks, joins, split passes,
spinning). On a loaded machine the wall speed-up is capped by the cores the other users
leave, but the CPU ratio still says what cannot scale: at best, speed-up = T / CPU ratio.
--phases: CPU time of each BFS step function per thread count (bench/bfs_ab.py's wrapper).
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
    comm = MPI.COMM_WORLD
    phases = {}
    wrap = "--phases" in sys.argv
    if wrap:
        sys.argv.remove("--phases")
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    nroots = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    src, dst, _ = generate_edges(scale, 16, 2, 3, 0, 16 << scale)
    counts = sorted({1, numba.config.NUMBA_NUM_THREADS})
    s0, d0, _ = generate_edges(8, 16, 2, 3, 0, 16 << 8)
    for t in counts:                                  # compile outside the timings
        numba.set_num_threads(t)
        g0 = construct_graph(comm, 8, s0, d0)
        bfs(BFSWorkspace(g0, comm), 1)
    if wrap:    # after every compile (see bfs_ab._wrap_steps)
        import graph500.kernels.bfs as kbfs
        from bfs_ab import _print_phases, _wrap_steps
        acc = _wrap_steps(kbfs)
    deg = None
    res = {t: {"construction": [], "bfs": [], "construction_cpu": [], "bfs_cpu": []}
           for t in counts}
    for _ in range(repeat):
        for t in counts:
            numba.set_num_threads(t)
            t0, c0 = time.perf_counter(), time.process_time()
            g = construct_graph(comm, scale, src, dst)
            res[t]["construction"].append(time.perf_counter() - t0)
            res[t]["construction_cpu"].append(time.process_time() - c0)
            if deg is None:
                deg = np.diff(g.rowptr)
                roots = choose_roots(scale, nroots, 2, 3, lambda c: deg[c] > 0)
            ws = BFSWorkspace(g, comm)
            total = cpu = 0.0
            if wrap:
                acc.clear()
            for root in roots:
                ws.reset()
                t0, c0 = time.perf_counter(), time.process_time()
                bfs(ws, root)
                total += time.perf_counter() - t0
                cpu += time.process_time() - c0
            if wrap:
                phases["threads %d" % t] = dict(acc)
            res[t]["bfs"].append(total / len(roots))
            res[t]["bfs_cpu"].append(cpu / len(roots))
            del g, ws
    print("SCALE %d, 1 rank, best of %d, threading layer %s (shared machine: compare ratios)"
          % (scale, repeat, numba.threading_layer()))
    base = {k: min(v) for k, v in res[counts[0]].items()}
    for t in counts:
        b = {k: min(v) for k, v in res[t].items()}
        print("threads %d: construction %.3f s (speed-up %.2f), cpu %.3f s (x%.2f); BFS mean "
              "%.4f s (speed-up %.2f), cpu %.4f s (x%.2f)"
              % (t, b["construction"], base["construction"] / b["construction"],
                 b["construction_cpu"], b["construction_cpu"] / base["construction_cpu"],
                 b["bfs"], base["bfs"] / b["bfs"], b["bfs_cpu"], b["bfs_cpu"] / base["bfs_cpu"]))
    if phases:
        print("  BFS CPU s per step function (last repeat, all roots):")
        _print_phases(phases, None)


if __name__ == "__main__":
    main()
