"""Shared by the SSSP tests and their MPI scripts: small weighted graphs and a reference.

Graphs are global edge lists (self-loops and duplicates kept, duplicates often with
different weights, as in the benchmark); each rank hands Kernel 1 its share
[r*M/P, (r+1)*M/P) of the list, so every rank count sees the same graph.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from graph500.kernels.graph import DistGraph, vertex_dtype  # noqa: E402
from graph500.kernels.partition import Partition  # noqa: E402

P31 = 2 ** 31 - 1


def random_edges(scale, nedges, seed):
    """Edges with skewed endpoints (a few hubs, some isolated vertices), self-loops, and
    duplicated pairs with fresh weights. Weights as the generator makes them: float32 of a
    uniform uint in [1, p-1] times 1/p, so in (0, 1]."""
    rng = np.random.default_rng(seed)
    n = 1 << scale
    # Squaring a uniform draw skews towards small ids; a random relabelling spreads them.
    relabel = rng.permutation(n)
    src = relabel[(rng.random(nedges) ** 2 * n).astype(np.int64)]
    dst = relabel[(rng.random(nedges) ** 2 * n).astype(np.int64)]
    dup = rng.integers(0, nedges, nedges // 8)
    src = np.concatenate([src, dst[dup]])  # reversed duplicates
    dst = np.concatenate([dst, src[dup]])
    w = uniform_weights(rng, len(src))
    vdt = vertex_dtype(scale)
    return src.astype(vdt), dst.astype(vdt), w


def ties_edges(scale, nedges, seed):
    """random_edges with weights rounded up to eighths (never 0, so no absorbed ties): most
    vertices have several parents at their distance, exactly, and the parent rule must name
    the same one for every order of the work (ranks, threads, queue sizes)."""
    src, dst, w = random_edges(scale, nedges, seed)
    return src, dst, (np.ceil(w * 8) / 8).astype(np.float32)


def uniform_weights(rng, m):
    u = rng.integers(1, P31, m)
    return (u.astype(np.float32).astype(np.float64) * 0.000000000465661287524579692
            ).astype(np.float32)


def benchmark_edges(scale, edgefactor=16, seed=None):
    """The Kronecker edge list (when the generator is there), else random edges."""
    try:
        from graph500.generator import generate_edges
    except ImportError:
        return random_edges(scale, edgefactor << scale, 12345 if seed is None else seed)
    return generate_edges(scale, edgefactor, 2, 3, 0, edgefactor << scale, weights=True)


def share(comm, src, dst, w):
    r, p = comm.Get_rank(), comm.Get_size()
    m = len(src)
    a, b = r * m // p, (r + 1) * m // p
    return src[a:b].copy(), dst[a:b].copy(), w[a:b].copy()


def build_graph(comm, scale, src, dst, w):
    """Kernel 1 on this rank's share when it exists; otherwise the contract built by hand
    from the whole list (every rank reads the whole list: test graphs are small)."""
    try:
        from graph500.kernels.construct import construct_graph
    except ImportError:
        return local_graph(comm, scale, src, dst, w)
    s, d, ww = share(comm, src, dst, w)
    return construct_graph(comm, scale, s, d, ww)


def local_graph(comm, scale, src, dst, w):
    part = Partition(scale, comm.Get_size(), comm.Get_rank())
    keep = src != dst
    u = np.concatenate([src[keep], dst[keep]]).astype(np.int64)
    v = np.concatenate([dst[keep], src[keep]]).astype(np.int64)
    ww = np.concatenate([w[keep], w[keep]])
    mine = (u >= part.lo) & (u < part.hi)
    u, v, ww = u[mine], v[mine], ww[mine]
    order = np.argsort(u, kind="stable")
    u, v, ww = u[order], v[order], ww[order]
    rowptr = np.zeros(part.nlocal + 1, dtype=np.int64)
    np.cumsum(np.bincount(u - part.lo, minlength=part.nlocal), out=rowptr[1:])
    return DistGraph(part, rowptr, v.astype(vertex_dtype(scale)), ww.astype(np.float32))


def reference_distances(scale, src, dst, w, roots):
    """scipy Dijkstra on the simple graph with the smallest weight per pair (scipy's CSR
    would add duplicate entries up), self-loops dropped. float64 distances, inf unreached."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = 1 << scale
    keep = src != dst
    u = np.concatenate([src[keep], dst[keep]]).astype(np.int64)
    v = np.concatenate([dst[keep], src[keep]]).astype(np.int64)
    ww = np.concatenate([w[keep], w[keep]]).astype(np.float64)
    key = u * n + v
    order = np.lexsort((ww, key))
    key, ww = key[order], ww[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, ww = key[first], ww[first]
    mat = csr_matrix((ww, (key // n, key % n)), shape=(n, n))
    return dijkstra(mat, directed=True, indices=np.asarray(roots))


def gather_block(comm, local):
    """The whole block-distributed array on rank 0 (None elsewhere)."""
    parts = comm.gather(local, root=0)
    return np.concatenate(parts) if comm.Get_rank() == 0 else None


def tuples_reached(src, dst, dist_global):
    """Spec section 6 count, from the global edge list: non-self-loop tuples, both ends reached."""
    keep = src != dst
    reached = np.isfinite(dist_global)
    return int(np.count_nonzero(reached[src[keep]] & reached[dst[keep]]))


# Distances at which a separate component can pass for reached when only the reference's
# checks run: d + w rounds back to d (2^25, 1e30, float32 max), or stays -inf.
FAKE_DISTANCES = {"2^25": np.float32(2 ** 25), "1e30": np.float32(1e30),
                  "f32max": np.finfo(np.float32).max, "-inf": np.float32(-np.inf)}


def fake_component(scale, src, dst, root):
    """A component other than the root's (the smallest with an edge, then the lowest id),
    and parents for it that the reference's checks accept at a distance from FAKE_DISTANCES:
    a BFS tree of the component whose first vertex takes its first child as parent (a
    2-cycle). Returns (vertices, parents, tuples inside it) as global ids, or None when
    every edge lies in the root's component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components
    n = 1 << scale
    keep = src != dst
    s, d = src[keep].astype(np.int64), dst[keep].astype(np.int64)
    adj = coo_matrix((np.ones(len(s)), (s, d)), shape=(n, n)).tocsr()
    _, label = connected_components(adj, directed=False)
    sizes = np.bincount(label)
    deg = np.bincount(np.concatenate([s, d]), minlength=n)
    best = None
    for v in np.flatnonzero(deg):
        c = label[v]
        if c != label[root] and (best is None or sizes[c] < sizes[label[best]]):
            best = v
    if best is None:
        return None
    order, pred = breadth_first_order(adj, int(best), directed=False)
    parents = pred[order].astype(np.int64)
    parents[0] = order[1]
    inside = np.count_nonzero((label[s] == label[best]) & (label[d] == label[best]))
    return order.astype(np.int64), parents, int(inside)


def plant_component(part, dist, parent, verts, parents, value):
    """Mark the component reached at `value` with the given parents (this rank's share)."""
    mine = (verts >= part.lo) & (verts < part.hi)
    dist[verts[mine] - part.lo] = value
    parent[verts[mine] - part.lo] = parents[mine]
