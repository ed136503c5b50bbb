"""SSSP on the 1-D and the 2-D layout, same graph, same roots, in one run; several deltas for
the 2-D kernel: TEPS, bytes moved, collectives.

    mpiexec -n 4 python bench/sssp2d_bench.py SCALE [--roots K] [--threads T]
                                              [--deltas 0.02,0.05,0.1,0.2]

Both graphs are built from the same generated weighted tuples. For every root the 1-D kernel
(kernels/sssp.py, its default delta) runs, then the 2-D kernel (kernels/sssp2d.py) once per
delta, interleaved, so machine noise falls on all alike; distances must be equal bit for bit
(checked). Printed per delta: the 2-D harmonic-mean TEPS and its ratio to the 1-D one, the
median search time, and (searching every root once more through bfs2d_bench's counting
communicator, untimed) the bytes each rank receives per search and the collective calls.
"""
import argparse
import os
import sys

import numpy as np
from mpi4py import MPI

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bfs2d_bench import Counted, _regrid  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--deltas", default="0.02,0.05,0.1,0.2")
    a = ap.parse_args()
    deltas = [float(x) for x in a.deltas.split(",")]
    import numba
    numba.set_num_threads(a.threads)
    from graph500.driver import _has_edge
    from graph500.generator import generate_edges
    from graph500.roots import choose_roots
    from graph500.kernels.construct import construct_graph
    from graph500.kernels.construct2d import construct_graph2d, edge_count2d
    from graph500.kernels.sssp import SSSPWorkspace, sssp
    from graph500.kernels.sssp2d import SSSP2DWorkspace, sssp2d

    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    m = 16 << a.scale
    src, dst, w = generate_edges(a.scale, 16, 2, 3, rank * m // p, (rank + 1) * m // p,
                                 weights=True)
    g1 = construct_graph(comm, a.scale, src, dst, w)
    g2 = construct_graph2d(comm, a.scale, src, dst, w)
    del src, dst, w
    roots = choose_roots(a.scale, a.roots, 2, 3, _has_edge(comm, g1))
    ws1 = SSSPWorkspace(g1, comm)
    ws2 = SSSP2DWorkspace(g2, comm, delta=deltas[0])
    sssp(ws1, roots[0])
    sssp2d(ws2, roots[0])       # warm-up (compiled or cached already)
    times = {"1d": []}
    times.update({d: [] for d in deltas})
    nedge = []
    for root in roots:
        ws1.reset()
        comm.Barrier()
        t = MPI.Wtime()
        d1, _ = sssp(ws1, root)
        comm.Barrier()
        times["1d"].append(MPI.Wtime() - t)
        for d in deltas:
            ws2.reset(d)
            comm.Barrier()
            t = MPI.Wtime()
            d2, p2 = sssp2d(ws2, root)
            comm.Barrier()
            times[d].append(MPI.Wtime() - t)
            same = comm.allreduce(bool(np.array_equal(d1.view(np.uint32), d2.view(np.uint32))),
                                  op=MPI.LAND)
            if not same:
                raise SystemExit("distances differ at root %d, delta %g" % (root, d))
        nedge.append(edge_count2d(comm, g2, p2))
    traffic = {}
    for d in deltas:
        tally = [0, 0]
        cc = Counted(comm, tally)
        ws = SSSP2DWorkspace(_regrid(g2, cc), cc, delta=d)
        tally[0] = tally[1] = 0
        for root in roots:
            ws.reset()
            sssp2d(ws, root)
        per = np.array([tally[0] / len(roots), tally[1] / len(roots)])
        allp = np.array(comm.allgather(per))
        traffic[d] = (allp[:, 0].mean(), allp[:, 0].max(), allp[:, 1].mean())
    if rank == 0:
        nm = np.array(nedge, dtype=float)
        hm = {k: len(t) / np.sum(np.array(t) / nm) for k, t in times.items()}
        out = ["SCALE %d, %d ranks x %d threads, grid %d x %d, %d roots (loaded, "
               "oversubscribed machine)" % (a.scale, p, a.threads, g2.grid.R, g2.grid.C,
                                           len(roots)),
               "sssp 1d (delta %g): harmonic-mean TEPS %.4g, median %.4f s"
               % (ws1.delta, hm["1d"], np.median(times["1d"]))]
        for d in deltas:
            out.append("sssp 2d delta %-5g: TEPS %.4g (x%.3f of 1d), median %.4f s; received "
                       "per search per rank: mean %.4g B, max %.4g B, %.0f collectives"
                       % ((d, hm[d], hm[d] / hm["1d"], np.median(times[d])) + traffic[d]))
        print("\n".join(out))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
