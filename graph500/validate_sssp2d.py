"""SSSP validation (spec section 5) on the 2-D layout: the checks, numbers and messages of
validate_sssp.py, with every distance exchange along a grid row or column and no N-sized
array.

  1-4  parent range, finite non-negative distances, parent -1 exactly when unset, the
       root's own entry: on each owner, with validate_sssp's own pass.
  5    every entry (v -> u, w) of the block, with d(v) from the column strip (gathered along
       the grid column, N/C float32) and d(u) from the row strip (gathered along the grid
       row, N/R float32): one end reached and not the other, or float32(d + w) below the
       other end. The block matrix holds every tuple as two entries, so each tuple is seen
       from both ends (the failure records are the same from either end).
  6    confirmation: each owner sends (x, parent[x]) along its grid column to the rank whose
       row strip holds the parent, which also holds the entries x -> parent[x] if the edge
       exists; it looks for one with d(x) == float32(d(parent) + w) exactly, and marks a tie
       when the two distances are equal. The marks are folded (MAX) to the owners.
  8    parent chains reach the root: validate_sssp's pointer jumping over the ties (only
       ties can lie on a cycle; see there), on the whole communicator.
  9    the kernel's edge count against the entries with both ends reached, / 2.
With 1-6 and 8 the reached set is exactly the root's component, as validate_sssp.py argues.
Every rank returns the same verdict: the first failure (lowest check, then lowest vertex).
Largest arrays: the strips' distances (N/R + N/C float32), the confirmation marks (N/C
bytes) and the (vertex, parent) pairs (about N/P).
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.exchange import alltoallv
from graph500.kernels.grid import gather_strip
from graph500.kernels.partition import owner

from .validate_sssp import (_FIELDS, _NONE, _STRICT, _TIE, CHECK_INPUT, CHECK_REACH, CHECK_ROOT,
                            CHECK_WEIGHT, _check_vertices, _merge, _message, _record,
                            conclude)


@njit(cache=True, nogil=True, inline="always")
def _strip_vertex(v, col_base, col_lo):
    """Global id of padded column-strip index v."""
    g = 0
    while g + 1 < len(col_base) and col_base[g + 1] <= v:
        g += 1
    return col_lo[g] + v - col_base[g]


@njit(cache=True, nogil=True, parallel=True)
def _check_entries(colptr, rows, weight, dist_col, dist_row, row_lo, col_base, col_lo, fail,
                   nchunks):
    """Check 5 over every entry (v -> u) of the block; returns the entries with both ends
    reached (each tuple is two entries)."""
    ncol = len(colptr) - 1
    fails = np.full((nchunks, _FIELDS), np.float64(_NONE))
    counts = np.zeros(nchunks, dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        f = fails[c]
        both = 0
        for v in range(c * ncol // nchunks, (c + 1) * ncol // nchunks):
            a = colptr[v]
            b = colptr[v + 1]
            if a == b:
                continue
            dv = dist_col[v]
            v_reached = dv != np.inf
            vg = -1
            for k in range(a, b):
                u = rows[k]
                du = dist_row[u - row_lo]
                u_reached = du != np.inf
                if not u_reached and not v_reached:
                    continue
                if vg < 0:
                    vg = _strip_vertex(v, col_base, col_lo)
                w = weight[k]
                if u_reached != v_reached:
                    if u_reached:
                        _record(f, CHECK_REACH, vg, u, dv, du, w)
                    else:
                        _record(f, CHECK_REACH, u, vg, du, dv, w)
                    continue
                both += 1
                # float32 sums, exactly as the kernel relaxes (spec section 5, check 5)
                if du + w < dv or dv + w < du:
                    if vg < u:
                        _record(f, CHECK_WEIGHT, vg, u, dv, du, w)
                    else:
                        _record(f, CHECK_WEIGHT, u, vg, du, dv, w)
        counts[c] = both
    _merge(fails, fail)
    return counts.sum()


@njit(cache=True, nogil=True)
def _pairs(parent, lo, nglobal, nranks, scale, shift, C, R, counts, out, fill):
    """(x, parent[x]) of the vertices with a parent id, grouped by the grid row whose strip
    holds the parent (count pass, then fill pass)."""
    pos = np.zeros(R, dtype=np.int64)
    if fill:
        for g in range(1, R):
            pos[g] = pos[g - 1] + counts[g - 1]
    else:
        counts[:] = 0
    for x in range(len(parent)):
        p = parent[x]
        if p < 0 or p >= nglobal:
            continue
        g = owner(p, nranks, scale, shift) // C
        if fill:
            out[2 * pos[g]] = x + lo
            out[2 * pos[g] + 1] = p
            pos[g] += 1
        else:
            counts[g] += 1


@njit(cache=True, nogil=True, parallel=True)
def _confirm(recv, n, colptr, rows, weight, dist_col, dist_row, offs, col_base, nranks, scale,
             shift, C, row_lo, marks, nchunks):
    """marks[x] = _STRICT or _TIE where column x holds an entry to its parent giving its
    distance exactly (_TIE when the parent's distance equals x's)."""
    for c in prange(nchunks):
        for t in range(c * n // nchunks, (c + 1) * n // nchunks):
            xg = recv[2 * t]
            p = recv[2 * t + 1]
            b = owner(xg, nranks, scale, shift)
            x = col_base[b // C] + xg - offs[b]
            dx = dist_col[x]
            dp = dist_row[p - row_lo]
            for k in range(colptr[x], colptr[x + 1]):
                if rows[k] == p and dx == dp + weight[k]:
                    marks[x] = _TIE if dp == dx else _STRICT
                    break


def validate_sssp2d(comm, graph, root, dist, parent, nedge):
    """Collective. Returns (ok, message or None, nedge_counted), the same on every rank,
    as validate_sssp.validate_sssp."""
    g = graph.grid
    part = graph.part
    lo, R, C = g.lo, g.R, g.C
    nchunks = 4 * numba.get_num_threads()
    fail = np.array([_NONE, 0, 0, 0, 0, 0], dtype=np.float64)
    dist = np.asarray(dist)
    parent = np.asarray(parent)
    usable = (dist.shape == (g.nlocal,) and parent.shape == (g.nlocal,)
              and dist.dtype == np.float32 and np.issubdtype(parent.dtype, np.integer))
    bad_rank = comm.allreduce(comm.Get_rank() if not usable else comm.Get_size(), op=MPI.MIN)
    if bad_rank < comm.Get_size():
        return False, _message(root, (CHECK_INPUT, bad_rank, 0, 0, 0, 0)), 0
    parent = parent.astype(np.int64, copy=False)
    if not 0 <= root < g.nglobal:
        fail[:] = (CHECK_ROOT, root, -1, np.inf, 0, 0)
    _check_vertices(np.int64(root), np.int64(lo), np.int64(g.nglobal), dist, parent, fail,
                    nchunks)

    # the distances of the column strip (along the column) and the row strip (along the row)
    lw = g.local_words
    padded = np.full(64 * lw, np.inf, dtype=np.float32)
    padded[:g.nlocal] = dist
    dist_col = np.full(64 * g.col_words, np.inf, dtype=np.float32)
    gather_strip(g.col_comm, padded, dist_col, 64 * g.col_block_words,
                  64 * g.col_block_wbase[:R])
    dist_row = np.full(64 * g.row_words, np.inf, dtype=np.float32)
    gather_strip(g.row_comm, padded, dist_row, 64 * g.row_block_words, 64 * g.row_block_wbase)
    del padded
    col_base = g.col_index_base().astype(np.int64)
    col_lo = g.col_block_lo.astype(np.int64)
    both = _check_entries(graph.colptr, graph.rows, graph.weight, dist_col, dist_row,
                          np.int64(g.row_lo), col_base, col_lo, fail, nchunks)

    # confirmation: (x, parent[x]) to the grid row holding the parent, along the column
    args = (np.int64(lo), np.int64(g.nglobal), g.nranks, g.scale, g.shift, C, R)
    counts = np.zeros(R, dtype=np.int64)
    _pairs(parent, *args, counts, np.empty(0, dtype=np.int64), False)
    send = np.empty(2 * int(counts.sum()), dtype=np.int64)
    _pairs(parent, *args, counts, send, True)
    if R == 1:
        recv, nrecv = send, len(send) // 2
    else:
        recv, rc = alltoallv(g.col_comm, send, 2 * counts)
        nrecv = int(rc.sum()) // 2
    del send
    marks = np.zeros(max(g.col_n, 1), dtype=np.uint8)
    _confirm(recv, nrecv, graph.colptr, graph.rows, graph.weight, dist_col, dist_row,
             g.offsets, col_base, g.nranks, g.scale, g.shift, C, np.int64(g.row_lo), marks,
             nchunks)
    del recv, dist_col, dist_row
    confirmed = g.fold_columns(marks[:g.col_n], np.uint8, MPI.MAX)
    del marks
    return conclude(comm, part, root, dist, parent, confirmed, both, nedge, fail)


def verdict(comm, graph, root, dist, parent, nedge):
    """Collective: None, or (message, None), as validate_sssp.verdict."""
    ok, message, _ = validate_sssp2d(comm, graph, root, dist, parent, nedge)
    return None if ok else (message, None)


# --- memory estimate (used by graph500/memory.py) ---

def validate_sssp2d_bytes(scale, edgefactor, nranks):
    """validate_sssp2d's peak on one rank: the strips' distances (4 bytes per row- and
    column-strip vertex), the confirmation marks (1 per column-strip vertex), the (vertex,
    parent) pairs sent and received (16 bytes per local vertex each, spread over the
    column) and the folded marks (1 per local vertex)."""
    from graph500.kernels.construct import max_block_vertices
    from graph500.kernels.grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    return 4 * (R + C) * n + R * n + (16 + 16 + 1) * n
