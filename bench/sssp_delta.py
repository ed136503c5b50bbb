"""Sweep SSSP's bucket width: mean search time per delta on one graph, same roots.

  mpiexec -n 4 python bench/sssp_delta.py SCALE [DELTA ...] [--roots K] [--threads T]

How DEFAULT_DELTA (kernels/sssp.py) was chosen: the benchmark graph (edgefactor 16, uniform
[0, 1) weights), built once; every delta searches the same K roots (each after an untimed
warm-up search), and the rounds interleave the deltas so that load drift on a shared machine
hits them alike. Prints, per delta, the mean and best search time, and the time relative to
the best delta (rank 0).
"""
import argparse
import time

import numba
import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.kernels.construct import construct_graph
from graph500.kernels.sssp import SSSPWorkspace, sssp

DELTAS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("deltas", type=float, nargs="*", default=list(DELTAS))
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    numba.set_num_threads(a.threads)
    comm = MPI.COMM_WORLD
    P, r = comm.Get_size(), comm.Get_rank()
    m = 16 << a.scale
    src, dst, w = generate_edges(a.scale, 16, 2, 3, r * m // P, (r + 1) * m // P,
                                 weights=True)
    g = construct_graph(comm, a.scale, src, dst, w)
    del src, dst, w
    # roots with edges, the same on every rank (global degrees are not at hand: take the
    # vertices of rank 0's block with local entries, broadcast)
    deg = np.diff(g.rowptr)
    roots = comm.bcast([int(g.part.lo + v) for v in np.flatnonzero(deg > 0)[::97][:a.roots]])
    spaces = {d: SSSPWorkspace(g, comm, delta=d) for d in a.deltas}
    times = {d: [] for d in a.deltas}
    for d, ws in spaces.items():
        ws.reset()
        sssp(ws, roots[0])      # warm-up: compiles, fills caches
    for root in roots:
        for d, ws in spaces.items():
            ws.reset()
            comm.Barrier()
            t0 = MPI.Wtime()
            sssp(ws, root)
            comm.Barrier()
            times[d].append(MPI.Wtime() - t0)
    if r == 0:
        best = min(np.mean(t) for t in times.values())
        print("SCALE %d, %d ranks x %d threads, %d roots" % (a.scale, P, a.threads, len(roots)))
        for d in a.deltas:
            print("delta %-6g mean %.4f s  best %.4f s  x%.2f of the best delta"
                  % (d, np.mean(times[d]), np.min(times[d]), np.mean(times[d]) / best),
                  flush=True)


if __name__ == "__main__":
    main()
