"""How many SSSP parents the final distances leave open: per search, the vertices with more
than one candidate parent (distinct u with float32(d(u) + w) == d(v): an exact tie), and the
"absorbed" candidate entries (float32(d(u) + w) == d(u) == d(v): a weight too small to change
the sum). One rank, the benchmark graph (edgefactor 16, seed 2 3).

  .venv/bin/python bench/sssp_ties.py SCALE [--roots 4]

Why: the 1-D kernel (kernels/sssp.py) names, for a vertex with several candidates, the
smallest parent id among the strict ones, whatever the order of the relaxations; an absorbed
candidate only keeps the vertex when it gave it its distance first (the smallest-id rule there
could close a cycle: two vertices at the same distance, each the other's smallest candidate),
so only a vertex whose candidates are all absorbed, two or more of them, can get a parent that
depends on the order (threads, ranks). This counts how often either case arises (SCALE 22,
4 roots, at 2ffcb4e: 0-6 tied vertices and 0-8 absorbed entries per search of 2.4 million
reached vertices; SCALE 20: none).
"""
import argparse
import os
import sys

import numpy as np
from mpi4py import MPI

from graph500.kernels.construct import construct_graph
from graph500.kernels.sssp import SSSPWorkspace, sssp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bfs_ab import benchmark_tuples, roots_with_edges  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("--roots", type=int, default=4)
    args = ap.parse_args()
    comm = MPI.COMM_WORLD
    if comm.Get_size() != 1:
        sys.exit("sssp_ties.py: runs on one rank (it reads the whole graph)")
    src, dst, w = benchmark_tuples(comm, args.scale, weights=True)
    g = construct_graph(comm, args.scale, src, dst, w)
    del src, dst, w
    roots = roots_with_edges(comm, g, args.roots)
    ws = SSSPWorkspace(g, comm)
    n = len(g.rowptr) - 1
    col = np.asarray(ws.col)
    weight = np.asarray(ws.weight)
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.rowptr))   # entry (v, u): u -> v
    for root in roots:
        ws.reset()
        dist, _ = sssp(ws, root)
        du = dist[col]
        dv = dist[row]
        cand = ((du + weight).astype(np.float32) == dv) & np.isfinite(dv) & (row != root)
        pairs = np.unique(row[cand] * n + col[cand])    # distinct (v, u): multi-edges once
        tied = int((np.bincount(pairs // n, minlength=n) >= 2).sum())
        absorbed = int((cand & (du == dv)).sum())
        print("SCALE %d root %d: reached %d, vertices with two or more candidate parents %d, "
              "absorbed candidate entries %d" % (args.scale, root, int(np.isfinite(dist).sum()),
                                                  tied, absorbed))


if __name__ == "__main__":
    main()
