"""Kernel 2 on the 2-D layout: direction-optimising BFS over an R x C grid of ranks
(Buluc & Madduri, SC'11; Beamer, Buluc, Asanovic & Yelick, 2013).

Ownership is the 1-D one (grid.py): the parent array of a rank is its 1-D block, as bfs.py
returns it. The graph is the rank's block of the adjacency matrix (construct2d.py): columns
v of its column strip j, entries u of its row strip i. Every exchange runs along a grid row or
column, so a rank moves about N/(8R) + N/(8C) bytes of bitmaps per bottom-up level instead of
the 1-D layout's N/8.

  top-down  - the owners' frontier queues of column strip j are gathered along the grid
              column (Allgatherv of ids); each frontier v's entries u (row strip i) not yet
              seen here become (u, v) proposals, sent along the grid row to u's owner
              (Alltoallv), which keeps the smallest proposed parent of a vertex unvisited
              before the level: the tree does not depend on arrival order. `seen` (a bitmap
              of row strip i: N/R bits) remembers what this rank proposed or saw in a
              frontier, so a vertex is proposed by one rank once, not at every level.
  bottom-up - the frontier bits of row strip i are gathered along the grid row (Allgatherv,
              N/R bits). The R blocks of column strip j are then processed in R sub-steps
              (Beamer et al.'s rotation): in sub-step s, grid row i scans block (i+s+1) mod R
              of the strip, with that block's "done" bits (visited, or given a parent earlier
              in this level) received from grid row i+1, and passes them on to grid row i-1
              (Sendrecv along the column, N/(C R) bits each). An unvisited v scans its
              entries and stops at the first u in the frontier: v's parent. After R sub-steps
              every block has met every grid row, ending at its owner, whose new frontier is
              then its done bits less the visited ones. The parents found elsewhere stay
              with their finder until the bottom-up phase ends, then travel once to the
              owners as (v, u) pairs (one Alltoallv along the column per phase).
              The parent chosen is the first frontier neighbour in a fixed order (grid rows
              in rotation order, entries in CSC order): the same for any thread count.
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

from .bfs import ALPHA, BETA
from .bitmap import bit_index, from_queue, lowest_bit, set_bit, test_bit, to_queue
from .exchange import alltoallv, chunk_starts, mpi_type
from .partition import owner

# A top-down level with fewer gathered frontier edges than this runs on one thread.
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
        self.cand = np.full(max(g.col_n, 1), -1, dtype=np.int64)
        maxw = max(int(g.col_block_words.max()), 1)
        self.done = [np.zeros(maxw, dtype=np.uint64), np.zeros(maxw, dtype=np.uint64)]
        self.word_sums = np.zeros(maxw, dtype=np.int64)
        self.col_base = g.col_index_base().astype(np.int64)
        self.fq = np.empty(1 << 12, dtype=graph.rows.dtype)
        self.sendbuf = np.empty(1 << 16, dtype=graph.rows.dtype)
        self.recvbuf = np.empty(1 << 16, dtype=graph.rows.dtype)
        self.bounds = np.zeros(numba.get_num_threads() + 1, dtype=np.int64)
        self.total_entries = int(comm.allreduce(int(graph.degree_local.sum()), op=MPI.SUM))

    def reset(self):
        """Clear the output before the timer starts (the spec does not time this)."""
        self.parent.fill(-1)
        self.seen_row.fill(0)


# --- small helpers ----------------------------------------------------------------------------

@njit(cache=True, nogil=True)
def _visited_bits(parent, bits):
    bits[:] = 0
    for x in range(len(parent)):
        if parent[x] != -1:
            set_bit(bits, x)


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


@njit(cache=True, nogil=True)
def _td_apply(recv, n, parent, lo, degree, queue):
    """Claim the proposed vertices: the smallest proposed parent wins (a vertex claimed this
    level holds -2 - parent until the level ends). Returns (new frontier, its degrees)."""
    nq = 0
    for t in range(n):
        x = recv[2 * t] - lo
        v = recv[2 * t + 1]
        p = parent[x]
        if p == -1:
            parent[x] = -2 - v
            queue[nq] = x
            nq += 1
        elif p <= -2 and v < -2 - p:
            parent[x] = -2 - v
    deg = 0
    for t in range(nq):
        x = queue[t]
        parent[x] = -2 - parent[x]
        deg += degree[x]
    return nq, deg


def _gather_frontier_ids(ws, nq):
    """The global ids of column strip j's frontier, gathered along the grid column."""
    g = ws.grid
    _to_global(ws.queue, nq, g.lo, ws.qglobal)
    if g.R == 1:
        if len(ws.fq) < nq:
            ws.fq = np.empty(2 * nq, dtype=ws.qglobal.dtype)
        ws.fq[:nq] = ws.qglobal[:nq]
        return nq
    mine = np.array([nq], dtype=np.int64)
    counts = np.empty(g.R, dtype=np.int64)
    g.col_comm.Allgather(mine, counts)
    total = int(counts.sum())
    if len(ws.fq) < total:
        ws.fq = np.empty(2 * total, dtype=ws.qglobal.dtype)
    displs = np.zeros(g.R, dtype=np.int64)
    np.cumsum(counts[:-1], out=displs[1:])
    t = mpi_type(ws.qglobal)
    g.col_comm.Allgatherv([ws.qglobal[:nq], t], [ws.fq, (counts, displs), t])
    return total


def _top_down(ws, nq):
    g, gr = ws.grid, ws.graph
    nfq = _gather_frontier_ids(ws, nq)
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
    _mark_seen(ws.sendbuf, nsend, ws.seen_row, g.row_lo)
    if g.C == 1:
        recv, nrecv = ws.sendbuf, nsend
    else:
        recv, rc = alltoallv(g.row_comm, ws.sendbuf, 2 * totals, ws.recvbuf)
        ws.recvbuf = recv
        nrecv = int(rc.sum()) // 2
    return _td_apply(recv, nrecv, ws.parent, g.lo, gr.degree_local, ws.queue)


# --- bottom-up --------------------------------------------------------------------------------

@njit(cache=True, nogil=True, parallel=True)
def _bu_scan(colptr, rows, base, n, done, front, row_lo, cand, sums):
    """One sub-step: the unvisited vertices of one block of the column strip (padded indices
    base .. base + n) look for a parent in the row strip's frontier. Thread per 64-vertex
    word of `done`, so no two threads write one word. Returns the vertices given a parent."""
    nwords = (n + 63) // 64
    for w in prange(nwords):
        bits = done[w]
        cnt = 0
        end = min(n, (w + 1) * 64)
        for t in range(w * 64, end):
            if (bits >> np.uint64(t - w * 64)) & np.uint64(1):
                continue
            v = base + t
            for k in range(colptr[v], colptr[v + 1]):
                u = rows[k]
                if test_bit(front, u - row_lo):
                    cand[v] = u
                    bits |= np.uint64(1) << np.uint64(t - w * 64)
                    cnt += 1
                    break
        done[w] = bits
        sums[w] = cnt
    found = 0
    for w in range(nwords):
        found += sums[w]
    return found


@njit(cache=True, nogil=True)
def _collect(cand, col_base, col_n, me, counts, out, fill):
    """Parents found here for other grid rows' blocks, as (index in block, parent) records
    grouped by block owner (count pass, then fill pass); resets the candidates sent."""
    p = 0
    for g in range(len(col_n)):
        if g == me:
            continue
        c = 0
        for t in range(col_n[g]):
            u = cand[col_base[g] + t]
            if u >= 0:
                if fill:
                    out[2 * p] = t
                    out[2 * p + 1] = u
                    cand[col_base[g] + t] = -1
                p += 1
                c += 1
        counts[g] = c
    return p


@njit(cache=True, nogil=True)
def _bu_own(cand, base, parent, done, visited, front, degree):
    """The owner's side of a bottom-up level, its block being the last sub-step: `done` now
    holds every vertex of the block given a parent by any grid row, so the new frontier is
    done & ~visited without waiting for the parents found elsewhere (they travel once, at
    the end of the bottom-up phase: _flush). Own finds are applied now. Returns (new
    frontier size, its degrees); front = its bits, and visited takes them in."""
    n = len(parent)
    for x in range(n):
        u = cand[base + x]
        if u >= 0:
            parent[x] = u
            cand[base + x] = -1
    nn = 0
    deg = 0
    for w in range((n + 63) // 64):
        b = done[w] & ~visited[w]
        front[w] = b
        visited[w] |= b
        while b:
            low = lowest_bit(b)
            x = w * 64 + bit_index(low)
            nn += 1
            deg += degree[x]
            b ^= low
    return nn, deg


@njit(cache=True, nogil=True)
def _apply_pairs(recv, nrecv, parent):
    for t in range(nrecv):
        parent[recv[2 * t]] = recv[2 * t + 1]


def _flush(ws):
    """Deliver the parents this rank found for other grid rows' blocks during the bottom-up
    phase now ending (one Alltoallv along the grid column for the whole phase: each vertex is
    found once, so the candidates never collide across levels)."""
    g, gr = ws.grid, ws.graph
    if g.R == 1:
        return
    counts = np.zeros(g.R, dtype=np.int64)
    n = _collect(ws.cand, ws.col_base, g.col_block_n, g.i, counts, ws.sendbuf, False)
    if 2 * n > len(ws.sendbuf):
        ws.sendbuf = np.empty(4 * n, dtype=gr.rows.dtype)
    _collect(ws.cand, ws.col_base, g.col_block_n, g.i, counts, ws.sendbuf, True)
    recv, rc = alltoallv(g.col_comm, ws.sendbuf, 2 * counts, ws.recvbuf)
    ws.recvbuf = recv
    _apply_pairs(recv, int(rc.sum()) // 2, ws.parent)


def _bottom_up(ws):
    g, gr = ws.grid, ws.graph
    R, i = g.R, g.i
    lw = g.local_words
    # the frontier of row strip i, from the C owners of its blocks
    if g.C == 1:
        ws.front_row[:lw] = ws.front_mine[:lw]
    else:
        g.row_comm.Allgatherv([ws.front_mine[:lw], MPI.UINT64_T],
                              [ws.front_row, (g.row_block_words, g.row_block_wbase),
                               MPI.UINT64_T])
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
        _bu_scan(gr.colptr, gr.rows, int(ws.col_base[seg]), int(g.col_block_n[seg]), cur,
                 ws.front_row, g.row_lo, ws.cand, ws.word_sums)
    # seg == i now: cur holds the done bits of this rank's own block
    return _bu_own(ws.cand, int(ws.col_base[i]), ws.parent, cur, ws.visited_mine,
                   ws.front_mine, gr.degree_local)


# --- the search -------------------------------------------------------------------------------

def bfs2d(ws, root, alpha=ALPHA, beta=BETA):
    """Collective search from global vertex `root`; fills and returns ws.parent (this rank's
    1-D block). Call ws.reset() before (outside the timed region)."""
    g = ws.grid
    parent = ws.parent
    nq = 0
    frontier_edges = 0
    if g.lo <= root < g.hi:
        parent[root - g.lo] = root
        ws.queue[0] = root - g.lo
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
            _visited_bits(parent, ws.visited_mine)
            top_down = False
        if top_down:
            nq, nedges = _top_down(ws, nq)
            nn = nq
        else:
            nn, nedges = _bottom_up(ws)
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
    frontier and seen bitmaps (N/R bits each), the block bitmaps, and the exchange buffers
    (top-down proposals: at most the gathered frontier's entries / ALPHA, as in bfs.py)."""
    from .construct import expected_entries, id_bytes, max_block_vertices
    from .grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    proposals = expected_entries(scale, edgefactor, nranks) // ALPHA
    buffers = 2 * max(1 << 16, 2 * proposals) * id_bytes(scale)
    return 3 * 8 * n + 8 * R * n + 2 * (C * n) // 8 + 4 * n // 8 + buffers
