"""Kernel 3 timing on the benchmark graph: MTEPS per delta (harmonic mean over roots).

  NUMBA_NUM_THREADS=1 mpiexec -n P python tests/mpi_sssp_bench.py SCALE NROOTS [DELTA ...]

Prints, on rank 0, one line per delta. The first root of each delta is validated. On a
shared machine the wall clock depends on the neighbours' load; the CPU time each rank got
(MPI waits poll, so they count) is printed beside it as a proxy for an unloaded machine.
"""
import sys
import time

import numpy as np
from mpi4py import MPI

import mpi_sssp_common  # noqa: F401  (puts the repository on sys.path)
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.validate_sssp import validate_sssp
from graph500.kernels.construct import construct_graph
from graph500.kernels.sssp import DEFAULT_DELTA, SSSPWorkspace, sssp


def main():
    comm = MPI.COMM_WORLD
    scale, nroots = int(sys.argv[1]), int(sys.argv[2])
    deltas = [float(x) for x in sys.argv[3:]] or [DEFAULT_DELTA]
    rank, size = comm.Get_rank(), comm.Get_size()
    m = 16 << scale
    t = time.time()
    src, dst, w = generate_edges(scale, 16, 2, 3, rank * m // size, (rank + 1) * m // size,
                                 weights=True)
    tgen = time.time() - t
    t = time.time()
    g = construct_graph(comm, scale, src, dst, w)
    tcon = time.time() - t
    del src, dst, w
    part = g.part
    deg = np.diff(g.rowptr)

    def has_edge(cand):
        mine = (cand >= part.lo) & (cand < part.hi)
        local = np.zeros(len(cand), dtype=np.int64)
        local[mine] = deg[cand[mine] - part.lo] > 0
        out = np.empty_like(local)
        comm.Allreduce(local, out, op=MPI.SUM)
        return out > 0

    roots = choose_roots(scale, nroots, 2, 3, has_edge)
    t = time.time()
    ws = SSSPWorkspace(g, comm, delta=deltas[0])
    tws = time.time() - t
    if rank == 0:
        print("SCALE %d P %d gen %.2fs construct %.2fs workspace %.3fs roots %d"
              % (scale, size, tgen, tcon, tws, len(roots)), flush=True)
    for delta in deltas:
        sssp(ws, 0, delta)  # warm-up, as the reference does (prepares delta too)
        secs_per_edge = []
        cpu_per_edge = []
        times = []
        for i, root in enumerate(roots):
            ws.reset()  # untimed, as in the benchmark
            comm.Barrier()
            c = time.process_time()
            t = time.perf_counter()
            dist, parent = sssp(ws, root, delta)
            t = time.perf_counter() - t
            c = time.process_time() - c
            t = comm.allreduce(t, op=MPI.MAX)
            c = comm.allreduce(c, op=MPI.MAX)
            cpu_per_edge.append(c)
            reached = int(np.sum(deg[dist != np.inf]))
            nedge = comm.allreduce(reached, op=MPI.SUM) // 2
            if i == 0:
                tv = time.perf_counter()
                ok, msg, counted = validate_sssp(comm, g, root, dist, parent, nedge)
                tv = time.perf_counter() - tv
                if rank == 0:
                    print("  delta %g root %d nedge %d: %s validate %.3fs (search %.3fs)"
                          % (delta, root, nedge, "ok" if ok else msg, tv, t), flush=True)
            secs_per_edge.append(t / nedge)
            cpu_per_edge[-1] /= nedge
            times.append(t)
        if rank == 0:
            s = np.array(secs_per_edge)
            print("delta %-6g harmonic mean %.2f MTEPS  (min %.2f max %.2f)  mean time %.3fs"
                  "  [CPU-time harmonic mean %.2f MTEPS]"
                  % (delta, 1e-6 / s.mean(), 1e-6 / s.max(), 1e-6 / s.min(),
                     np.mean(times), 1e-6 / np.mean(cpu_per_edge)), flush=True)


if __name__ == "__main__":
    main()
