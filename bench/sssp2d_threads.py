"""The 2-D SSSP (kernels/sssp2d.py) per thread count: wall and CPU time per search, and
result hashes, on one graph in one run.

    NUMBA_NUM_THREADS=2 mpiexec -n P python bench/sssp2d_threads.py SCALE [--threads 1,2]
                                                                 [--roots K] [--delta D]

Builds the benchmark graph (edgefactor 16, seeds 2 3) on the 2-D layout (P = 1: a 1 x 1
grid), then for every root searches once per thread count, interleaved, so machine noise
falls on all alike (one untimed search per thread count first: compiled or cached code,
warm buffers). Printed per thread count (rank 0): the median wall time of a search, the
harmonic-mean TEPS, the CPU time of a search (process time of all the rank's threads; mean
and max over ranks) and its ratio to the first thread count's, and whether every search's
distances and parents equal the first thread count's (they must: issue 8 item 1).
On the shared 2-core machine the wall times follow the load; compare ratios within a run.
OMP_WAIT_POLICY defaults to PASSIVE here, as the CLI sets it on an oversubscribed node
(idle OpenMP threads spinning between parallel regions take the other rank's core).
"""
import argparse
import hashlib
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from graph500 import numba_cache  # noqa: E402

numba_cache.configure()          # the CLI's keyed cache, before Numba is imported

import numba  # noqa: E402
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402


def graph2d_and_roots(comm, scale, nroots):
    """The benchmark graph (edgefactor 16, seeds 2 3, with weights) on the 2-D layout, and
    its first `nroots` benchmark roots (the 2-D SSSP benches share it)."""
    from graph500.driver import _has_edge
    from graph500.generator import generate_edges
    from graph500.kernels.construct2d import construct_graph2d
    from graph500.roots import choose_roots
    rank, p = comm.Get_rank(), comm.Get_size()
    m = 16 << scale
    src, dst, w = generate_edges(scale, 16, 2, 3, rank * m // p, (rank + 1) * m // p,
                                 weights=True)
    g = construct_graph2d(comm, scale, src, dst, w)
    del src, dst, w
    return g, choose_roots(scale, nroots, 2, 3, _has_edge(comm, g))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--delta", type=float, default=None)
    a = ap.parse_args()
    threads = [int(x) for x in a.threads.split(",")]
    from graph500.kernels.construct2d import edge_count2d
    from graph500.kernels.sssp2d import DEFAULT_DELTA, SSSP2DWorkspace, sssp2d

    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    g, roots = graph2d_and_roots(comm, a.scale, a.roots)
    ws = SSSP2DWorkspace(g, comm, delta=a.delta or DEFAULT_DELTA)
    for t in threads:            # untimed: each thread count's code paths, warm buffers
        numba.set_num_threads(t)
        ws.reset()
        sssp2d(ws, roots[0])
    wall = {t: [] for t in threads}
    cpu = {t: [] for t in threads}
    same = {t: True for t in threads}
    nedge = []
    for root in roots:
        first = None
        for t in threads:
            numba.set_num_threads(t)
            ws.reset()
            comm.Barrier()
            c0 = time.process_time()
            t0 = MPI.Wtime()
            dist, parent = sssp2d(ws, root)
            c1 = time.process_time()
            comm.Barrier()
            wall[t].append(MPI.Wtime() - t0)
            cpu[t].append(c1 - c0)
            h = hashlib.sha256(dist.tobytes() + parent.tobytes()).hexdigest()
            if first is None:
                first = h
                nedge.append(edge_count2d(comm, g, parent))
            ok = comm.allreduce(int(h == first), op=MPI.MIN)
            same[t] = same[t] and bool(ok)
    cpus = {t: np.array(comm.allgather(float(np.mean(cpu[t])))) for t in threads}
    if rank == 0:
        nm = np.array(nedge, dtype=float)
        t1 = threads[0]
        print("SCALE %d, %d ranks, grid %d x %d, delta %g, %d roots (niced, shared machine)"
              % (a.scale, p, g.grid.R, g.grid.C, ws.delta, len(roots)))
        for t in threads:
            hm = len(wall[t]) / np.sum(np.array(wall[t]) / nm)
            print("threads %d: wall median %.4f s (x%.2f of %d thread), TEPS %.4g; CPU per "
                  "search mean %.4f s, max %.4f s over ranks (x%.2f); results equal: %s"
                  % (t, np.median(wall[t]), np.median(wall[t1]) / np.median(wall[t]), t1, hm,
                     cpus[t].mean(), cpus[t].max(), cpus[t].mean() / cpus[t1].mean(),
                     same[t]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
