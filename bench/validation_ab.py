"""BFS validation before/after in one process, against the search it checks.

Builds one graph, runs the search for each root, then validates that parent array with the
validator of this checkout and with an old copy of it, interleaved per root, and reports
CPU time (time.process_time, max over ranks: a shared machine's load hits it far less than
the wall clock) and wall time, per root the least of REPEAT sweeps, summed; the search is
timed the same way, so validation/search is a ratio inside one run. --layout 1d (default):
bfs() and graph500/validate.py; --layout 2d: the R x C grid's bfs2d() and
graph500/validate2d.py (whose relative import the old copy must lose, as below).

  mkdir -p /tmp/old && git show <commit>:graph500/validate.py > /tmp/old/oldvalidate.py
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/validation_ab.py \\
      /tmp/old/oldvalidate.py SCALE [--roots 8] [--repeat 3]
  git show <commit>:graph500/validate2d.py \\
      | sed 's/^from \\.validate import/from graph500.validate import/' > /tmp/old/oldvalidate2d.py
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 4 .venv/bin/python bench/validation_ab.py \\
      /tmp/old/oldvalidate2d.py SCALE --layout 2d
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500 import validate, validate2d
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.bfs2d import BFS2DWorkspace, bfs2d
from graph500.kernels.construct2d import construct_graph2d, edge_count2d
from graph500.kernels.teps import edge_count

from bfs_ab import benchmark_tuples, graph_and_roots   # bench/ is sys.path[0] as a script


def load(path):
    """The old validator as an ordinary module (Numba's cache needs an importable name)."""
    folder, name = os.path.split(os.path.abspath(path))
    sys.path.insert(0, folder)
    return importlib.import_module(os.path.splitext(name)[0])


class Layout:
    """The graph, roots, search, edge count and validator of one layout."""

    def __init__(self, comm, layout, scale, nroots):
        if layout == "1d":
            self.graph, self.roots = graph_and_roots(comm, scale, nroots)
            self.ws = BFSWorkspace(self.graph, comm)
            self.search, self.count, self.current = bfs, edge_count, validate
            self.validate_name = "validate_bfs"
            return
        src, dst, _ = benchmark_tuples(comm, scale)
        self.graph = construct_graph2d(comm, scale, src, dst)
        del src, dst
        deg = np.zeros(1 << scale, dtype=np.int64)
        deg[self.graph.grid.lo:self.graph.grid.hi] = self.graph.degree()
        comm.Allreduce(MPI.IN_PLACE, deg, op=MPI.SUM)
        rng = np.random.default_rng(1)          # bfs_ab.roots_with_edges's draw
        self.roots = [int(v) for v in rng.permutation(np.flatnonzero(deg))[:nroots]]
        self.ws = BFS2DWorkspace(self.graph, comm)
        self.search, self.count, self.current = bfs2d, edge_count2d, validate2d
        self.validate_name = "validate_bfs2d"


def timed(comm, f):
    comm.Barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    out = f()
    comm.Barrier()
    wall = time.perf_counter() - t0
    cpu = comm.allreduce(time.process_time() - c0, op=MPI.MAX)
    return out, np.array([wall, cpu])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old", help="an old copy of graph500/validate.py, or validate2d.py with "
                    "--layout 2d ('-' for none)")
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--layout", choices=("1d", "2d"), default="1d")
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    lay = Layout(comm, args.layout, args.scale, args.roots)
    g, roots, ws, search = lay.graph, lay.roots, lay.ws, lay.search
    kinds = {"after": lay.current}
    if args.old != "-":
        kinds = {"before": load(args.old), "after": lay.current}
    check = {name: getattr(mod, lay.validate_name) for name, mod in kinds.items()}
    parents, nedges = [], []
    best = {k: np.full((len(roots), 2), np.inf) for k in ["search"] + list(kinds)}
    ws.reset()
    search(ws, roots[0])                        # compile outside the timings
    for f in check.values():
        f(comm, g, roots[0], ws.parent, 0)
    for j, root in enumerate(roots):
        for _ in range(args.repeat):
            ws.reset()
            par, t = timed(comm, lambda: search(ws, root))
            best["search"][j] = np.minimum(best["search"][j], t)
        parents.append(par.copy())
        nedges.append(lay.count(comm, g, par))
    for _ in range(args.repeat):
        for j, root in enumerate(roots):
            for name, f in check.items():
                (fail, _), t = timed(comm, lambda: f(comm, g, root, parents[j], nedges[j]))
                if fail is not None:
                    raise SystemExit("%s rejects root %d: %s" % (name, root, fail.message()))
                best[name][j] = np.minimum(best[name][j], t)
    tot = {k: v.sum(axis=0) for k, v in best.items()}
    if r == 0:
        s = tot["search"]
        grid = " (grid %d x %d)" % (g.grid.R, g.grid.C) if args.layout == "2d" else ""
        print("SCALE %d, %d ranks%s, %d roots, per-root best of %d: search wall %.4f s cpu "
              "%.4f s" % (args.scale, p, grid, len(roots), args.repeat, s[0] / len(roots),
                          s[1] / len(roots)))
        for name in kinds:
            v = tot[name]
            print("  %-6s validation wall %.4f s (%.2fx search) cpu %.4f s (%.2fx search)"
                  % (name, v[0] / len(roots), v[0] / s[0], v[1] / len(roots), v[1] / s[1]))


if __name__ == "__main__":
    main()
