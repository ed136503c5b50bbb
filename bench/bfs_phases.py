"""Where a BFS search spends its time, step by step (the BFS twin of bench/sssp_phases.py).

  mpiexec -n 2 python bench/bfs_phases.py SCALE [--roots K] [--threads T]

Wraps the module-level steps the search calls from Python (kernels/bfs.py: the compiled
top-down, bottom-up and claim steps, the exchange helper, and each MPI call) with counters
of calls and of the CPU and wall time spent inside them, then runs K searches (after an
untimed one) on the benchmark graph (edgefactor 16). Prints, for rank 0, per search: calls
and milliseconds per step, and the whole search's wall and CPU time. Steps an older tree
lacks are skipped, so the same script compares two commits. Wall time inside the MPI calls
includes waiting for the other ranks (their imbalance); CPU time in the compiled steps is
the robust part. The wrappers add about a microsecond per call.
"""
import argparse
import time

import numba
from mpi4py import MPI

import graph500.kernels.bfs as K
from graph500.driver import _has_edge
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.kernels.construct import construct_graph

STEPS = ("_split_queue", "_td_count", "_td_fill", "_td_fill_run", "_td_apply",
         "_td_apply_serial", "_td_serial", "_td_apply_list", "_end_claims_par", "_end_level",
         "_queue_edges", "_todo_bits", "_bu_step", "from_queue", "to_queue", "chunk_starts",
         "alltoallv_pieces")
MPI_CALLS = ("Alltoall", "Alltoallv", "Allgatherv", "Allreduce", "Allgather", "Bcast")

stats = {}


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
    ap.add_argument("--roots", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    comm = MPI.COMM_WORLD
    P, rank = comm.Get_size(), comm.Get_rank()
    m = 16 << a.scale
    lo, hi = rank * m // P, (rank + 1) * m // P
    src, dst, _ = generate_edges(a.scale, 16, 2, 3, lo, hi, weights=False)
    g = construct_graph(comm, a.scale, src, dst)
    del src, dst
    for name in STEPS:
        if hasattr(K, name):
            setattr(K, name, counted(name, getattr(K, name)))
    ws = K.BFSWorkspace(g, comm)
    # every exchange of the search, the frontier's gather included
    ws.comm = CountingComm(comm)
    ws.frontier.comm = ws.comm
    roots = choose_roots(a.scale, a.roots, 2, 3, _has_edge(comm, g))
    ws.reset()
    K.bfs(ws, roots[0])     # untimed: compiles or loads everything
    stats.clear()
    wall = cpu = 0.0
    for root in roots:
        ws.reset()
        comm.Barrier()
        c0, t0 = time.process_time(), time.perf_counter()
        K.bfs(ws, root)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    k = len(roots)
    if rank == 0:
        print("SCALE %d, %d ranks x %d threads, %d roots: per search wall %.2f ms, CPU %.2f ms"
              % (a.scale, P, a.threads, k, 1e3 * wall / k, 1e3 * cpu / k))
        for name, (n, t, tw) in sorted(stats.items(), key=lambda x: -x[1][2]):
            print("  %-18s %6.1f calls %8.3f ms CPU %8.3f ms wall"
                  % (name, n / k, 1e3 * t / k, 1e3 * tw / k))


if __name__ == "__main__":
    main()
