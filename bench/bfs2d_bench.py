"""BFS on the 1-D and the 2-D layout, same graph, same roots, in one run: TEPS and bytes moved.

    mpiexec -n 4 python bench/bfs2d_bench.py SCALE [--roots K] [--threads T]

Both graphs are built from the same generated tuples; every root is searched on the 1-D
layout (kernels/bfs.py) and then on the 2-D one (kernels/bfs2d.py), interleaved, so machine
noise (other jobs) falls on both alike; the ratio of the harmonic-mean TEPS is the number to
read. Both searches' depths are compared (they must be equal). Then every root is searched
once more on each layout through a counting wrapper of the communicator (sub-communicators
from its Split are counted too), which adds up the bytes each rank *receives* per search
(receive-buffer sizes of every collective, the rank's own share included) and the collective
calls; mean and max over ranks are printed. Searches are not timed while counted.
"""
import argparse
import sys
import time

import numpy as np
from mpi4py import MPI


class Counted:
    """A communicator that adds up received bytes and calls (this bench only)."""

    def __init__(self, comm, tally):
        self._c = comm
        self._t = tally

    def __getattr__(self, name):
        return getattr(self._c, name)

    def Split(self, *a, **k):
        return Counted(self._c.Split(*a, **k), self._t)

    def _add(self, nbytes):
        self._t[0] += int(nbytes)
        self._t[1] += 1

    @staticmethod
    def _spec_bytes(spec):
        if isinstance(spec, np.ndarray):
            return spec.nbytes
        buf = spec[0]
        item = buf.itemsize
        if len(spec) >= 2 and isinstance(spec[1], tuple):
            return int(np.sum(spec[1][0])) * item
        return buf.nbytes

    def Alltoallv(self, s, r):
        self._add(self._spec_bytes(r))
        return self._c.Alltoallv(s, r)

    def Allgatherv(self, s, r):
        self._add(self._spec_bytes(r))
        return self._c.Allgatherv(s, r)

    def Alltoall(self, s, r):
        self._add(self._spec_bytes(r))
        return self._c.Alltoall(s, r)

    def Allgather(self, s, r):
        self._add(self._spec_bytes(r))
        return self._c.Allgather(s, r)

    def Allreduce(self, s, r, op=MPI.SUM):
        self._add(self._spec_bytes(r))
        return self._c.Allreduce(s, r, op=op)

    def Reduce_scatter(self, s, r, recvcounts=None, op=MPI.SUM):
        self._add(self._spec_bytes(r))
        return self._c.Reduce_scatter(s, r, recvcounts=recvcounts, op=op)

    def Sendrecv(self, s, dest, stag, r, source, rtag):
        self._add(self._spec_bytes(r))
        return self._c.Sendrecv(s, dest, stag, r, source, rtag)

    def allreduce(self, x, op=MPI.SUM):
        self._add(8)
        return self._c.allreduce(x, op=op)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import numba
    numba.set_num_threads(a.threads)
    from graph500.driver import _has_edge
    from graph500.generator import generate_edges
    from graph500.roots import choose_roots
    from graph500.kernels.bfs import BFSWorkspace, bfs
    from graph500.kernels.bfs2d import BFS2DWorkspace, bfs2d
    from graph500.kernels.construct import construct_graph
    from graph500.kernels.construct2d import construct_graph2d
    from graph500.kernels.teps import edge_count

    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    m = 16 << a.scale
    src, dst, _ = generate_edges(a.scale, 16, 2, 3, rank * m // p, (rank + 1) * m // p)
    comm.Barrier()
    t0 = MPI.Wtime()
    g1 = construct_graph(comm, a.scale, src, dst)
    comm.Barrier()
    t1 = MPI.Wtime()
    g2 = construct_graph2d(comm, a.scale, src, dst)
    comm.Barrier()
    t2 = MPI.Wtime()
    del src, dst
    roots = choose_roots(a.scale, a.roots, 2, 3, _has_edge(comm, g1))
    ws1, ws2 = BFSWorkspace(g1, comm), BFS2DWorkspace(g2, comm)
    for ws, f in ((ws1, bfs), (ws2, bfs2d)):     # warm-up (compiled or cached already)
        ws.reset()
        f(ws, 0)
    times = {"1d": [], "2d": []}
    nedge = []
    for root in roots:
        for name, ws, f in (("1d", ws1, bfs), ("2d", ws2, bfs2d)):
            ws.reset()
            comm.Barrier()
            t = MPI.Wtime()
            f(ws, root)
            comm.Barrier()
            times[name].append(MPI.Wtime() - t)
        nedge.append(edge_count(comm, g1, ws2.parent))
        same = np.array_equal(_depth_sig(comm, ws1.parent, root), _depth_sig(comm, ws2.parent, root))
        if not same:
            raise SystemExit("depths differ at root %d" % root)
    # bytes per search, counted
    traffic = {}
    for name, graph, Ws, f in (("1d", g1, BFSWorkspace, bfs), ("2d", g2, BFS2DWorkspace, bfs2d)):
        tally = [0, 0]
        cc = Counted(comm, tally)
        if name == "2d":
            graph = _regrid(graph, cc)
        ws = Ws(graph, cc)
        tally[0] = tally[1] = 0
        for root in roots:
            ws.reset()
            f(ws, root)
        per = np.array([tally[0] / len(roots), tally[1] / len(roots)])
        allp = np.array(comm.allgather(per))
        traffic[name] = (allp[:, 0].mean(), allp[:, 0].max(), allp[:, 1].mean())
    if rank == 0:
        nm = np.array(nedge, dtype=float)
        out = ["SCALE %d, %d ranks x %d threads, grid %d x %d, %d roots (loaded machine)"
               % (a.scale, p, a.threads, g2.grid.R, g2.grid.C, len(roots)),
               "construction: 1d %.3f s, 2d %.3f s" % (t1 - t0, t2 - t1)]
        hm = {}
        for name in ("1d", "2d"):
            t = np.array(times[name])
            hm[name] = len(t) / np.sum(t / nm)
            out.append("bfs %s: harmonic-mean TEPS %.4g, median time %.4f s; received per "
                       "search per rank: mean %.4g B, max %.4g B, %.1f collectives"
                       % ((name, hm[name], np.median(t)) + traffic[name]))
        # per-root ratios, then their median: robust to one search stalled by other jobs
        ratio = np.median(np.array(times["1d"]) / np.array(times["2d"]))
        out.append("2d / 1d: harmonic-mean TEPS %.3f, median per-root TEPS ratio %.3f, "
                   "bytes received (mean) %.3f"
                   % (hm["2d"] / hm["1d"], ratio, traffic["2d"][0] / traffic["1d"][0]))
        print("\n".join(out))
        sys.stdout.flush()


def _depth_sig(comm, parent, root):
    """The global depth array on rank 0 (a bench check: N entries there, SCALE <= 22)."""
    allp = comm.gather(parent, root=0)
    if comm.Get_rank() != 0:
        return np.zeros(1)
    pa = np.concatenate(allp)
    n = len(pa)
    depth = np.full(n, -1, dtype=np.int64)
    depth[root] = 0
    lev = 0
    while True:
        nxt = (depth == -1) & (pa >= 0)
        nxt &= depth[np.clip(pa, 0, n - 1)] == lev
        if not nxt.any():
            return depth
        depth[nxt] = lev + 1
        lev += 1


def _regrid(graph, comm):
    """The same Graph2D with its grid's communicators counted."""
    from graph500.kernels.grid import Grid
    import dataclasses
    return dataclasses.replace(graph, grid=Grid(comm, graph.grid.scale))


if __name__ == "__main__":
    main()
