"""Kernel 1 for the 2-D layout: each rank's block of the symmetric adjacency matrix.

Rank (i, j) of the grid (grid.py) stores the directed entries (v -> u) with v in column strip j
and u in row strip i, as a CSC indexed by v's padded column-strip index: colptr (col_n + 1
offsets) and rows (u as a global id). Every non-self-loop tuple (u, v) gives both entries,
(u -> v) and (v -> u); self-loops are dropped and duplicates kept, exactly as the 1-D Kernel 1
(construct.py) does, so the multiset of directed entries is the same and the Kernel 1 audit
hashes it the same way (h(v, u) for v's column holding u, as for v's CSR row holding u).

Steps, in bounded rounds of the local edge list (the send and receive buffers stay small
whatever the SCALE): count (each entry's v goes to the rank (gridrow(b(u)), gridcol(b(v))),
which counts its column lengths), prefix sum, then fill ((v, u) records placed at the column's
cursor, in sender order then edge order, so the CSC is the same for any thread count).

The tuple degree of a vertex (its 1-D CSR row length: root choice, TEPS edge counts, the
direction heuristic) is spread over the R blocks of its grid column: one Reduce_scatter along
the column gives each owner its block's degrees.
"""
from dataclasses import dataclass

import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .construct import CHUNK_EDGES, id_bytes, max_block_vertices, sort_rows_by_weight
from .exchange import alltoallv_pieces, chunk_starts
from .grid import Grid
from .partition import Partition, owner


@dataclass
class Graph2D:
    grid: Grid
    part: Partition              # the 1-D ownership (the same as the 1-D layout's)
    colptr: np.ndarray           # int64, grid.col_n + 1
    rows: np.ndarray             # global ids of the u's, vertex dtype
    degree_local: np.ndarray     # int64, tuple degree of each vertex of this rank's block
    # float32 weight of each entry (aligned with rows), each column sorted by weight then id
    # as the 1-D rows are (SSSP's light entries a prefix); None for a BFS-only graph
    weight: np.ndarray = None

    @property
    def nlocal(self):
        return self.part.nlocal

    def degree(self):
        return self.degree_local

    def audit_segments(self):
        """(colptr slice, rows slice, global id of the first column, weights slice or None)
        per block of the column strip: each is a CSR of consecutive vertices, which is what
        the Kernel 1 audit hashes (audit.py)."""
        g = self.grid
        base = g.col_index_base()
        out = []
        for s in range(g.R):
            a = int(base[s])
            n = int(g.col_block_n[s])
            ptr = self.colptr[a:a + n + 1]
            w = None if self.weight is None else self.weight[ptr[0]:ptr[-1]]
            out.append((ptr - ptr[0], self.rows[ptr[0]:ptr[-1]], int(g.col_block_lo[s]), w))
        return out


# Threads: as in construct.py, the sender's round is cut into one chunk per thread, each
# writing its records at its own cursors (so a destination gets them in edge order), and the
# records are grouped by *piece* of the receiver's column strip: its R segments, each cut
# into nblk word-aligned pieces by the owner function over nranks * nblk virtual ranks
# (partition.row_blocks). The receiver gives each piece to one thread: no column is shared,
# and inside a column the entries still come in sender order, then edge order, so the CSC
# is the same for any thread count. nblk is bounded so that a chunk's count row (nranks x R
# x nblk) stays small at any P.


def column_pieces(nranks, R, nthreads):
    """Pieces per segment of a column strip (see above): the thread count, bounded."""
    return max(1, min(int(nthreads), (1 << 16) // (int(nranks) * int(R))))


def _dest_tables(g, nblk):
    """Where entry (x -> y) goes, as rank * R * nblk + piece: the rank in the grid row of y's
    block and the grid column of x's block, the piece of x's column in that rank's strip
    (segment = x's grid row, then x's virtual rank inside its block). It splits into a part
    from y's block (ypart, by owner over nranks) and one from x's virtual rank (xpart, by
    owner over nranks * nblk), so routing an entry is two lookups in small tables: the
    divisions by C and nblk, once per entry, cost more than the rest of the routing."""
    R, C, nranks = g.R, g.C, g.nranks
    yb = np.arange(nranks, dtype=np.int64)
    ypart = (yb // C) * C * R * nblk
    q = np.arange(nranks * nblk, dtype=np.int64)
    b = q // nblk
    xpart = (b % C) * R * nblk + (b // C) * nblk + q % nblk
    return ypart, xpart


@njit(cache=True, nogil=True, inline="always")
def _dest(x, y, nranks, nvirt, scale, shift, ypart, xpart):
    return ypart[owner(y, nranks, scale, shift)] + xpart[owner(x, nvirt, scale, shift)]


@njit(cache=True, nogil=True)
def _count_run(src, dst, nranks, nvirt, scale, shift, ypart, xpart, out):
    counts = np.zeros(len(out), dtype=np.int64)
    for e in range(len(src)):
        u = src[e]
        v = dst[e]
        if u != v:
            counts[_dest(u, v, nranks, nvirt, scale, shift, ypart, xpart)] += 1
            counts[_dest(v, u, nranks, nvirt, scale, shift, ypart, xpart)] += 1
    out[:] = counts


@njit(cache=True, nogil=True, parallel=True)
def _route_counts(src, dst, nranks, nvirt, scale, shift, ypart, xpart, ndest, nchunks):
    """counts[c, d]: entries of chunk c of the edges for destination d (rank and piece, see
    _dest_tables; two entries per non-self-loop tuple)."""
    counts = np.zeros((nchunks, ndest), dtype=np.int64)
    n = len(src)
    for c in prange(nchunks):
        a, b = c * n // nchunks, (c + 1) * n // nchunks
        _count_run(src[a:b], dst[a:b], nranks, nvirt, scale, shift, ypart, xpart, counts[c])
    return counts


@njit(cache=True, nogil=True)
def _fill_run(src, dst, wbits, nranks, nvirt, scale, shift, ypart, xpart, stride, cursor, out):
    pos = cursor.copy()
    for e in range(len(src)):
        u = src[e]
        v = dst[e]
        if u != v:
            q = _dest(u, v, nranks, nvirt, scale, shift, ypart, xpart)
            p = pos[q] * stride
            out[p] = u
            if stride >= 2:
                out[p + 1] = v
            if stride == 3:
                out[p + 2] = wbits[e]
            pos[q] += 1
            q = _dest(v, u, nranks, nvirt, scale, shift, ypart, xpart)
            p = pos[q] * stride
            out[p] = v
            if stride >= 2:
                out[p + 1] = u
            if stride == 3:
                out[p + 2] = wbits[e]
            pos[q] += 1


@njit(cache=True, nogil=True, parallel=True)
def _route(src, dst, wbits, nranks, nvirt, scale, shift, ypart, xpart, stride, pos, out):
    """Records (x[, y[, weight bits]]) of entry x -> y grouped by destination rank and piece,
    chunk c at its cursors (so inside a destination the records keep edge order for any
    thread count). The weight travels as its float32 bit pattern inside the record, as in
    construct.py, so a weighted round is still one exchange."""
    nchunks = pos.shape[0]
    n = len(src)
    for c in prange(nchunks):
        a, b = c * n // nchunks, (c + 1) * n // nchunks
        w = wbits[a:b] if stride == 3 else wbits
        _fill_run(src[a:b], dst[a:b], w, nranks, nvirt, scale, shift, ypart, xpart, stride,
                  pos[c], out)


@njit(cache=True, nogil=True)
def _count_cols_run(recv, nranks, scale, shift, coloff, counts):
    for t in range(len(recv)):
        x = recv[t]
        counts[x + coloff[owner(x, nranks, scale, shift)]] += 1


@njit(cache=True, nogil=True, parallel=True)
def _count_cols(recv, seg, sub, npiece, nranks, scale, shift, coloff, counts):
    """Column lengths from the received column ids, a thread per piece of the strip."""
    nsend = len(sub) // npiece
    for b in prange(npiece):
        for s in range(nsend):
            a = seg[s * npiece + b]
            _count_cols_run(recv[a:a + sub[s * npiece + b]], nranks, scale, shift, coloff,
                            counts)


@njit(cache=True, nogil=True)
def _place_run(recv, stride, nranks, scale, shift, coloff, cursor, rows, wbits):
    for t in range(len(recv) // stride):
        x = recv[stride * t]
        c = x + coloff[owner(x, nranks, scale, shift)]
        p = cursor[c]
        rows[p] = recv[stride * t + 1]
        if stride == 3:
            wbits[p] = recv[stride * t + 2]
        cursor[c] = p + 1


@njit(cache=True, nogil=True, parallel=True)
def _place(recv, seg, sub, npiece, stride, nranks, scale, shift, coloff, cursor, rows, wbits):
    """Each received entry into the next free slot of its column, a thread per piece."""
    nsend = len(sub) // npiece
    for b in prange(npiece):
        for s in range(nsend):
            a = seg[s * npiece + b]
            _place_run(recv[a * stride:(a + sub[s * npiece + b]) * stride], stride, nranks,
                       scale, shift, coloff, cursor, rows, wbits)


def construct_graph2d(comm, scale, src, dst, weight=None, chunk=CHUNK_EDGES, grid=None):
    """Collective. src/dst[/weight] are this rank's share of the edge list (any share).
    Returns this rank's Graph2D; with weights, each column sorted by weight (ties by id), as
    the 1-D Kernel 1 sorts its rows, so one layout serves BFS and SSSP."""
    g = grid if grid is not None else Grid(comm, scale)
    part = Partition(scale, g.nranks, g.rank)
    nranks, shift, R, C = g.nranks, g.shift, g.R, g.C
    nthreads = numba.get_num_threads()
    nblk = column_pieces(nranks, R, nthreads)
    npiece = R * nblk
    nvirt, ndest = nranks * nblk, nranks * npiece
    ypart, xpart = _dest_tables(g, nblk)
    # padded column-strip index of a received column id x: x + coloff[owner(x)] (blocks of
    # this rank's grid column only ever arrive)
    col_base = g.col_index_base().astype(np.int64)
    coloff = np.zeros(nranks, dtype=np.int64)
    for seg in range(R):
        b = seg * C + g.j
        coloff[b] = col_base[seg] - g.offsets[b]
    nedges = len(src)
    rounds = int(comm.allreduce((nedges + chunk - 1) // chunk, op=MPI.MAX))

    use_w = weight is not None
    # float32 weights move as int32 bit patterns inside the id records (exact): int32 ids
    # hold them directly, int64 ids widen them
    nowbits = np.zeros(1, dtype=src.dtype)
    stride = 3 if use_w else 2

    counts_col = np.zeros(g.col_n + 1, dtype=np.int64)
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        pos, counts = chunk_starts(_route_counts(s, d, nranks, nvirt, scale, shift, ypart,
                                                 xpart, ndest, nthreads))
        out = np.empty(int(counts.sum()), dtype=src.dtype)
        _route(s, d, nowbits, nranks, nvirt, scale, shift, ypart, xpart, 1, pos, out)
        recv, seg, sub = alltoallv_pieces(comm, out, counts, npiece, 1)
        _count_cols(recv, seg, sub, npiece, nranks, scale, shift, coloff, counts_col[1:])
        del out, recv

    colptr = np.cumsum(counts_col)
    rows = np.empty(int(colptr[-1]), dtype=src.dtype)
    wcol = np.empty(len(rows) if use_w else 0, dtype=np.float32)
    wcol_bits = wcol.view(np.int32)
    cursor = colptr[:-1].copy()
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        wb = weight[a:b].view(np.int32).astype(src.dtype, copy=False) if use_w else nowbits
        pos, counts = chunk_starts(_route_counts(s, d, nranks, nvirt, scale, shift, ypart,
                                                 xpart, ndest, nthreads))
        out = np.empty(stride * int(counts.sum()), dtype=src.dtype)
        _route(s, d, wb, nranks, nvirt, scale, shift, ypart, xpart, stride, pos, out)
        recv, seg, sub = alltoallv_pieces(comm, out, counts, npiece, stride)
        _place(recv, seg, sub, npiece, stride, nranks, scale, shift, coloff, cursor, rows,
               wcol_bits)
        del out, recv
    del cursor
    if use_w:
        sort_rows_by_weight(colptr, rows, wcol)

    degree_local = g.fold_columns(np.diff(colptr), np.int64, MPI.SUM)
    return Graph2D(g, part, colptr, rows, degree_local, wcol if use_w else None)


def edge_count2d(comm, graph, parent):
    """m for TEPS (kernels/teps.py's rule): the tuple degrees of the reached vertices / 2."""
    reached = parent != -1
    return int(comm.allreduce(int(graph.degree_local[reached].sum()), op=MPI.SUM)) // 2


# --- memory estimate (used by graph500/memory.py) ---

def graph2d_bytes(scale, edgefactor, nranks, weights=False):
    """The Graph2D Kernel 1 returns: colptr (N/C + 1 int64), the entries (as many as the 1-D
    CSR's, spread evenly over the ranks; with weights 4 bytes more each), and the degrees
    of the rank's block."""
    from .construct import expected_entries
    from .grid import grid_shape
    R, C = grid_shape(nranks)
    ncol = R * max_block_vertices(scale, nranks)
    entry = id_bytes(scale) + (4 if weights else 0)
    return (8 * (ncol + 1) + expected_entries(scale, edgefactor, nranks) * entry
            + 8 * max_block_vertices(scale, nranks))


def construct2d_bytes(scale, edgefactor, nranks, chunk=CHUNK_EDGES, weights=False):
    """Kernel 1's peak beside its edge list: the graph, the column counts (N/C + 1 int64),
    the fill cursors (N/C int64), and the larger of one round's send and receive buffers (two
    records of two ids, three with weights, per edge each) and the column sort's buffer (the
    longest column, int32 ids with weights only)."""
    from .construct import expected_max_degree
    from .grid import grid_shape
    R, C = grid_shape(nranks)
    ncol = R * max_block_vertices(scale, nranks)
    edges = min(chunk, -(-(edgefactor << scale) // nranks))
    stride = 3 if weights else 2
    rounds = 2 * (2 * edges * stride * id_bytes(scale))
    sort = 8 * expected_max_degree(scale, edgefactor) if weights and id_bytes(scale) == 4 else 0
    return (graph2d_bytes(scale, edgefactor, nranks, weights) + 2 * 8 * ncol
            + max(rounds, sort))
