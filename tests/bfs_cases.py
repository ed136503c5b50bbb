"""BFS checks that run the same way on one rank (imported by pytest) and under mpiexec
(`python tests/bfs_cases.py SCALE OUT.json`): per-root edge counts, depths compared with
scipy, and every validation mutation class of spec section 5."""
import json
import sys

import numpy as np
from mpi4py import MPI

from graph500.driver import _has_edge
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500 import validate as V
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.construct import construct_graph
from graph500.kernels.teps import edge_count


def build(comm, scale, edgefactor=16, seed=(2, 3)):
    m = edgefactor << scale
    r, p = comm.Get_rank(), comm.Get_size()
    src, dst, _ = generate_edges(scale, edgefactor, seed[0], seed[1], r * m // p, (r + 1) * m // p)
    g = construct_graph(comm, scale, src, dst)
    roots = choose_roots(scale, 64, seed[0], seed[1], _has_edge(comm, g))   # the driver's query
    return g, roots


def global_adjacency(comm, g):
    """Every vertex's row (its neighbours, duplicates kept) of the 1-D graph g, gathered on
    every rank (small graphs only): for scipy and for choosing mutations."""
    adjacency = [None] * g.part.nglobal
    for rlo, rp, c in comm.allgather((g.part.lo, g.rowptr, g.col)):
        for i in range(len(rp) - 1):
            adjacency[rlo + i] = c[rp[i]:rp[i + 1]]
    return adjacency


def global_depth(parent_all, root):
    n = len(parent_all)
    depth = np.full(n, -1, dtype=np.int64)
    depth[root] = 0
    level = 0
    while True:
        nxt = (depth == -1) & (parent_all >= 0)
        nxt &= depth[np.clip(parent_all, 0, n - 1)] == level
        if not nxt.any():
            return depth
        depth[nxt] = level + 1
        level += 1


def mutations(parent_all, depth, root, adjacency):
    """(name, expected check, mutated global parent or None, nedge delta), chosen from the
    global parent array so every rank picks the same mutation."""
    n = len(parent_all)
    children = np.bincount(parent_all[parent_all >= 0], minlength=n)
    children[root] -= 1
    reached = np.flatnonzero(parent_all >= 0)
    leaves = [v for v in reached if v != root and children[v] == 0 and depth[v] >= 2]
    out = []

    def mutate(changes):
        p = parent_all.copy()
        for v, x in changes:
            p[v] = x
        return p

    v = leaves[0]
    d = depth[v]
    # cycle: two adjacent leaves at the same depth made each other's parent
    a = next(u for u in leaves if any(depth[w] == depth[u] and children[w] == 0 and w != root
                                          for w in adjacency[u] if w != u))
    b = next(w for w in adjacency[a] if depth[w] == depth[a] and children[w] == 0 and w != a and w != root)
    out.append(("cycle", V.CHECK_TREE, mutate([(a, b), (b, a)]), 0))
    # a parent that is not a neighbour, one level up (depths stay consistent)
    nonnb = next(w for w in reached if depth[w] == d - 1 and w not in adjacency[v])
    out.append(("non-neighbour parent", V.CHECK_CONFIRM, mutate([(v, nonnb)]), 0))
    # level gap of two: the leaf hangs under a vertex of its own depth, so it moves one level
    # down and its old parent (two levels up now) is still its neighbour
    same = next(w for w in reached if depth[w] == d and w != v)
    out.append(("level gap of two", V.CHECK_LEVEL, mutate([(v, same)]), 0))
    # a reached vertex with an unreached neighbour
    out.append(("unreached neighbour", V.CHECK_REACH, mutate([(v, -1)]), 0))
    # wrong root entry
    out.append(("wrong root entry", V.CHECK_ROOT, mutate([(root, int(adjacency[root][0]))]), 0))
    # parents out of range
    out.append(("parent = N", V.CHECK_RANGE, mutate([(v, n)]), 0))
    out.append(("parent = -2", V.CHECK_RANGE, mutate([(v, -2)]), 0))
    # wrong edge count
    out.append(("wrong nedge", V.CHECK_NEDGE, None, 1))
    return out


def run_cases(comm, scale, nroots=3):
    g, roots = build(comm, scale)
    ws = BFSWorkspace(g, comm)
    lo, hi = g.part.lo, g.part.hi
    report = {"roots": [int(r) for r in roots], "nedge": [], "depths_ok": [], "mutations": {}}
    adjacency = global_adjacency(comm, g)
    for root in roots[:nroots]:
        ws.reset()
        parent = bfs(ws, root)
        m = edge_count(comm, g, parent)
        fail, counted = V.validate_bfs(comm, g, root, parent, m)
        report["nedge"].append(m)
        parent_all = np.concatenate(comm.allgather(parent.copy()))
        depth = global_depth(parent_all, root)
        report["depths_ok"].append({"root": int(root), "valid": fail is None, "counted": counted,
                                    "depth_sum": int(depth[depth >= 0].sum()),
                                    "parent": parent_all.tolist() if comm.Get_rank() == 0 else None})
    # mutations on the first root's result
    root = roots[0]
    ws.reset()
    parent = bfs(ws, root).copy()
    m = edge_count(comm, g, parent)
    parent_all = np.concatenate(comm.allgather(parent))
    depth = global_depth(parent_all, root)
    cases = mutations(parent_all, depth, root, adjacency) + [("correct result", 0, None, 0)]
    for name, expect, mutated, dm in cases:
        local = parent.copy() if mutated is None else mutated[lo:hi].copy()
        # the row scan as one piece (one thread) and in several (the threaded path's
        # chunking, forced here at any thread count): the same verdict
        got = []
        for nchunks in (1, 5):
            fail, _ = V.validate_bfs(comm, g, root, local, m + dm, nchunks=nchunks)
            got.append(fail.check if fail else 0)
        report["mutations"][name] = {"expected": expect, "got": got[0], "got_chunked": got[1]}
    return report


if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rep = run_cases(comm, int(sys.argv[1]))
    if comm.Get_rank() == 0:
        with open(sys.argv[2], "w") as f:
            json.dump(rep, f)
