"""BFS validation before/after in one process, against the search it checks.

Builds one graph, runs bfs() for each root, then validates that parent array with the
validator of this checkout and with an old copy of graph500/validate.py, interleaved per
root, and reports CPU time (time.process_time, max over ranks: a shared machine's load hits
it far less than the wall clock) and wall time, per root the least of REPEAT sweeps, summed;
the search is timed the same way, so validation/search is a ratio inside one run.

  mkdir -p /tmp/old && git show <commit>:graph500/validate.py > /tmp/old/oldvalidate.py
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/validation_ab.py \\
      /tmp/old/oldvalidate.py SCALE [--roots 8] [--repeat 3]
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500 import validate
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.teps import edge_count

from bfs_ab import graph_and_roots   # bench/ is sys.path[0] when run as a script


def load(path):
    """The old validator as an ordinary module (Numba's cache needs an importable name)."""
    folder, name = os.path.split(os.path.abspath(path))
    sys.path.insert(0, folder)
    return importlib.import_module(os.path.splitext(name)[0])


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
    ap.add_argument("old", help="an old copy of graph500/validate.py ('-' for none)")
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    g, roots = graph_and_roots(comm, args.scale, args.roots)
    kinds = {"after": validate}
    if args.old != "-":
        kinds = {"before": load(args.old), "after": validate}
    ws = BFSWorkspace(g, comm)
    parents, nedges = [], []
    best = {k: np.full((len(roots), 2), np.inf) for k in ["search"] + list(kinds)}
    ws.reset()
    bfs(ws, roots[0])                           # compile outside the timings
    for mod in kinds.values():
        mod.validate_bfs(comm, g, roots[0], ws.parent, 0)
    for j, root in enumerate(roots):
        for _ in range(args.repeat):
            ws.reset()
            par, t = timed(comm, lambda: bfs(ws, root))
            best["search"][j] = np.minimum(best["search"][j], t)
        parents.append(par.copy())
        nedges.append(edge_count(comm, g, par))
    for _ in range(args.repeat):
        for j, root in enumerate(roots):
            for name, mod in kinds.items():
                (fail, _), t = timed(comm, lambda: mod.validate_bfs(comm, g, root, parents[j],
                                                                     nedges[j]))
                if fail is not None:
                    raise SystemExit("%s rejects root %d: %s" % (name, root, fail.message()))
                best[name][j] = np.minimum(best[name][j], t)
    tot = {k: v.sum(axis=0) for k, v in best.items()}
    if r == 0:
        s = tot["search"]
        print("SCALE %d, %d ranks, %d roots, per-root best of %d: search wall %.4f s cpu %.4f s"
              % (args.scale, p, len(roots), args.repeat, s[0] / len(roots), s[1] / len(roots)))
        for name in kinds:
            v = tot[name]
            print("  %-6s validation wall %.4f s (%.2fx search) cpu %.4f s (%.2fx search)"
                  % (name, v[0] / len(roots), v[0] / s[0], v[1] / len(roots), v[1] / s[1]))


if __name__ == "__main__":
    main()
