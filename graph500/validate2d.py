"""BFS validation (spec section 5) on the 2-D layout: the checks, numbers and messages of
validate.py, with every exchange along a grid row or column and no N-sized array.

  1, 4   parent range and the root's own entry: on each owner, as validate.py.
  3      depth rebuilt from the parent array alone. Each owner sends (x, parent[x]) once to the
         rank of its grid column whose row strip holds the parent (Alltoallv along the column:
         that rank also holds the CSC entry x -> parent[x] if the edge exists). Level by level:
         the level's bits of row strip i are gathered along the grid row, each rank moves the
         pairs whose parent is in the level into the next level's column-strip bits, and those
         are OR-folded along the grid column to the owners (Reduce_scatter). A vertex whose chain
         never reaches the root never gets a depth.
  5, 6   every entry (v -> u) of the block, with v's depth from the column strip (gathered along
         the column) and u's from the row strip (gathered along the row): one end reached and
         not the other, or levels more than one apart. The symmetric matrix holds each tuple as
         two entries, so each tuple is seen (from both ends).
  7      confirmation: the rank that received (x, parent[x]) looks for the entry x -> parent[x]
         in its block (the parent's depth is one less by construction); the confirmed bits are
         OR-folded to the owners, which require one for every reached vertex but the root.
  8      the kernel's edge count against the entries with a reached column vertex, / 2.
The first failure (lowest check number, then lowest vertex) is agreed by all ranks, as in
validate.py. Largest arrays: depths of the row and column strips (N/R and N/C int32), the
column-strip bitmaps (N/C bits) and the (vertex, parent) pairs (about N/P).
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.bitmap import set_bit, test_bit
from graph500.kernels.exchange import alltoallv
from graph500.kernels.grid import gather_strip
from graph500.kernels.partition import owner

from .validate import (CHECK_CONFIRM, CHECK_LEVEL, CHECK_RANGE, CHECK_REACH, CHECK_ROOT,
                       CHECK_TREE, agree, check_parent_range, conclude)

_NONE = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def pairs_to_parent_rows(parent, lo, pending, npending, nranks, scale, shift, C, counts,
                         out, fill):
    """(x + lo, parent[x]) of the local vertices pending[:npending] (parent ids in range),
    grouped by the grid row whose strip holds the parent (count pass into `counts`, then
    fill pass into `out` at their cursors), in pending order within a row. Also the SSSP
    2-D validator's confirmation pairs (validate_sssp2d.py)."""
    if fill:
        pos = np.zeros(len(counts), dtype=np.int64)
        for g in range(1, len(counts)):
            pos[g] = pos[g - 1] + counts[g - 1]
    else:
        counts[:] = 0
    for t in range(npending):
        x = pending[t]
        p = parent[x]
        g = owner(p, nranks, scale, shift) // C
        if fill:
            out[2 * pos[g]] = x + lo
            out[2 * pos[g] + 1] = p
            pos[g] += 1
        else:
            counts[g] += 1


@njit(cache=True, nogil=True)
def _strip_pairs(recv, n, offs, col_base, nranks, scale, shift, C, row_lo, xs, ps):
    """Received pairs as (padded column-strip index of x, row-strip index of the parent)."""
    for t in range(n):
        x = recv[2 * t]
        b = owner(x, nranks, scale, shift)
        xs[t] = col_base[b // C] + x - offs[b]
        ps[t] = recv[2 * t + 1] - row_lo


@njit(cache=True, nogil=True)
def _advance(xs, ps, live, nlive, level_row, colbits):
    """Pairs whose parent is in the level: x's bit into the next level (colbits); the rest
    stay live. Returns the live count."""
    colbits[:] = 0
    left = 0
    for t in range(nlive):
        k = live[t]
        if test_bit(level_row, ps[k]):
            x = xs[k]
            set_bit(colbits, x)
        else:
            live[left] = k
            left += 1
    return left


@njit(cache=True, nogil=True)
def _set_level(bits, n, depth, level):
    found = 0
    for x in range(n):
        if test_bit(bits, x):
            depth[x] = level
            found += 1
    return found


@njit(cache=True, nogil=True, parallel=True)
def _scan_entries(colptr, rows, depth_col, depth_row, row_lo, col_base, col_lo, nchunks):
    """Rules 5 and 6 over every entry of the block. Returns (check, v, x, entries whose
    column vertex is reached); the failure is the smallest (check, v, x) of any chunk, so
    the answer does not depend on the thread count."""
    ncol = len(colptr) - 1
    fails = np.full((nchunks, 3), _NONE, dtype=np.int64)
    counts = np.zeros(nchunks, dtype=np.int64)
    for c in prange(nchunks):
        cnt = 0
        best0 = _NONE
        best1 = _NONE
        best2 = _NONE
        for v in range(c * ncol // nchunks, (c + 1) * ncol // nchunks):
            a = colptr[v]
            b = colptr[v + 1]
            if a == b:
                continue
            dv = depth_col[v]
            if dv >= 0:
                cnt += b - a
            for k in range(a, b):
                du = depth_row[rows[k] - row_lo]
                if dv < 0 and du < 0:
                    continue
                chk = 0
                if dv < 0 or du < 0:
                    chk = CHECK_REACH
                elif dv - du > 1 or du - dv > 1:
                    chk = CHECK_LEVEL
                if chk:
                    g = 0
                    while g + 1 < len(col_base) and col_base[g + 1] <= v:
                        g += 1
                    vg = col_lo[g] + v - col_base[g]
                    u = np.int64(rows[k])
                    if (chk < best0 or (chk == best0 and (vg < best1 or
                                                          (vg == best1 and u < best2)))):
                        best0, best1, best2 = chk, vg, u
        fails[c, 0], fails[c, 1], fails[c, 2] = best0, best1, best2
        counts[c] = cnt
    best = fails[0].copy()
    for c in range(1, nchunks):
        f = fails[c]
        if (f[0] < best[0] or (f[0] == best[0] and (f[1] < best[1] or
                                                   (f[1] == best[1] and f[2] < best[2])))):
            best[:] = f
    return best[0], best[1], best[2], counts.sum()


@njit(cache=True, nogil=True, parallel=True)
def _confirm(colptr, rows, xs, ps, n, row_lo, flags, nchunks):
    """flags[x] = 1 where column x holds its parent (pairs received from the owners)."""
    for c in prange(nchunks):
        for t in range(c * n // nchunks, (c + 1) * n // nchunks):
            x = xs[t]
            p = ps[t] + row_lo
            for k in range(colptr[x], colptr[x + 1]):
                if rows[k] == p:
                    flags[x] = 1
                    break


@njit(cache=True, nogil=True)
def _pack(flags, bits):
    bits[:] = 0
    for x in range(len(flags)):
        if flags[x]:
            set_bit(bits, x)


@njit(cache=True, nogil=True)
def _owner_checks(parent, depth, confirmed, lo, root):
    """On the owner: the first vertex with a parent but no depth (check 3), and the first
    reached vertex, not the root, without a confirmed parent entry (check 7)."""
    tree = -1
    conf = -1
    for x in range(len(parent)):
        if parent[x] == -1 or x + lo == root:
            continue
        if depth[x] < 0:
            if tree < 0:
                tree = x
        elif not test_bit(confirmed, x):
            if conf < 0:
                conf = x
    return tree, conf


def validate_bfs2d(comm, graph, root, parent, nedge):
    """Collective. Returns (failure or None, validator's edge count); same on every rank."""
    g = graph.grid
    lo, nranks, scale, shift, C, R = g.lo, g.nranks, g.scale, g.shift, g.C, g.R
    nchunks = 4 * numba.get_num_threads()

    pending = np.empty(max(g.nlocal, 1), dtype=np.int64)
    v, x, npending = check_parent_range(parent, lo, g.nglobal, root, pending)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1
    bad_root = lo <= root < g.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    # (x, parent[x]) to the grid row holding the parent, along the grid column
    counts = np.zeros(R, dtype=np.int64)
    pairs_to_parent_rows(parent, lo, pending, npending, nranks, scale, shift, C, counts,
                         np.empty(0, dtype=np.int64), False)
    send = np.empty(2 * npending, dtype=np.int64)
    pairs_to_parent_rows(parent, lo, pending, npending, nranks, scale, shift, C, counts, send,
                         True)
    del pending
    if R == 1:
        recv, nrecv = send, npending
    else:
        recv, rc = alltoallv(g.col_comm, send, 2 * counts)
        nrecv = int(rc.sum()) // 2
    del send
    col_base = g.col_index_base().astype(np.int64)
    xs = np.empty(nrecv, dtype=np.int64)
    ps = np.empty(nrecv, dtype=np.int64)
    _strip_pairs(recv, nrecv, g.offsets, col_base, nranks, scale, shift, C, g.row_lo, xs, ps)
    del recv

    # the depth rebuild, level by level
    depth = np.full(g.nlocal, -1, dtype=np.int32)
    mine = np.zeros(max(g.local_words, 1), dtype=np.uint64)
    if lo <= root < g.hi:
        depth[root - lo] = 0
        set_bit(mine, root - lo)
    level_row = np.zeros(g.row_words, dtype=np.uint64)
    colbits = np.zeros(g.col_words, dtype=np.uint64)
    live = np.arange(nrecv, dtype=np.int64)
    nlive = nrecv
    level = 0
    lw = g.local_words
    while True:
        gather_strip(g.row_comm, mine[:lw], level_row, g.row_block_words, g.row_block_wbase)
        nlive = _advance(xs, ps, live, nlive, level_row, colbits)
        mine[:lw] = g.fold_columns(colbits, np.uint64, MPI.BOR, unit=1)
        level += 1
        found = _set_level(mine, g.nlocal, depth, level)
        if int(comm.allreduce(found, op=MPI.SUM)) == 0:
            break
    del live, level_row, colbits

    # depths of the column strip and the row strip, for the entries' checks
    padded = np.full(64 * lw, -1, dtype=np.int32)
    padded[:g.nlocal] = depth
    depth_col = np.full(64 * g.col_words, -1, dtype=np.int32)
    gather_strip(g.col_comm, padded, depth_col, 64 * g.col_block_words,
                  64 * g.col_block_wbase[:R])
    depth_row = np.full(64 * g.row_words, -1, dtype=np.int32)
    gather_strip(g.row_comm, padded, depth_row, 64 * g.row_block_words,
                  64 * g.row_block_wbase)
    del padded
    check, v, x, entries = _scan_entries(graph.colptr, graph.rows, depth_col, depth_row,
                                         g.row_lo, col_base, g.col_block_lo, nchunks)
    if check == _NONE:
        check, v, x = 0, 0, 0
    del depth_col, depth_row

    # confirmation: the entry x -> parent[x], found where the pair was sent
    flags = np.zeros(max(g.col_n, 1), dtype=np.uint8)
    _confirm(graph.colptr, graph.rows, xs, ps, nrecv, g.row_lo, flags, nchunks)
    cbits = np.zeros(g.col_words, dtype=np.uint64)
    _pack(flags[:g.col_n], cbits)
    del flags, xs, ps
    confirmed = np.zeros(max(lw, 1), dtype=np.uint64)
    confirmed[:lw] = g.fold_columns(cbits, np.uint64, MPI.BOR, unit=1)
    tree, conf = _owner_checks(parent, depth, confirmed, lo, root)
    for chk, y in ((CHECK_TREE, tree), (CHECK_CONFIRM, conf)):
        if y >= 0 and (not check or chk < check or (chk == check and y + lo < v)):
            check, v, x = chk, y + lo, parent[y]
    return conclude(comm, check, v, x, entries, nedge)


def verdict(comm, graph, root, parent, nedge):
    """Collective: None, or (message, the spec's check number), as validate.verdict."""
    fail, _ = validate_bfs2d(comm, graph, root, parent, nedge)
    return (fail.message(), fail.check) if fail else None


# --- memory estimate (used by graph500/memory.py) ---

def validate_bfs2d_bytes(scale, edgefactor, nranks):
    """validate_bfs2d's peak on one rank: pending and the pairs (about 8 + 16 + 16 bytes per
    local vertex, the pairs spread over the grid column), depth (4 per local vertex), the
    strip depths (4 per row- and column-strip vertex), the confirmation flags (1 per
    column-strip vertex) and the strip bitmaps."""
    from graph500.kernels.construct import max_block_vertices
    from graph500.kernels.grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    return (8 + 16 + 16 + 8 + 4) * n + 4 * (R + C) * n + R * n + (R + C) * n // 8
