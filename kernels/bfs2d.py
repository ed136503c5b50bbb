"""Kernel 2 on the 2-D layout: direction-optimising BFS over an R x C grid of ranks
(Buluc & Madduri, SC'11; Beamer, Buluc, Asanovic & Yelick, 2013).

Ownership is the 1-D one (grid.py): the parent array of a rank is its 1-D block, as bfs.py
returns it. The graph is the rank's block of the adjacency matrix (construct2d.py): columns
v of its column strip j, entries u of its row strip i. Every exchange runs along a grid row or
column, so a rank moves about N/(8R) + N/(8C) bytes of bitmaps per bottom-up level instead of
the 1-D layout's N/8.

  top-down  - the owners' frontier queues of column strip j are gathered along the grid
              column (Allgatherv of ids, or of the blocks' bits when the frontier is large
              enough that they are fewer bytes); each frontier v's entries u (row strip i) not yet
              seen here become (u, v) proposals, sent along the grid row to u's owner
              (Alltoallv), which keeps the smallest proposed parent of a vertex unvisited
              before the level: the tree does not depend on arrival order. `seen` (a bitmap
              of row strip i: N/R bits) remembers what this rank proposed or saw in a
              frontier, so a vertex is proposed by one rank once, not at every level.
  bottom-up - the frontier bits of row strip i are gathered along the grid row (Allgatherv,
              N/R bits; ids instead on a frontier small enough). The R blocks of column
              strip j are then processed in R sub-steps (Beamer et al.'s rotation): in
              sub-step s, grid row i scans block (i+s+1) mod R of the strip, with that
              block's "done" bits (visited, or given a parent earlier in this level)
              received from grid row i+1, and passes them on to grid row i-1
              (Sendrecv along the column, N/(C R) bits each). An unvisited v scans its
              entries and stops at the first u in the frontier: v's parent. After R sub-steps
              every block has met every grid row, ending at its owner, whose new frontier is
              then its done bits less the visited ones. The parents found elsewhere stay
              with their finder until the bottom-up phase ends, then travel once to the
              owners (one Alltoallv along the column per phase), each block's as the
              smaller of (v, u) pairs or its found bits plus the parents in order (about
              half the pairs' bytes in the dense levels).
              The parent chosen is the first frontier neighbour in a fixed order (grid rows
              in rotation order, entries in CSC order): the same for any thread count.
Threads: the top-down count and fill run per chunk of the gathered frontier; the seen-marking
per chunk of the proposals, with an atomic OR (bits are only set); the claims per chunk of
the proposals too, by compare-and-swap that only lowers a claimed parent (so the smallest
proposed parent wins, whatever the order), the new vertices then listed from a bitmap in
order; the bottom-up sub-steps and the owner's step per run of whole words. The tree is the
same for any thread count.
Switching as bfs.py (GAPBS's heuristic): bottom-up when the frontier's edges exceed the
unexplored edges / alpha; back to top-down when the frontier shrinks below N / beta.
alpha=0 forces pure top-down; alpha=beta=inf pure bottom-up (for tests).

No array with N entries: the largest are the column-strip candidate parents (N/C int64),
the column offsets (N/C + 1) and the row-strip bitmaps (N/R bits).
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .bfs import ALPHA, AHEAD, BETA, BU_AHEAD, BU_RUNS, live_bits
from .bitmap import (ONE, bit_index, chunk_offsets, from_queue, lowest_bit, next_set, set_bit,
                     test_bit, to_queue)
from .exchange import alltoallv, chunk_starts, mpi_type
from .grid import gather_strip
from .intrinsics import atomic_or, compare_and_swap, prefetch
from .partition import owner

# A top-down level with fewer gathered frontier edges than this runs on one thread; so do
# the seen-marking and the apply of fewer proposals.
TD_PARALLEL_EDGES = 1 << 14


class BFS2DWorkspace:
    """Buffers reused by every search on one Graph2D (allocated once, untimed)."""

    def __init__(self, graph, comm):
        g = graph.grid
        self.comm = comm
        self.graph = graph
        self.grid = g
        n = max(g.nlocal, 1)
        self.parent = np.full(g.nlocal, -1, dtype=np.int64)
        self.queue = np.empty(n, dtype=np.int64)
        self.qglobal = np.empty(n, dtype=graph.rows.dtype)
        self.front_mine = np.zeros(max(g.local_words, 1), dtype=np.uint64)
        self.visited_mine = np.zeros(max(g.local_words, 1), dtype=np.uint64)
        self.front_row = np.zeros(g.row_words, dtype=np.uint64)
        self.seen_row = np.zeros(g.row_words, dtype=np.uint64)
        self.front_col = np.zeros(g.col_words, dtype=np.uint64)
        self.cand = np.full(max(g.col_n, 1), -1, dtype=np.int64)
        maxw = max(int(g.col_block_words.max()), 1)
        self.done = [np.zeros(maxw, dtype=np.uint64), np.zeros(maxw, dtype=np.uint64)]
        # Bottom-up candidates: the column-strip vertices with entries in this rank's block
        # (fixed; a vertex of the strip has entries in about a 1/R share of the blocks, and
        # 40 % of a Kronecker graph's none at all), and, per sub-step, those of them not done.
        self.live = np.zeros(g.col_words, dtype=np.uint64)
        live_bits(graph.colptr, g.col_n, self.live)
        self.todo = np.zeros(maxw, dtype=np.uint64)
        self.bu_sums = np.zeros(BU_RUNS * numba.get_num_threads(), dtype=np.int64)
        self.own_sums = np.zeros((BU_RUNS * numba.get_num_threads(), 2), dtype=np.int64)
        self.col_base = g.col_index_base().astype(np.int64)
        self.fq = np.empty(1 << 12, dtype=graph.rows.dtype)
        self.rowq = np.empty(1 << 12, dtype=graph.rows.dtype)
        self.sendbuf = np.empty(1 << 16, dtype=graph.rows.dtype)
        self.recvbuf = np.empty(1 << 16, dtype=graph.rows.dtype)
        self.bounds = np.zeros(numba.get_num_threads() + 1, dtype=np.int64)
        self.claimed = np.zeros(max(g.local_words, 1), dtype=np.uint64)   # threaded claims
        # fewer proposals than this are marked seen and applied on one thread (a test sets
        # it to 0 to run the threaded paths on a small graph)
        self.parallel_min = TD_PARALLEL_EDGES
        self.total_entries = int(comm.allreduce(int(graph.degree_local.sum()), op=MPI.SUM))

    def reset(self):
        """Clear the output before the timer starts (the spec does not time this)."""
        self.parent.fill(-1)
        self.seen_row.fill(0)


# --- small helpers ----------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _to_global(queue, nq, lo, out):
    for t in range(nq):
        out[t] = queue[t] + lo


@njit(cache=True, nogil=True)
def _split(colptr, fq, n, offs, col_base, nranks, scale, shift, C, bounds):
    """Cut the gathered frontier into len(bounds) - 1 runs of about equal entry counts; also
    turns fq's global ids into padded column-strip indices in place. Returns the entries."""
    for t in range(n):
        x = fq[t]
        b = owner(x, nranks, scale, shift)
        fq[t] = col_base[b // C] + x - offs[b]
    nchunks = len(bounds) - 1
    total = 0
    for t in range(n):
        total += colptr[fq[t] + 1] - colptr[fq[t]]
    bounds[0] = 0
    c = 1
    acc = 0
    for t in range(n):
        acc += colptr[fq[t] + 1] - colptr[fq[t]]
        while c < nchunks and acc * nchunks >= c * total:
            bounds[c] = t + 1
            c += 1
    while c <= nchunks:
        bounds[c] = n
        c += 1
    return total


@njit(cache=True, nogil=True, inline="always")
def _strip_vertex(v, col_base, col_lo):
    """Global id of padded column-strip index v (the segment by a short linear search: R is
    small, and the frontier is scanned column by column)."""
    g = 0
    while g + 1 < len(col_base) and col_base[g + 1] <= v:
        g += 1
    return col_lo[g] + v - col_base[g]


# --- top-down ---------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _td_count_run(colptr, rows, fq, a, b, seen, row_lo, nranks, scale, shift, C, out):
    counts = np.zeros(C, dtype=np.int64)
    for t in range(a, b):
        v = fq[t]
        for k in range(colptr[v], colptr[v + 1]):
            u = rows[k]
            if not test_bit(seen, u - row_lo):
                counts[owner(u, nranks, scale, shift) % C] += 1
    out[:] = counts


@njit(cache=True, nogil=True, parallel=True)
def _td_count(colptr, rows, fq, bounds, seen, row_lo, nranks, scale, shift, C):
    nchunks = len(bounds) - 1
    counts = np.zeros((nchunks, C), dtype=np.int64)
    for c in prange(nchunks):
        _td_count_run(colptr, rows, fq, bounds[c], bounds[c + 1], seen, row_lo, nranks, scale,
                      shift, C, counts[c])
    return counts


@njit(cache=True, nogil=True)
def _td_fill_run(colptr, rows, fq, a, b, seen, row_lo, nranks, scale, shift, C, col_base,
                 col_lo, cursor, out):
    pos = cursor.copy()
    for t in range(a, b):
        v = fq[t]
        vg = _strip_vertex(v, col_base, col_lo)
        for k in range(colptr[v], colptr[v + 1]):
            u = rows[k]
            if not test_bit(seen, u - row_lo):
                q = owner(u, nranks, scale, shift) % C
                p = pos[q]
                out[2 * p] = u
                out[2 * p + 1] = vg
                pos[q] = p + 1


@njit(cache=True, nogil=True, parallel=True)
def _td_fill(colptr, rows, fq, bounds, seen, row_lo, nranks, scale, shift, C, col_base, col_lo,
             pos, out):
    nchunks = len(bounds) - 1
    for c in prange(nchunks):
        _td_fill_run(colptr, rows, fq, bounds[c], bounds[c + 1], seen, row_lo, nranks, scale,
                     shift, C, col_base, col_lo, pos[c], out)


@njit(cache=True, nogil=True)
def _mark_seen(out, n, seen, row_lo):
    """After the fill (never during it: threads would race on words): what this rank
    proposed is visited at this level, so it need not be proposed again."""
    for t in range(n):
        x = out[2 * t] - row_lo
        set_bit(seen, x)


@njit(cache=True, nogil=True, parallel=True)
def _mark_seen_threads(out, n, seen, row_lo, nchunks):
    """_mark_seen on all threads, in chunks of the proposals: bits are only ever set, so an
    atomic OR per proposal gives the same bitmap in any order (grouping the proposals by
    word range first, as the apply does, cost more than the marking itself)."""
    for c in prange(nchunks):
        for t in range(c * n // nchunks, (c + 1) * n // nchunks):
            x = out[2 * t] - row_lo
            atomic_or(seen, x >> 6, ONE << np.uint64(x & 63))


@njit(inline="always")
def _claim(recv, t, lo, parent, found, m):
    """Apply proposal t, (vertex, parent): the smallest proposed parent wins (a vertex claimed
    this level holds -2 - parent until the level ends, so later proposals can still lower it).
    A vertex claimed for the first time is appended to found[m]; returns the new m."""
    x = recv[2 * t] - lo
    v = recv[2 * t + 1]
    p = parent[x]
    if p == -1:
        parent[x] = -2 - v
        found[m] = x
        return m + 1
    if p <= -2 and v < -2 - p:
        parent[x] = -2 - v
    return m


@njit(inline="always")
def _settle(found, a, b, parent, degree, visited):
    """End the level for found[a:b]: their parents become plain ids, and they join
    `visited` (the bottom-up steps' start, kept by every level). Returns their degrees."""
    deg = 0
    for k in range(a, b):
        x = found[k]
        parent[x] = -2 - parent[x]
        set_bit(visited, x)
        deg += degree[x]
    return deg


@njit(cache=True, nogil=True)
def _claim_run(recv, parent, lo, claimed):
    """Proposals recv (pairs) claimed on one of several threads: a claim holds -2 - parent
    while the level runs, and a compare-and-swap replaces it only by a larger value, i.e. a
    smaller parent, so each vertex ends with its smallest proposed parent whichever thread
    comes first (_claim's rule); the thread that claims an unvisited vertex sets its bit in
    `claimed`. The loop is bfs._td_count_run's claim, written in place as there (as an
    inline helper shared by both, the 1-D scan ran 2-3 % slower, bench/bfs_ab.py)."""
    n = len(recv) // 2
    for t in range(n):
        if t + AHEAD < n:
            prefetch(parent, recv[2 * (t + AHEAD)] - lo)
        x = recv[2 * t] - lo
        claim = -2 - np.int64(recv[2 * t + 1])
        p = parent[x]
        while p == -1 or (p <= -2 and p < claim):
            old = compare_and_swap(parent, x, p, claim)
            if old == p:
                if p == -1:
                    atomic_or(claimed, x >> 6, ONE << np.uint64(x & 63))
                break
            p = old


@njit(cache=True, nogil=True, parallel=True)
def _td_apply_threads(recv, n, parent, lo, degree, queue, claimed, visited, parts):
    """_td_apply on all threads: the proposals claimed in len(parts) chunks (_claim_run),
    then the claimed vertices (a bitmap) listed in increasing order, each chunk of words
    counting its bits (popcount) and then listing its vertices after the chunks before it
    (parents back from -2 - parent, into visited). The same tree as _td_apply. Returns
    (new frontier size, its degrees)."""
    nchunks = len(parts)
    for c in prange(nchunks):
        _claim_run(recv[2 * (c * n // nchunks):2 * ((c + 1) * n // nchunks)], parent, lo,
                   claimed)
    nw = len(claimed)
    nq = chunk_offsets(claimed, parts)
    for c in prange(nchunks):
        q = parts[c, 0]
        deg = 0
        for w in range(c * nw // nchunks, (c + 1) * nw // nchunks):
            b = claimed[w]
            visited[w] |= b
            while b:
                low = lowest_bit(b)
                x = w * 64 + bit_index(low)
                b ^= low
                queue[q] = x
                q += 1
                parent[x] = -2 - parent[x]
                deg += degree[x]
        parts[c, 1] = deg
    deg = 0
    for c in range(nchunks):
        deg += parts[c, 1]
    return nq, deg


@njit(cache=True, nogil=True)
def _td_apply(recv, n, parent, lo, degree, queue, visited):
    """Claim the proposed vertices (_claim). Returns (new frontier, its degrees). The
    targets are random, so each proposal asks the cache for a later one's parent (without
    it the claims took 4 times as long as the count and fill passes that made them)."""
    nq = 0
    for t in range(n):
        if t + AHEAD < n:
            prefetch(parent, recv[2 * (t + AHEAD)] - lo)
        nq = _claim(recv, t, lo, parent, queue, nq)
    return nq, _settle(queue, 0, nq, parent, degree, visited)


def _bits_cheaper(ws, nfront):
    """Whether a frontier gather sends bits rather than ids: a strip (of k = R or C) holds
    about nfront / k of the frontier, ib bytes each as ids, against N / (8k) bytes as bits.
    Decided from the global frontier size every rank knows, so no counts need exchanging
    when bits go (the strips' bit counts are fixed)."""
    return 8 * nfront * ws.graph.rows.dtype.itemsize >= ws.grid.nglobal


@njit(cache=True, nogil=True)
def _strip_ids(bits, seg_words, seg_wbase, seg_lo, seg_n, out):
    """The global ids of a column strip's set bits (segments laid end to end, in words),
    in increasing order per segment; returns how many."""
    n = 0
    for g in range(len(seg_words)):
        for w in range(seg_words[g]):
            b = bits[seg_wbase[g] + w]
            while b:
                low = lowest_bit(b)
                x = w * 64 + bit_index(low)
                if x < seg_n[g]:
                    out[n] = seg_lo[g] + x
                    n += 1
                b ^= low
    return n


@njit(cache=True, nogil=True)
def _ids_to_bits(ids, n, lo, bits):
    bits[:] = 0
    for t in range(n):
        set_bit(bits, ids[t] - lo)


def _gather_ids(comm, ids, n, buf):
    """Every rank's ids[:n] of a grid row or column, end to end: (buffer, total)."""
    mine = np.array([n], dtype=np.int64)
    counts = np.empty(comm.Get_size(), dtype=np.int64)
    comm.Allgather(mine, counts)
    total = int(counts.sum())
    if len(buf) < total:
        buf = np.empty(2 * total, dtype=ids.dtype)
    displs = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=displs[1:])
    t = mpi_type(ids)
    comm.Allgatherv([ids[:n], t], [buf, (counts, displs), t])
    return buf, total


def _gather_frontier_ids(ws, nq, nfront):
    """The global ids of column strip j's frontier (nfront vertices in all), gathered along
    the grid column as ids or as the blocks' bits, whichever is smaller."""
    g = ws.grid
    if g.R > 1 and _bits_cheaper(ws, nfront):
        from_queue(ws.queue, nq, ws.front_mine)
        lw = g.local_words
        gather_strip(g.col_comm, ws.front_mine[:lw], ws.front_col, g.col_block_words,
                     g.col_block_wbase[:g.R])
        if len(ws.fq) < g.col_n:
            ws.fq = np.empty(g.col_n, dtype=ws.qglobal.dtype)
        return _strip_ids(ws.front_col, g.col_block_words, g.col_block_wbase, g.col_block_lo,
                          g.col_block_n, ws.fq)
    _to_global(ws.queue, nq, g.lo, ws.qglobal)
    if g.R == 1:
        if len(ws.fq) < nq:
            ws.fq = np.empty(2 * nq, dtype=ws.qglobal.dtype)
        ws.fq[:nq] = ws.qglobal[:nq]
        return nq
    ws.fq, total = _gather_ids(g.col_comm, ws.qglobal, nq, ws.fq)
    return total


def _gather_row_frontier(ws, nfront):
    """front_row = the frontier bits of row strip i, from the C owners of its blocks, sent
    as bits or as ids, whichever is smaller (a sparse bottom-up level, near the end)."""
    g = ws.grid
    lw = g.local_words
    if g.C == 1:
        ws.front_row[:lw] = ws.front_mine[:lw]
    elif _bits_cheaper(ws, nfront):
        gather_strip(g.row_comm, ws.front_mine[:lw], ws.front_row, g.row_block_words,
                     g.row_block_wbase)
    else:
        nq = to_queue(ws.front_mine, g.nlocal, ws.queue)
        _to_global(ws.queue, nq, g.lo, ws.qglobal)
        ws.rowq, total = _gather_ids(g.row_comm, ws.qglobal, nq, ws.rowq)
        _ids_to_bits(ws.rowq, total, g.row_lo, ws.front_row)


def _top_down(ws, nq, nfront):
    g, gr = ws.grid, ws.graph
    nfq = _gather_frontier_ids(ws, nq, nfront)
    fq = ws.fq
    entries = _split(gr.colptr, fq, nfq, g.offsets, ws.col_base, g.nranks, g.scale, g.shift,
                     g.C, ws.bounds)
    bounds = ws.bounds if entries >= TD_PARALLEL_EDGES else np.array([0, nfq], dtype=np.int64)
    counts = _td_count(gr.colptr, gr.rows, fq, bounds, ws.seen_row, g.row_lo, g.nranks,
                       g.scale, g.shift, g.C)
    pos, totals = chunk_starts(counts)
    nsend = int(totals.sum())
    if 2 * nsend > len(ws.sendbuf):
        ws.sendbuf = np.empty(2 * 2 * nsend, dtype=gr.rows.dtype)
    _td_fill(gr.colptr, gr.rows, fq, bounds, ws.seen_row, g.row_lo, g.nranks, g.scale, g.shift,
             g.C, ws.col_base, g.col_block_lo, pos, ws.sendbuf)
    nth = numba.get_num_threads()
    if nth > 1 and nsend >= ws.parallel_min:
        _mark_seen_threads(ws.sendbuf, nsend, ws.seen_row, g.row_lo, nth)
    else:
        _mark_seen(ws.sendbuf, nsend, ws.seen_row, g.row_lo)
    if g.C == 1:
        recv, nrecv = ws.sendbuf, nsend
    else:
        recv, rc = alltoallv(g.row_comm, ws.sendbuf, 2 * totals, ws.recvbuf)
        ws.recvbuf = recv
        nrecv = int(rc.sum()) // 2
    if nth > 1 and nrecv >= ws.parallel_min:
        ws.claimed[:] = 0
        # (own_sums: the bottom-up owner step's scratch, free in a top-down level)
        return _td_apply_threads(recv, nrecv, ws.parent, g.lo, gr.degree_local, ws.queue,
                                 ws.claimed, ws.visited_mine, ws.own_sums)
    return _td_apply(recv, nrecv, ws.parent, g.lo, gr.degree_local, ws.queue, ws.visited_mine)


# --- bottom-up --------------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _bu_run(w0, w1, colptr, rows, base, done, live, todo, front, row_lo, cand, sums, c):
    """Words w0..w1 of a sub-step (_bu_scan): todo = the block's vertices with entries here
    and not done, then each scans its entries and stops at the first u in the frontier.
    Two cursors run ahead over todo, as in bfs.py's bottom-up step: the far one asks the
    cache for a candidate's column start, the near one for its first entry."""
    for w in range(w0, w1):
        todo[w] = ~done[w] & live[w]
    aw, ar = w0 - 1, np.uint64(0)
    for _ in range(2 * BU_AHEAD):
        aw, ar, x = next_set(todo, w1, aw, ar)
        if x >= 0:
            prefetch(colptr, base + x)
    bw, br = w0 - 1, np.uint64(0)
    for _ in range(BU_AHEAD):
        bw, br, x = next_set(todo, w1, bw, br)
        if x >= 0:
            prefetch(rows, colptr[base + x])
    cnt = 0
    for w in range(w0, w1):
        rest = todo[w]
        bits = done[w]
        while rest:
            low = lowest_bit(rest)
            rest ^= low
            v = base + w * 64 + bit_index(low)
            aw, ar, x = next_set(todo, w1, aw, ar)
            if x >= 0:
                prefetch(colptr, base + x)
            bw, br, x = next_set(todo, w1, bw, br)
            if x >= 0:
                prefetch(rows, colptr[base + x])
            for k in range(colptr[v], colptr[v + 1]):
                u = rows[k]
                if test_bit(front, u - row_lo):
                    cand[v] = u
                    bits |= low
                    cnt += 1
                    break
        done[w] = bits
    sums[c] = cnt


@njit(cache=True, nogil=True, parallel=True)
def _bu_scan(colptr, rows, base, n, done, live, todo, front, row_lo, cand, sums):
    """One sub-step: the unvisited vertices of one block of the column strip (padded indices
    base .. base + n) with entries here look for a parent in the row strip's frontier
    (live: this block's words of the strip's "has entries here" bitmap, whose padding bits
    are clear). Runs of whole words of `done`, a few per thread, so no two threads write one
    word. Returns the vertices given a parent."""
    nwords = (n + 63) // 64
    nchunks = min(nwords, len(sums))
    for c in prange(nchunks):
        _bu_run(c * nwords // nchunks, (c + 1) * nwords // nchunks, colptr, rows, base, done,
                live, todo, front, row_lo, cand, sums, c)
    found = 0
    for c in range(nchunks):
        found += sums[c]
    return found


@njit(cache=True, nogil=True, inline="always")
def _put_word(out, p, w, per):
    """Bitmap word w as `per` vertex ids (per = 8 // id bytes) at out[p:p+per], the low half
    first: the ids a little-endian uint64 array would be viewed as."""
    if per == 1:
        out[p] = w
    else:
        out[p] = np.int64(w & np.uint64(0xFFFFFFFF))
        out[p + 1] = np.int64(w >> np.uint64(32))


@njit(cache=True, nogil=True, inline="always")
def _get_word(a, p, per):
    if per == 1:
        return np.uint64(a[p])
    return np.uint64(np.uint32(a[p])) | (np.uint64(np.uint32(a[p + 1])) << np.uint64(32))


@njit(cache=True, nogil=True)
def _collect(cand, col_base, col_n, col_words, me, per, counts, out, fill):
    """Parents found here for other grid rows' blocks, grouped by block owner, each block in
    the smaller of two forms (count pass, then fill pass; resets the candidates sent):
      pairs  - (index in block, parent) for each of the k found: 2k ids;
      bitmap - the block's found bits (W words, W * per ids), then the k parents in index
               order: W * per + k ids, about half the pairs once k >> W * per.
    Bitmap when k > W * per, so the owner tells the forms apart by the length alone: pairs
    never exceed 2 W * per ids, a bitmap always does (_apply_flush).
    counts[g] = the ids for grid row g; returns their sum."""
    p = 0
    for g in range(len(col_n)):
        counts[g] = 0
        if g == me:
            continue
        base = col_base[g]
        k = 0
        for t in range(col_n[g]):
            if cand[base + t] >= 0:
                k += 1
        wu = col_words[g] * per
        if k <= wu:
            if fill:
                for t in range(col_n[g]):
                    u = cand[base + t]
                    if u >= 0:
                        out[p] = t
                        out[p + 1] = u
                        p += 2
                        cand[base + t] = -1
            else:
                p += 2 * k
            counts[g] = 2 * k
        else:
            if fill:
                for w in range(col_words[g]):
                    bits = np.uint64(0)
                    for t in range(w * 64, min(col_n[g], w * 64 + 64)):
                        if cand[base + t] >= 0:
                            bits |= np.uint64(1) << np.uint64(t - w * 64)
                    _put_word(out, p + w * per, bits, per)
                q = p + wu
                for t in range(col_n[g]):
                    u = cand[base + t]
                    if u >= 0:
                        out[q] = u
                        q += 1
                        cand[base + t] = -1
            p += wu + k
            counts[g] = wu + k
    return p


@njit(cache=True, nogil=True)
def _bu_own_run(w0, w1, cand, base, parent, done, visited, front, degree, sums, c):
    """Words w0..w1 of _bu_own; sums[c] = (new frontier vertices, their degrees)."""
    nn = 0
    deg = 0
    for w in range(w0, w1):
        b = done[w] & ~visited[w]
        front[w] = b
        visited[w] |= b
        while b:
            low = lowest_bit(b)
            x = w * 64 + bit_index(low)
            u = cand[base + x]
            if u >= 0:
                parent[x] = u
                cand[base + x] = -1
            nn += 1
            deg += degree[x]
            b ^= low
    sums[c, 0] = nn
    sums[c, 1] = deg


@njit(cache=True, nogil=True, parallel=True)
def _bu_own(cand, base, parent, done, visited, front, degree, sums):
    """The owner's side of a bottom-up level, its block being the last sub-step: `done` now
    holds every vertex of the block given a parent by any grid row, so the new frontier is
    done & ~visited without waiting for the parents found elsewhere (they travel once, at
    the end of the bottom-up phase: _flush). Own finds, all in the new frontier, are applied
    now (walking the frontier, not the block: a late level finds a few hundred). Runs of
    whole words, a few per thread (per-run sums in `sums`). Returns (new frontier size, its
    degrees); front = its bits, and visited takes them in."""
    nwords = (len(parent) + 63) // 64
    nchunks = min(nwords, len(sums))
    for c in prange(nchunks):
        _bu_own_run(c * nwords // nchunks, (c + 1) * nwords // nchunks, cand, base, parent,
                    done, visited, front, degree, sums, c)
    nn = 0
    deg = 0
    for c in range(nchunks):
        nn += sums[c, 0]
        deg += sums[c, 1]
    return nn, deg


@njit(cache=True, nogil=True)
def _apply_flush(recv, counts, words, per, parent):
    """The owner's side of _collect: each grid row's segment is pairs or bitmap + values,
    told apart by its length against twice this block's bitmap in ids."""
    wu = words * per
    p = 0
    for g in range(len(counts)):
        c = counts[g]
        if c > 2 * wu:
            q = p + wu
            for w in range(words):
                b = _get_word(recv, p + w * per, per)
                while b:
                    low = lowest_bit(b)
                    parent[w * 64 + bit_index(low)] = recv[q]
                    q += 1
                    b ^= low
        else:
            for t in range(p, p + c, 2):
                parent[recv[t]] = recv[t + 1]
        p += c


def _flush(ws):
    """Deliver the parents this rank found for other grid rows' blocks during the bottom-up
    phase now ending (one Alltoallv along the grid column for the whole phase: each vertex is
    found once, so the candidates never collide across levels), as pairs or as a bitmap plus
    values, whichever is smaller for each block (_collect)."""
    g, gr = ws.grid, ws.graph
    if g.R == 1:
        return
    per = 8 // gr.rows.dtype.itemsize
    counts = np.zeros(g.R, dtype=np.int64)
    n = _collect(ws.cand, ws.col_base, g.col_block_n, g.col_block_words, g.i, per, counts,
                 ws.sendbuf, False)
    if n > len(ws.sendbuf):
        ws.sendbuf = np.empty(2 * n, dtype=gr.rows.dtype)
    _collect(ws.cand, ws.col_base, g.col_block_n, g.col_block_words, g.i, per, counts,
             ws.sendbuf, True)
    recv, rc = alltoallv(g.col_comm, ws.sendbuf, counts, ws.recvbuf)
    ws.recvbuf = recv
    _apply_flush(recv, rc, g.local_words, per, ws.parent)


def _bottom_up(ws, nfront):
    g, gr = ws.grid, ws.graph
    R, i = g.R, g.i
    lw = g.local_words
    _gather_row_frontier(ws, nfront)
    np.bitwise_or(ws.seen_row, ws.front_row, out=ws.seen_row)
    cur, nxt = ws.done
    cur[:lw] = ws.visited_mine[:lw]
    seg = i
    for s in range(R):
        if R > 1:
            # pass the block just done on to grid row i-1; take the next from grid row i+1
            nseg = (i + s + 1) % R
            g.col_comm.Sendrecv([cur[:int(g.col_block_words[seg])], MPI.UINT64_T],
                                (i - 1) % R, 0,
                                [nxt[:int(g.col_block_words[nseg])], MPI.UINT64_T],
                                (i + 1) % R, 0)
            cur, nxt = nxt, cur
            seg = nseg
        wb = int(g.col_block_wbase[seg])
        _bu_scan(gr.colptr, gr.rows, int(ws.col_base[seg]), int(g.col_block_n[seg]), cur,
                 ws.live[wb:wb + int(g.col_block_words[seg])], ws.todo, ws.front_row,
                 g.row_lo, ws.cand, ws.bu_sums)
    # seg == i now: cur holds the done bits of this rank's own block
    return _bu_own(ws.cand, int(ws.col_base[i]), ws.parent, cur, ws.visited_mine,
                   ws.front_mine, gr.degree_local, ws.own_sums)


# --- the search -------------------------------------------------------------------------------

def bfs2d(ws, root, alpha=ALPHA, beta=BETA):
    """Collective search from global vertex `root`; fills and returns ws.parent (this rank's
    1-D block). Call ws.reset() before (outside the timed region)."""
    g = ws.grid
    parent = ws.parent
    # The visited vertices, kept by every level from the start (top-down claims and
    # bottom-up levels add theirs), so turning bottom-up needs no pass over parent.
    ws.visited_mine[:] = 0
    nq = 0
    frontier_edges = 0
    if g.lo <= root < g.hi:
        parent[root - g.lo] = root
        ws.queue[0] = root - g.lo
        set_bit(ws.visited_mine, root - g.lo)
        nq = 1
        frontier_edges = int(ws.graph.degree_local[root - g.lo])
    stats = np.array([nq, frontier_edges], dtype=np.int64)
    glob = np.empty(2, dtype=np.int64)
    ws.comm.Allreduce(stats, glob, op=MPI.SUM)
    nfront, scout = int(glob[0]), int(glob[1])
    unexplored = ws.total_entries - scout
    top_down = True
    while nfront > 0:
        if top_down and alpha > 0 and scout * alpha > unexplored:
            from_queue(ws.queue, nq, ws.front_mine)
            top_down = False
        if top_down:
            nq, nedges = _top_down(ws, nq, nfront)
            nn = nq
        else:
            nn, nedges = _bottom_up(ws, nfront)
        stats[0], stats[1] = nn, nedges
        ws.comm.Allreduce(stats, glob, op=MPI.SUM)
        prev = nfront
        nfront, scout = int(glob[0]), int(glob[1])
        unexplored -= scout
        if not top_down and nfront < prev and nfront * beta < g.nglobal:
            _flush(ws)       # top-down claims read the parents: all must be home
            nq = to_queue(ws.front_mine, g.nlocal, ws.queue)
            top_down = True
    if not top_down:
        _flush(ws)
    return parent


# --- memory estimate (used by graph500/memory.py) ---

def bfs2d_workspace_bytes(scale, edgefactor, nranks):
    """One rank's BFS2DWorkspace: parent, queue and global queue (8 per local vertex each,
    ids at most 8), the column-strip candidates (8 per column-strip vertex), the row-strip
    frontier and seen bitmaps (N/R bits each), the column-strip frontier and "has entries"
    bitmaps (N/C bits each) and gathered frontier ids (N/C at most), the block bitmaps (6),
    and the exchange buffers (top-down proposals: at most the gathered frontier's entries /
    ALPHA, as in bfs.py)."""
    from .construct import expected_entries, id_bytes, max_block_vertices
    from .grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    proposals = expected_entries(scale, edgefactor, nranks) // ALPHA
    buffers = 2 * max(1 << 16, 2 * proposals) * id_bytes(scale)
    column = 2 * (R * n) // 8 + R * n * id_bytes(scale)
    return 3 * 8 * n + 8 * R * n + 2 * (C * n) // 8 + 6 * n // 8 + column + buffers
