"""BFS (Kernel 2) before/after in one process: times bfs() of this checkout against the
`kernels` package of another source tree on the same graph, interleaved per root, and
reports wall and CPU time (time.process_time, max over ranks, which a shared machine's
load hits far less than the wall clock): per root the least of REPEAT sweeps, summed. The trees of both are
checked to give the same depths (the old code may pick other parents).

  mkdir -p /tmp/old && git archive <commit> kernels | tar -x -C /tmp/old
  rm -rf /tmp/old/oldkernels && mv /tmp/old/kernels /tmp/old/oldkernels
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/bfs_ab.py \\
      /tmp/old SCALE [--roots 16] [--repeat 3] [--layout 2d]

--layout 2d compares kernels/bfs2d.py (on the 2-D graph) instead.
"""
import argparse
import importlib
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.bfs2d import BFS2DWorkspace, bfs2d
from graph500.kernels.construct import construct_graph
from graph500.kernels.construct2d import construct_graph2d


def benchmark_tuples(comm, scale, weights=False):
    """This rank's share of the SCALE Kronecker graph's tuples (edgefactor 16, seed 2 3):
    (src, dst, weight or None) (also used by bench/sssp_ab.py)."""
    r, p = comm.Get_rank(), comm.Get_size()
    m = 16 << scale
    return generate_edges(scale, 16, 2, 3, r * m // p, (r + 1) * m // p, weights=weights)


def graph_and_roots(comm, scale, nroots, layout="1d"):
    """The SCALE Kronecker graph (edgefactor 16, seed 2 3) built on comm, on the 1-D or 2-D
    layout, and nroots roots with edges, drawn the same on every rank (also used by
    bench/validation_ab.py)."""
    src, dst, _ = benchmark_tuples(comm, scale)
    g = (construct_graph2d if layout == "2d" else construct_graph)(comm, scale, src, dst)
    del src, dst
    return g, roots_with_edges(comm, g, nroots)


def roots_with_edges(comm, g, nroots):
    """nroots vertices with edges of the graph g (either layout), drawn the same on every
    rank."""
    scale = g.part.scale
    deg = np.zeros(1 << scale, dtype=np.int64)
    deg[g.part.lo:g.part.hi] = g.degree()
    comm.Allreduce(MPI.IN_PLACE, deg, op=MPI.SUM)
    rng = np.random.default_rng(1)
    return [int(v) for v in rng.permutation(np.flatnonzero(deg))[:nroots]]


def _depths(comm, part, parent, root):
    """Global depth of every vertex from a parent array (rank 0 only; small SCALEs)."""
    allp = comm.gather(parent.copy(), root=0)
    if comm.Get_rank():
        return None
    p = np.concatenate(allp)
    d = np.full(len(p), -1, dtype=np.int64)
    d[root] = 0
    changed = True
    while changed:
        ok = (p >= 0) & (d < 0)
        ok &= d[np.where(p >= 0, p, 0)] >= 0
        changed = bool(ok.any())
        d[ok] = d[p[ok]] + 1
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="compare depths (gathers N ids)")
    ap.add_argument("--after-first", action="store_true",
                    help="run the new code first for each root (to see any order bias)")
    ap.add_argument("--phases", action="store_true",
                    help="also CPU time per step function called from bfs() (rank 0, summed "
                         "over every sweep; the rest is bfs()'s own Python per level)")
    ap.add_argument("--layout", choices=("1d", "2d"), default="1d")
    args = ap.parse_args()
    sys.path.insert(0, args.old)
    two = args.layout == "2d"
    oldbfs = importlib.import_module("oldkernels.bfs2d" if two else "oldkernels.bfs")
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    g, roots = graph_and_roots(comm, args.scale, args.roots, args.layout)
    if two:
        kinds = {"before": (oldbfs.BFS2DWorkspace(g, comm), oldbfs.bfs2d),
                 "after": (BFS2DWorkspace(g, comm), bfs2d)}
    else:
        kinds = {"before": (oldbfs.BFSWorkspace(g, comm), oldbfs.bfs),
                 "after": (BFSWorkspace(g, comm), bfs)}
    if args.after_first:
        kinds = dict(reversed(list(kinds.items())))
    for ws, f in kinds.values():              # compile outside the timings
        ws.reset()
        f(ws, roots[0])
    if args.check:
        for root in roots[:4]:
            d = []
            for ws, f in kinds.values():
                ws.reset()
                d.append(_depths(comm, g.part, f(ws, root), root))
            if r == 0 and not np.array_equal(d[0], d[1]):
                sys.exit("root %d: depths differ" % root)
    phases = {}
    if args.phases:     # after every compile: Numba resolves globals when it compiles
        new = bfs2d if two else bfs
        for name, mod in (("before", oldbfs), ("after", importlib.import_module(new.__module__))):
            phases[name] = _wrap_steps(mod)
    # Per root and kind, the least wall and CPU time over the sweeps (a loaded machine's
    # stalls hit single searches; the least of several is the search's own cost).
    best = {k: np.full((len(roots), 2), np.inf) for k in kinds}
    for _ in range(args.repeat):
        for j, root in enumerate(roots):
            for name, (ws, f) in kinds.items():
                ws.reset()
                comm.Barrier()
                t0, c0 = time.perf_counter(), time.process_time()
                f(ws, root)
                comm.Barrier()
                wall = time.perf_counter() - t0
                cpu = comm.allreduce(time.process_time() - c0, op=MPI.MAX)
                best[name][j] = np.minimum(best[name][j], (wall, cpu))
    best = {k: v.sum(axis=0) for k, v in best.items()}
    if r == 0:
        b, a = best["before"], best["after"]
        print("SCALE %d, %d ranks, %s layout, %d roots, per-root best of %d sweeps: wall before "
              "%.3f s after %.3f s (after/before %.2f); cpu (max over ranks) before %.3f s "
              "after %.3f s (after/before %.2f)"
              % (args.scale, p, args.layout, len(roots), args.repeat, b[0], a[0], a[0] / b[0],
                 b[1], a[1], a[1] / b[1]))
        if phases:
            print("  CPU s per step function, rank 0, all sweeps:")
            _print_phases(phases, None)


def _wrap_steps(mod):
    """Replace every function bfs() calls through `mod`'s globals by one that adds its CPU
    time to the returned dict (the wrapper's own cost is the same for both trees). Call it
    after the warm-up: a step compiled later would find a wrapper where it expects a Numba
    function. Inline helpers (owner, set_bit ...) are never called from Python: left alone."""
    acc = {}
    for name, f in list(vars(mod).items()):
        if name in ("bfs", "bfs2d") or isinstance(f, type) or not callable(f) or name.isupper():
            continue
        if getattr(f, "targetoptions", {}).get("inline") == "always":
            continue

        def timed(*a, _f=f, _n=name, **k):
            c0 = time.process_time()
            try:
                return _f(*a, **k)
            finally:
                acc[_n] = acc.get(_n, 0.0) + time.process_time() - c0
        setattr(mod, name, timed)
    return acc


def _print_phases(phases, total):
    for kind, acc in phases.items():
        print("  %s: %s" % (kind, ", ".join("%s %.3f" % kv for kv in
                                              sorted(acc.items(), key=lambda kv: -kv[1])
                                              if kv[1] >= 0.0005)))


if __name__ == "__main__":
    main()
