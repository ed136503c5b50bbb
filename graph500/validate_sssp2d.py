"""SSSP validation (spec section 5) on the 2-D layout: the checks, numbers and messages of
validate_sssp.py, with every distance exchange along a grid row or column and no N-sized
array.

  1-4  parent range, finite non-negative distances, parent -1 exactly when unset, the
       root's own entry: on each owner, with validate_sssp's own pass.
  5    every entry (v -> u, w) of the block with v < u, with d(v) from the column strip
       (gathered along the grid column, N/C float32) and d(u) from the row strip (gathered
       along the grid row, N/R float32): one end reached and not the other, or
       float32(d + w) below the other end. The block matrix holds every tuple as two
       entries, v -> u and u -> v, so each tuple is tested once, from its smaller end (the
       failure records are the same from either end).
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
from graph500.kernels.intrinsics import prefetch
from graph500.kernels.partition import owner

from .validate2d import pairs_to_parent_rows
from .validate_sssp import (CHECK_REACH, CHECK_WEIGHT, FAIL_FIELDS, NO_FAILURE,
                            PREFETCH_AHEAD, STRICT, TIE, check_owned, conclude, merge_failures,
                            record_failure)


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
    """Check 5 over the block's entries (v -> u); returns the entries with both ends reached
    (two per tuple). Each tuple is tested from its smaller end only, as validate_sssp.py
    does: the block matrix holds {v, u} as v -> u here and as u -> v in the block of u's
    column and v's row, and a failure is recorded the same from either end, so the entries
    with u < v are left to that block (half the random reads of the row strip's
    distances). Each read asks the cache for the distance PREFETCH_AHEAD entries on."""
    ncol = len(colptr) - 1
    fails = np.full((nchunks, FAIL_FIELDS), np.float64(NO_FAILURE))
    counts = np.zeros(nchunks, dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        f = fails[c]
        both = 0
        c0, c1 = c * ncol // nchunks, (c + 1) * ncol // nchunks
        kend = colptr[c1]
        for v in range(c0, c1):
            a = colptr[v]
            b = colptr[v + 1]
            if a == b:
                continue
            dv = dist_col[v]
            v_reached = dv != np.inf
            vg = _strip_vertex(v, col_base, col_lo)
            for k in range(a, b):
                if k + PREFETCH_AHEAD < kend:
                    prefetch(dist_row, rows[k + PREFETCH_AHEAD] - row_lo)
                u = rows[k]
                if u < vg:
                    continue
                du = dist_row[u - row_lo]
                u_reached = du != np.inf
                if not u_reached and not v_reached:
                    continue
                w = weight[k]
                if u_reached != v_reached:
                    if u_reached:
                        record_failure(f, CHECK_REACH, vg, u, dv, du, w)
                    else:
                        record_failure(f, CHECK_REACH, u, vg, du, dv, w)
                    continue
                both += 2
                # float32 sums, exactly as the kernel relaxes (spec section 5, check 5)
                if du + w < dv or dv + w < du:     # (vg < u here: the smaller end first)
                    record_failure(f, CHECK_WEIGHT, vg, u, dv, du, w)
        counts[c] = both
    merge_failures(fails, fail)
    return counts.sum()


@njit(cache=True, nogil=True, parallel=True)
def _confirm(recv, n, colptr, rows, weight, dist_col, dist_row, offs, col_base, nranks, scale,
             shift, C, row_lo, marks, nchunks):
    """marks[x] = STRICT or TIE where column x holds an entry to its parent giving its
    distance exactly (TIE when the parent's distance equals x's)."""
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
                    marks[x] = TIE if dp == dx else STRICT
                    break


def validate_sssp2d(comm, graph, root, dist, parent, nedge):
    """Collective. Returns (ok, message or None, nedge_counted), the same on every rank,
    as validate_sssp.validate_sssp."""
    g = graph.grid
    part = graph.part
    lo, R, C = g.lo, g.R, g.C
    nchunks = 4 * numba.get_num_threads()
    message, fail, dist, parent = check_owned(comm, part, root, dist, parent, nchunks)
    if message:
        return False, message, 0

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
    # (checks 1-4 may have failed: only parent ids in range are sent)
    having = np.flatnonzero((parent >= 0) & (parent < g.nglobal))
    args = (parent, np.int64(lo), having, len(having), g.nranks, g.scale, g.shift, C)
    counts = np.zeros(R, dtype=np.int64)
    pairs_to_parent_rows(*args, counts, np.empty(0, dtype=np.int64), False)
    send = np.empty(2 * len(having), dtype=np.int64)
    pairs_to_parent_rows(*args, counts, send, True)
    del having
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
