"""Kernel 1: build the distributed CSR from each rank's share of the edge list.

Steps (each a Numba pass between MPI exchanges, all in chunks of the local edge list so the
message buffers stay bounded whatever the SCALE):
  1. count: every non-self-loop tuple (u, v) contributes one entry to u's row and one to v's
     row; send each endpoint to its owner, which counts its rows' lengths (the tuple degrees);
  2. rowptr: prefix sum of the degrees;
  3. fill: send (u, v[, w]) to owner(u) and (v, u[, w]) to owner(v); the owner writes the
     neighbour into the next free slot of the row;
  4. with weights, sort each row by weight: SSSP's light edges are then a prefix of the row
     and its heavy edges the rest. This is building the search structure, so it is timed
     here, as the spec requires of everything derived from the edge list.
Counting by exchange (rather than a replicated N-length degree array) keeps memory per rank
proportional to the rank's share of the graph. Self-loops are dropped here: they never count
for TEPS and never matter for a search. Duplicates are kept, so a row's length is the tuple
degree TEPS needs.
"""
import numpy as np
from mpi4py import MPI
from numba import njit

from .exchange import alltoallv, starts
from .graph import DistGraph
from .partition import Partition, owner

# Edges per exchange round: the send and receive buffers hold 2 records of 2 ids per edge
# (8 MiB each for int32 ids at 2^19): small next to the graph, which keeps the Kernel 1
# peak (edge list + CSR + buffers) low, and large enough that rounds stay few.
CHUNK_EDGES = 1 << 19


@njit(cache=True, nogil=True)
def _route_counts(src, dst, nranks, scale, shift):
    counts = np.zeros(nranks, dtype=np.int64)
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            counts[owner(u, nranks, scale, shift)] += 1
            counts[owner(v, nranks, scale, shift)] += 1
    return counts


@njit(cache=True, nogil=True)
def _route_endpoints(src, dst, counts, nranks, scale, shift, out):
    """Group the endpoints of the non-self-loop tuples by owner (for degree counting)."""
    pos = starts(counts)
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            ru = owner(u, nranks, scale, shift)
            out[pos[ru]] = u
            pos[ru] += 1
            rv = owner(v, nranks, scale, shift)
            out[pos[rv]] = v
            pos[rv] += 1


@njit(cache=True, nogil=True)
def _route_pairs(src, dst, wgt, use_w, counts, nranks, scale, shift, out, wout):
    """Group (row vertex, neighbour[, weight]) records by the row vertex's owner."""
    pos = starts(counts)
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            ru = owner(u, nranks, scale, shift)
            p = pos[ru]
            out[2 * p] = u
            out[2 * p + 1] = v
            if use_w:
                wout[p] = wgt[i]
            pos[ru] = p + 1
            rv = owner(v, nranks, scale, shift)
            p = pos[rv]
            out[2 * p] = v
            out[2 * p + 1] = u
            if use_w:
                wout[p] = wgt[i]
            pos[rv] = p + 1


@njit(cache=True, nogil=True)
def _count_rows(recv, n, lo, degree):
    for i in range(n):
        degree[recv[i] - lo] += 1


@njit(cache=True, nogil=True)
def _place(recv, wrecv, n, use_w, lo, cursor, col, weight):
    for i in range(n):
        row = recv[2 * i] - lo
        p = cursor[row]
        col[p] = recv[2 * i + 1]
        if use_w:
            weight[p] = wrecv[i]
        cursor[row] = p + 1


@njit(cache=True, nogil=True)
def sort_rows_by_weight(rowptr, col, weight):
    """Sort each row's entries by increasing weight, in place: insertion sort for the many
    short rows, a stable library sort for the few long (hub) rows."""
    for i in range(len(rowptr) - 1):
        a = rowptr[i]
        b = rowptr[i + 1]
        if b - a <= 48:
            for k in range(a + 1, b):
                wk = weight[k]
                ck = col[k]
                j = k - 1
                while j >= a and weight[j] > wk:
                    weight[j + 1] = weight[j]
                    col[j + 1] = col[j]
                    j -= 1
                weight[j + 1] = wk
                col[j + 1] = ck
        else:
            order = np.argsort(weight[a:b], kind="mergesort")
            c = col[a:b].copy()
            w = weight[a:b].copy()
            for j in range(b - a):
                col[a + j] = c[order[j]]
                weight[a + j] = w[order[j]]


def _rounds(comm, nedges, chunk):
    """Every rank must take part in every exchange round, so all agree on the most rounds."""
    return int(comm.allreduce((nedges + chunk - 1) // chunk, op=MPI.MAX))


def construct_graph(comm, scale, src, dst, weight=None, chunk=CHUNK_EDGES):
    """Collective. src/dst[/weight] are this rank's share of the edge list (any share: the
    union over ranks is the edge list). Returns this rank's DistGraph."""
    part = Partition(scale, comm.Get_size(), comm.Get_rank())
    nranks, shift = part.nranks, part.shift
    use_w = weight is not None
    wdummy = np.zeros(1, dtype=np.float32)
    nedges = len(src)
    rounds = _rounds(comm, nedges, chunk)

    degree = np.zeros(part.nlocal, dtype=np.int64)
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        counts = _route_counts(s, d, nranks, scale, shift)
        out = np.empty(int(counts.sum()), dtype=src.dtype)
        _route_endpoints(s, d, counts, nranks, scale, shift, out)
        recv, rc = alltoallv(comm, out, counts)
        _count_rows(recv, int(rc.sum()), part.lo, degree)
        del out, recv

    rowptr = np.zeros(part.nlocal + 1, dtype=np.int64)
    np.cumsum(degree, out=rowptr[1:])
    nentries = int(rowptr[-1])
    col = np.empty(nentries, dtype=src.dtype)
    wcol = np.empty(nentries if use_w else 0, dtype=np.float32)
    cursor = degree                 # the degrees are in rowptr now: reuse their memory
    cursor[:] = rowptr[:-1]
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        w = weight[a:b] if use_w else wdummy
        counts = _route_counts(s, d, nranks, scale, shift)
        out = np.empty(2 * int(counts.sum()), dtype=src.dtype)
        wout = np.empty(int(counts.sum()) if use_w else 1, dtype=np.float32)
        _route_pairs(s, d, w, use_w, counts, nranks, scale, shift, out, wout)
        recv, rc = alltoallv(comm, out, 2 * counts)
        n = int(rc.sum()) // 2
        if use_w:
            wrecv, _ = alltoallv(comm, wout, counts)
        else:
            wrecv = wdummy
        _place(recv, wrecv, n, use_w, part.lo, cursor, col, wcol)
        del out, wout, recv, wrecv
    if use_w:
        sort_rows_by_weight(rowptr, col, wcol)
    return DistGraph(part, rowptr, col, wcol if use_w else None)

