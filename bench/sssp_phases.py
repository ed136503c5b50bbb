"""Where an SSSP search spends its time, phase by phase, robustly on a loaded machine.

  mpiexec -n 2 python bench/sssp_phases.py SCALE [--roots K] [--threads T]

Wraps the module-level steps the search calls from Python (kernels/sssp.py: the compiled
light, push, pack, apply, pull steps and the exchange helpers, and each MPI call) with
counters of calls and of the process CPU time spent inside them, then runs K searches
(after an untimed one) on the benchmark graph (edgefactor 16). Prints, for rank 0, per
search: calls and CPU milliseconds per step, and the whole search's wall and CPU time.
Works on older trees (the step names it does not find are skipped), so the same script
compares two commits: run it from each worktree's venv. CPU time inside the MPI calls is
mostly busy-polling and says little; CPU time in the compiled steps is the robust part.
With --threads T > 1 (CPU time then counts every thread), a step's wall time against its
CPU time shows how well it spreads over the threads (run on one rank for that).
The wrappers add about a microsecond per call.
"""
import argparse
import time

import numba
import numpy as np
from mpi4py import MPI

import graph500.kernels.sssp as K
from graph500.driver import _has_edge
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.kernels.construct import construct_graph

STEPS = ("_light_step", "_push_step", "_relax", "_rebucket", "_pack", "_apply", "_push_cost",
         "_settled_view", "_pull", "first_bucket", "_first_bucket", "_clear_settled",
         "_start", "gather_window", "alltoallv_known")
MPI_CALLS = ("Alltoall", "Alltoallv", "Allgatherv", "Allreduce", "Allgather", "Bcast",
             "Sendrecv", "Reduce_scatter")

stats = {}     # name -> [calls, CPU s, wall s] (also bench/bfs_phases.py's)


def counted(name, f):
    def g(*a, **k):
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            s = stats.setdefault(name, [0, 0.0, 0.0])
            s[0] += 1
            s[1] += time.process_time() - c0
            s[2] += time.perf_counter() - t0
    return g


class CountingComm:
    def __init__(self, comm):
        self.c = comm

    def __getattr__(self, name):
        f = getattr(self.c, name)
        return counted("MPI." + name, f) if name in MPI_CALLS else f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    comm = MPI.COMM_WORLD
    P, rank = comm.Get_size(), comm.Get_rank()
    m = 16 << a.scale
    lo, hi = rank * m // P, (rank + 1) * m // P
    src, dst, w = generate_edges(a.scale, 16, 2, 3, lo, hi, weights=True)
    g = construct_graph(comm, a.scale, src, dst, w)
    del src, dst, w
    for name in STEPS:
        if hasattr(K, name):
            setattr(K, name, counted(name, getattr(K, name)))
    ws = K.SSSPWorkspace(g, CountingComm(comm))
    # The benchmark's roots (each has an edge): a fixed list of small ids hit isolated
    # vertices (three of 1, 2, 3, 5 at SCALE 21), whose empty searches diluted the averages.
    roots = choose_roots(a.scale, a.roots, 2, 3, _has_edge(comm, g))
    ws.reset()
    K.sssp(ws, roots[0])     # untimed: compiles or loads everything
    stats.clear()
    wall = cpu = 0.0
    for root in roots:
        ws.reset()
        comm.Barrier()
        c0, t0 = time.process_time(), time.perf_counter()
        K.sssp(ws, root)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    k = len(roots)
    if rank == 0:
        print("SCALE %d, %d ranks x %d threads, %d roots: per search wall %.2f ms, CPU %.2f ms"
              % (a.scale, P, a.threads, k, 1e3 * wall / k, 1e3 * cpu / k))
        for name, (n, t, tw) in sorted(stats.items(), key=lambda x: -x[1][1]):
            print("  %-16s %8.1f calls %9.3f ms CPU %9.3f ms wall"
                  % (name, n / k, 1e3 * t / k, 1e3 * tw / k))
        inside = sum(t for nm, (n, t, tw) in stats.items() if not nm.startswith("MPI.")
                     and nm not in ("gather_window", "alltoallv_known"))
        print("  compiled steps %.3f ms CPU; the rest (Python, MPI) %.3f ms"
              % (1e3 * inside / k, 1e3 * (cpu - inside) / k))


if __name__ == "__main__":
    main()
