"""BFS validation (spec section 5) on the 2-D layout: the checks, numbers and messages of
validate.py, with every exchange along a grid row or column and no N-sized array.

  1, 4   parent range and the root's own entry: on each owner, as validate.py.
  7      confirmation, before the levels: each owner sends (x, parent[x]) once to the rank of
         its grid column whose row strip holds the parent (Alltoallv along the column); that
         rank looks for the entry x -> parent[x] in its block (the parent's depth is one less
         by construction, check 3), and the confirmed bits are OR-folded to the owners,
         which require one for every reached vertex but the root.
  3      levels rebuilt from the parent array alone, from the same pairs. Level by level: the
         level's bits of row strip i are gathered along the grid row, each rank moves the
         pairs whose parent is in the level into the next level's column-strip bits, and
         those are OR-folded along the grid column to the owners (Reduce_scatter); threads
         move runs of pairs owning whole words of x (validate._next_par). A vertex
         whose chain never reaches the root is never reached.
  5, 6   as validate.py, column by column: as soon as a level L is known (its row-strip bits
         from the rebuild, its column-strip bits gathered along the grid column), the
         block's columns of level L must hold no entry u in levels 0..L-2, and at the end the
         unreached columns no reached u (why this is complete: _levels_and_scan). Both sets
         are row-strip bitmaps read through a summary that stays in cache (validate._row_test),
         so no depth is read at random; the block is read in column order.
  8      the kernel's edge count against the entries of the reached columns, / 2.
The first failure (lowest check number, then lowest vertex, then lowest other end) is agreed
by all ranks, as in validate.py. Largest arrays: the (vertex, parent) pairs (16 bytes per
pair, about N/P pairs), bitmaps of the row strip (two levels, the levels below, N/R bits
each) and one of the column strip (N/C bits).
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.bitmap import bit_index, lowest_bit, set_bit, test_bit
from graph500.kernels.exchange import alltoallv
from graph500.kernels.grid import gather_strip
from graph500.kernels.partition import owner

from .validate import (CHECK_CONFIRM, CHECK_LEVEL, CHECK_RANGE, CHECK_REACH, CHECK_ROOT,
                       CHECK_TREE, _NO_VERTEX, _add_level, _chunk_bounds, _next_par, _next_run,
                       _row_test, _segments, agree, check_parent_range, conclude)


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
def _scan_cols(colptr, rows, cols, w0, w1, below, summary, row_lo, reached):
    """The columns whose bits are set in cols[w0:w1] (padded column-strip indices, in order)
    must hold no entry u in `below` (row-strip bits from row_lo). reached=True: they are a
    level's columns and `below` the levels at least two above; reached=False: the unreached
    columns and every reached vertex. Returns (first failing column or -1, its lowest u in
    `below`, entries of the columns scanned if reached)."""
    entries = 0
    base = np.uint64(row_lo)
    for w in range(w0, w1):
        word = cols[w]
        while word:
            lowb = lowest_bit(word)
            word ^= lowb
            v = w * 64 + bit_index(lowb)
            a, b = colptr[v], colptr[v + 1]
            if reached:
                entries += b - a
            hit, _ = _row_test(rows, a, b, below, summary, _NO_VERTEX, row_lo)
            if hit:
                u = _NO_VERTEX
                for k in range(a, b):              # only a failing column is read again
                    x = np.uint64(rows[k])
                    if x < u and test_bit(below, x - base):
                        u = x
                return v, np.int64(u), entries
    return -1, 0, entries


@njit(cache=True, nogil=True, parallel=True)
def _scan_cols_par(colptr, rows, cols, bounds, below, summary, row_lo, reached):
    """_scan_cols over the word ranges bounds[c]:bounds[c+1]: the first failing chunk holds
    the lowest failing column, so the answer does not depend on the thread count."""
    nchunks = len(bounds) - 1
    res = np.zeros((nchunks, 3), dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        r = _scan_cols(colptr, rows, cols, bounds[c], bounds[c + 1], below, summary, row_lo,
                       reached)
        res[c, 0], res[c, 1], res[c, 2] = r[0], r[1], r[2]
    entries = res[:, 2].sum()
    for c in range(nchunks):
        if res[c, 0] >= 0:
            return res[c, 0], res[c, 1], entries
    return -1, 0, entries


class _ColScan:
    """The column scan of this rank's block, in entry-balanced chunks (the hubs' columns are
    most of the entries): one call per set of columns, returning (check, v, u, entries) with
    v the failing column's global id, check 0 for none."""

    def __init__(self, graph, nchunks):
        g = graph.grid
        self.args = (graph.colptr, graph.rows.view(np.uint32 if graph.rows.itemsize == 4
                                                    else np.uint64))
        self.nwords = g.col_n // 64
        self.row_lo = g.row_lo
        self.col_base = g.col_index_base()
        self.col_lo = g.col_block_lo
        self.bounds = (_chunk_bounds(graph.colptr, self.nwords, nchunks) if nchunks > 1
                       else None)

    def __call__(self, cols, below, summary, reached):
        if self.bounds is None:         # one thread: no parallel wrapper
            v, u, e = _scan_cols(*self.args, cols, 0, self.nwords, below, summary, self.row_lo,
                                 reached)
        else:
            v, u, e = _scan_cols_par(*self.args, cols, self.bounds, below, summary,
                                     self.row_lo, reached)
        if v < 0:
            return 0, 0, 0, e
        s = int(np.searchsorted(self.col_base, v, side="right")) - 1   # v's block
        return (CHECK_LEVEL if reached else CHECK_REACH), \
            int(self.col_lo[s] + v - self.col_base[s]), int(u), e


@njit(cache=True, nogil=True)
def _confirm_run(colptr, rows, xs, ps, t0, t1, row_lo, bits):
    for t in range(t0, t1):
        x = xs[t]
        p = ps[t] + row_lo
        for k in range(colptr[x], colptr[x + 1]):
            if rows[k] == p:
                set_bit(bits, x)
                break


@njit(cache=True, nogil=True, parallel=True)
def _confirm_par(colptr, rows, xs, ps, cuts, row_lo, bits):
    for c in prange(len(cuts) - 1):
        _confirm_run(colptr, rows, xs, ps, cuts[c], cuts[c + 1], row_lo, bits)


def _confirm(graph, xs, ps, n, nchunks):
    """Column-strip bits of the x whose column holds its parent (pairs received from the
    owners). The pairs arrive in increasing x (by sending block, each in vertex order), so
    runs cut at word boundaries (validate._segments) let threads set bits without races."""
    g = graph.grid
    bits = np.zeros(g.col_words, dtype=np.uint64)
    if nchunks == 1:
        _confirm_run(graph.colptr, graph.rows, xs, ps, 0, n, g.row_lo, bits)
    else:
        _confirm_par(graph.colptr, graph.rows, xs, ps, _segments(xs, n, nchunks), g.row_lo,
                     bits)
    return bits


@njit(cache=True, nogil=True)
def _owner_checks(parent, reached, confirmed, lo, root):
    """On the owner: the first vertex with a parent but never reached (check 3), and the
    first reached vertex, not the root, without a confirmed parent entry (check 7)."""
    tree = -1
    conf = -1
    for x in range(len(parent)):
        if parent[x] == -1 or x + lo == root:
            continue
        if not test_bit(reached, x):
            if tree < 0:
                tree = x
        elif not test_bit(confirmed, x):
            if conf < 0:
                conf = x
    return tree, conf


def _pairs(graph, parent, pending, npending):
    """(xs, ps, n): the pairs (x, parent[x]) this rank received along its grid column, as
    padded column-strip index of x and row-strip index of the parent, in increasing x."""
    g = graph.grid
    counts = np.zeros(g.R, dtype=np.int64)
    args = (parent, g.lo, pending, npending, g.nranks, g.scale, g.shift, g.C, counts)
    pairs_to_parent_rows(*args, np.empty(0, dtype=np.int64), False)
    send = np.empty(2 * npending, dtype=np.int64)
    pairs_to_parent_rows(*args, send, True)
    if g.R == 1:
        recv, nrecv = send, npending
    else:
        recv, rc = alltoallv(g.col_comm, send, 2 * counts)
        nrecv = int(rc.sum()) // 2
    del send
    xs = np.empty(nrecv, dtype=np.int64)
    ps = np.empty(nrecv, dtype=np.int64)
    _strip_pairs(recv, nrecv, g.offsets, g.col_index_base().astype(np.int64), g.nranks,
                 g.scale, g.shift, g.C, g.row_lo, xs, ps)
    return xs, ps, nrecv


def _levels_and_scan(comm, graph, root, xs, ps, n, nchunks):
    """Rules 2-6 for this rank's block, level by level, as validate._levels_and_scan does
    for a rank's rows. Returns (the lowest (check, v, u) found or None, entries of the
    reached columns, the owner's reached bits).

    Why complete: the block holds the entries (v -> u) of column strip j and row strip i,
    and the symmetric matrix holds each tuple {a, b} from both ends: a -> b in the block
    (gridrow(b), gridcol(a)), b -> a in the block (gridrow(a), gridcol(b)). Each rank scans
    every column of its block, so every entry is seen once with its column vertex as the
    deeper (or unreached) end: a tuple with both ends reached and levels two or more apart
    is caught in the column of its deeper end, a tuple with one end reached in the column
    of the other. Nothing else is flagged. Every level is scanned (not only up to the first
    failure), so the lowest failing column is the same for any P and thread count."""
    g = graph.grid
    lw = g.local_words
    scan = _ColScan(graph, nchunks)
    mine = np.zeros(max(lw, 1), dtype=np.uint64)       # the level's bits of this block
    reached = np.zeros_like(mine)
    if g.lo <= root < g.hi:
        set_bit(mine, root - g.lo)
    levels = [np.zeros(g.row_words, dtype=np.uint64) for _ in range(2)]   # row strip: L, L-1
    below = np.zeros(g.row_words, dtype=np.uint64)                        # levels 0..L-2
    summary = np.zeros((g.row_words + 63) >> 6, dtype=np.uint64)
    cols = np.zeros(g.col_words, dtype=np.uint64)      # column strip: level L, then L+1
    col_counts, col_displs = g.col_block_words, g.col_block_wbase[:g.R]
    # the pairs in runs owning whole words of x (increasing x), so that threads moving
    # different runs into the next level never set bits of the same word (validate._Pending)
    cuts = _segments(xs, n, nchunks)
    left = np.diff(cuts)
    fails, entries, level = [], 0, 0
    while True:
        cur, prev = levels[level & 1], levels[(level + 1) & 1]
        gather_strip(g.row_comm, mine[:lw], cur, g.row_block_words, g.row_block_wbase)
        gather_strip(g.col_comm, mine[:lw], cols, col_counts, col_displs)
        np.bitwise_or(reached, mine, out=reached)
        check, v, u, e = scan(cols, below, summary, True)
        entries += e
        if check:
            fails.append((check, v, u))
        cols[:] = 0                                    # the next level's column bits
        if nchunks == 1:
            left[0] = _next_run(cur, xs, ps, 0, left[0], cols)
        else:
            _next_par(cur, xs, ps, cuts, left, cols)
        mine[:lw] = g.fold_columns(cols, np.uint64, MPI.BOR, unit=1)
        _add_level(below, summary, prev)               # below = levels 0..L-1, for L+1
        level += 1
        if not comm.allreduce(bool(mine[:lw].any()), op=MPI.LOR):
            break
    _add_level(below, summary, cur)                    # below = every reached vertex
    del levels, prev, cur
    gather_strip(g.col_comm, reached[:lw], cols, col_counts, col_displs)
    np.invert(cols, out=cols)                          # the unreached columns (padding: empty)
    check, v, u, _ = scan(cols, below, summary, False)
    if check:
        fails.append((check, v, u))
    return (min(fails) if fails else None), entries, reached


def validate_bfs2d(comm, graph, root, parent, nedge, nchunks=None):
    """Collective. Returns (failure or None, validator's edge count); same on every rank.
    nchunks: the column scan's pieces (default 4 per thread, one at one thread); tests
    force several at one thread to check that the answer does not depend on it."""
    g = graph.grid
    lo = g.lo
    if nchunks is None:
        nthreads = numba.get_num_threads()
        nchunks = 4 * nthreads if nthreads > 1 else 1

    pending = np.empty(max(g.nlocal, 1), dtype=np.int64)
    v, x, npending = check_parent_range(parent, lo, g.nglobal, root, pending)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1
    bad_root = lo <= root < g.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    xs, ps, n = _pairs(graph, parent, pending, npending)
    del pending
    # confirmation first: the level rebuild then consumes the pairs in place
    confirmed = np.zeros(max(g.local_words, 1), dtype=np.uint64)
    confirmed[:g.local_words] = g.fold_columns(_confirm(graph, xs, ps, n, nchunks), np.uint64,
                                               MPI.BOR, unit=1)
    first, entries, reached = _levels_and_scan(comm, graph, root, xs, ps, n, nchunks)
    del xs, ps
    tree, conf = _owner_checks(parent, reached, confirmed, lo, root)
    fails = [first] if first else []
    fails += [(chk, y + lo, int(parent[y])) for chk, y in ((CHECK_TREE, tree),
                                                           (CHECK_CONFIRM, conf)) if y >= 0]
    check, v, x = min(fails) if fails else (0, 0, 0)
    return conclude(comm, check, v, x, entries, nedge)


def verdict(comm, graph, root, parent, nedge):
    """Collective: None, or (message, the spec's check number), as validate.verdict."""
    fail, _ = validate_bfs2d(comm, graph, root, parent, nedge)
    return (fail.message(), fail.check) if fail else None


# --- memory estimate (used by graph500/memory.py) ---

def validate_bfs2d_bytes(scale, edgefactor, nranks):
    """validate_bfs2d's peak on one rank: pending (8 bytes per local vertex), the pairs sent
    and received (16 + 16, the received ones spread over the grid column) and kept (16),
    and the bitmaps: three row-strip ones (two levels and the levels below) and its summary,
    two column-strip ones (the levels, and Reduce_scatter's send buffer or the confirmed
    bits) and three of the block (level, reached, confirmed)."""
    from graph500.kernels.construct import max_block_vertices
    from graph500.kernels.grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    return (8 + 16 + 16 + 16) * n + (3 * C + 2 * R + 3) * n // 8 + C * n // 512
