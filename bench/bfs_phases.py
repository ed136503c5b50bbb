"""Where a BFS search spends its time, step by step (the BFS twin of bench/sssp_phases.py).

  mpiexec -n 2 python bench/bfs_phases.py SCALE [--roots K] [--threads T] [--layout 2d]

Wraps the module-level steps the search calls from Python (kernels/bfs.py, or bfs2d.py with
--layout 2d: the compiled top-down, bottom-up and claim steps, the Python steps around them,
whose times include the steps they call, the exchange helpers, and each MPI call, on the
grid's sub-communicators too) with counters
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
from sssp_phases import CountingComm, counted, stats   # bench/ is sys.path[0] as a script

import graph500.kernels.bfs as K1
import graph500.kernels.bfs2d as K2
from graph500.driver import _has_edge
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.kernels.construct import construct_graph
from graph500.kernels.construct2d import construct_graph2d

STEPS = ("_split_queue", "_td_count", "_td_fill", "_td_fill_run", "_td_apply",
         "_td_apply_serial", "_td_serial", "_td_apply_list", "_end_claims_par", "_end_level",
         "_queue_edges", "_todo_bits", "_bu_step", "from_queue", "to_queue", "chunk_starts",
         "alltoallv_pieces")
STEPS_2D = ("_visited_bits", "_split", "_td_count", "_td_fill", "_mark_seen", "_bucket",
            "_mark_seen_threads", "_td_apply_threads", "_td_apply", "_strip_ids",
            "_ids_to_bits", "_gather_ids", "_gather_frontier_ids", "_gather_row_frontier",
            "_top_down", "_bu_scan", "_collect", "_bu_own", "_apply_flush", "_flush",
            "_bottom_up", "from_queue", "to_queue", "gather_strip", "alltoallv")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layout", choices=("1d", "2d"), default="1d")
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    comm = MPI.COMM_WORLD
    P, rank = comm.Get_size(), comm.Get_rank()
    m = 16 << a.scale
    lo, hi = rank * m // P, (rank + 1) * m // P
    src, dst, _ = generate_edges(a.scale, 16, 2, 3, lo, hi, weights=False)
    two = a.layout == "2d"
    g = (construct_graph2d if two else construct_graph)(comm, a.scale, src, dst)
    del src, dst
    K = K2 if two else K1
    for name in STEPS_2D if two else STEPS:
        if hasattr(K, name):
            setattr(K, name, counted(name, getattr(K, name)))
    # every exchange of the search, the frontier's gather included
    if two:
        ws = K.BFS2DWorkspace(g, CountingComm(comm))
        ws.grid.row_comm = CountingComm(ws.grid.row_comm)
        ws.grid.col_comm = CountingComm(ws.grid.col_comm)
        search = K.bfs2d
    else:
        ws = K.BFSWorkspace(g, comm)
        ws.comm = CountingComm(comm)
        ws.frontier.comm = ws.comm
        search = K.bfs
    roots = choose_roots(a.scale, a.roots, 2, 3, _has_edge(comm, g))
    ws.reset()
    search(ws, roots[0])     # untimed: compiles or loads everything
    stats.clear()
    wall = cpu = 0.0
    for root in roots:
        ws.reset()
        comm.Barrier()
        c0, t0 = time.process_time(), time.perf_counter()
        search(ws, root)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
    k = len(roots)
    if rank == 0:
        print("SCALE %d, %d ranks x %d threads, %s layout, %d roots: per search wall %.2f ms, "
              "CPU %.2f ms" % (a.scale, P, a.threads, a.layout, k, 1e3 * wall / k,
                               1e3 * cpu / k))
        for name, (n, t, tw) in sorted(stats.items(), key=lambda x: -x[1][2]):
            print("  %-18s %6.1f calls %8.3f ms CPU %8.3f ms wall"
                  % (name, n / k, 1e3 * t / k, 1e3 * tw / k))


if __name__ == "__main__":
    main()
