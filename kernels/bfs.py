"""Kernel 2: distributed direction-optimising BFS (Beamer, Asanovic, Patterson, SC'12).

Returns, for the local block, parent[i] = global id of the BFS parent of vertex lo + i,
parent[root] = root, -1 when unreached.

Two step kinds, chosen per level from global sums (one small Allreduce per level):
  top-down  - the frontier is a queue of local vertices; each scans its row and proposes
              every remote neighbour to its owner as a (vertex, parent) pair through one
              Alltoallv; the owner keeps the smallest proposed parent of a vertex still
              unvisited before the level, so the tree is the same for any order of arrival
              (any thread or rank count). On one thread (or a small level) the queue is kept
              in increasing order, so first come is smallest: a local neighbour is claimed
              at once, and a lower rank's proposal replaces such a claim (_td_serial,
              _td_apply_list); with threads (a large level) a local neighbour is claimed at
              once by a compare-and-swap that only ever lowers its parent, so two threads
              reaching it still leave the smallest (_td_count_run).
  bottom-up - the frontier is a global bitmap (N bits, each rank's slice assembled with one
              Allgatherv; slices are whole words because blocks are word-aligned, see
              partition.py); every unvisited local vertex with edges (a bitmap, `todo`, whose
              set bits the step walks) scans its row and stops at the first neighbour in the
              frontier. No per-edge messages, and the scan stops early, which is what makes
              the big middle levels cheap.
Switching (GAPBS's heuristic): go bottom-up when the frontier's edges exceed the unexplored
edges / ALPHA; return top-down when the frontier is shrinking and smaller than N / BETA.

Invariants the steps rely on: parent[i] == -1 exactly for unvisited vertices, and `todo`
holds exactly the unvisited vertices with edges (between levels; every level, top-down too,
takes its new vertices out); in a bottom-up step thread t owns whole 64-vertex words of the
next bitmap, so no atomics are needed; in a threaded top-down step the frontier is cut into
one run of about equal edges per thread (each writes its own slots of the send buffer,
cursors from per-run counts), local neighbours are claimed by compare-and-swap (each new
vertex once, by the thread that turned its -1 into a claim), and proposals travel grouped by
piece of the owner's rows (partition.row_blocks), one thread per piece applying them after
the local claims, so no two threads write one parent at once without an atomic. Same tree
for any thread count.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .bitmap import (ONE, GlobalBitmap, bit_index, chunk_offsets, clear_bit, from_queue,
                     lowest_bit, next_set, set_bit, test_bit, to_queue)
from .exchange import alltoallv_pieces, chunk_starts
from .intrinsics import atomic_or, compare_and_swap, prefetch
from .partition import block_offsets, owner, row_blocks

ALPHA = 15
BETA = 18
# A top-down level with fewer local frontier edges (or received proposals) than this runs its
# steps on one thread: below it a parallel step's fork and join cost more than its work.
TD_PARALLEL_EDGES = 1 << 14
# Entries of a row ahead whose target's parent a top-down scan asks the cache for
# (kernels/intrinsics.py prefetch).
AHEAD = 16
# Candidates ahead whose row's first entries a bottom-up step asks the cache for (and twice
# as far, their row start).
BU_AHEAD = 16
# Runs of words per thread in a bottom-up step (a few, for balance).
BU_RUNS = 4


class BFSWorkspace:
    """Buffers reused by every search on one graph (allocated once, untimed)."""

    def __init__(self, graph, comm):
        part = graph.part
        self.comm = comm
        self.graph = graph
        self.parent = np.full(part.nlocal, -1, dtype=np.int64)
        self.queue = np.empty(max(part.nlocal, 1), dtype=np.int64)
        self.next_queue = np.empty(max(part.nlocal, 1), dtype=np.int64)
        # The bottom-up frontier: this rank's slice (next_bits, written by a step) and the
        # global bitmap gathered from all slices (front_bits, read by the next step).
        self.frontier = GlobalBitmap(comm, part)
        self.front_bits = self.frontier.bits
        self.next_bits = self.frontier.mine
        # Bottom-up candidates: the vertices with edges (fixed), and those of them still
        # unvisited (copied from live when a search starts, kept by every level).
        self.live = np.zeros(len(self.next_bits), dtype=np.uint64)
        live_bits(graph.rowptr, part.nlocal, self.live)
        self.todo = np.zeros(len(self.next_bits), dtype=np.uint64)
        # Threads of the top-down step: the frontier is cut into one run per thread, and the
        # rows into nblk pieces (partition.row_blocks) whose claims one thread each applies.
        nthreads = numba.get_num_threads()
        self.nthreads = nthreads
        self.bu_sums = np.zeros((BU_RUNS * nthreads, 2), dtype=np.int64)   # bottom-up runs
        self.nblk = row_blocks(part.nranks, nthreads)
        self.nvirt = part.nranks * self.nblk
        vo = block_offsets(part.scale, self.nvirt)
        self.blk_lo = (vo[part.rank * self.nblk: (part.rank + 1) * self.nblk + 1]
                       - part.lo).astype(np.int64)
        self.blk_sums = np.zeros((self.nblk, 2), dtype=np.int64)
        self.bounds = np.zeros(nthreads + 1, dtype=np.int64)
        self.sendbuf = np.empty(1 << 16, dtype=graph.col.dtype)
        self.recvbuf = np.empty(1 << 16, dtype=graph.col.dtype)
        self.total_entries = int(comm.allreduce(int(graph.rowptr[-1]), op=MPI.SUM))

    def reset(self):
        """Clear the output before the timer starts (the spec does not time this)."""
        self.parent.fill(-1)


@njit(cache=True, nogil=True)
def _split_queue(rowptr, queue, nq, bounds):
    """Cut the frontier queue into len(bounds) - 1 runs of about equal edge counts (one per
    thread): bounds[c] .. bounds[c+1] is run c."""
    nchunks = len(bounds) - 1
    total = 0
    for qi in range(nq):
        i = queue[qi]
        total += rowptr[i + 1] - rowptr[i]
    bounds[0] = 0
    c = 1
    acc = 0
    for qi in range(nq):
        i = queue[qi]
        acc += rowptr[i + 1] - rowptr[i]
        while c < nchunks and acc * nchunks >= c * total:
            bounds[c] = qi + 1
            c += 1
    while c <= nchunks:
        bounds[c] = nq
        c += 1
    return total


# As in Kernel 1, each prange body calls a plain function on its run with fresh local
# counts/cursors (compiled inline, or through views that may alias the output, the same
# loops ran several times slower on one thread), and its input as a slice indexed from 0
# (range(a, b) cannot prove the index non-negative: a wraparound test on every read).


@njit(cache=True, nogil=True)
def _td_count_run(rowptr, col, parent, queue, lo, nvirt, scale, shift, me, nblk, bits, out):
    """Run c of a threaded top-down level: remote neighbours counted per virtual rank (out),
    local ones claimed at once. A claim holds -2 - parent while the level runs (below -1, so
    it tells a claim from an unvisited vertex and from one visited before, >= 0), and a
    compare-and-swap replaces it only by a larger value, i.e. a smaller parent: the vertex
    ends with its smallest parent in the frontier, whichever thread comes first. The thread
    that claims an unvisited vertex sets its bit in `bits` (the level's new vertices; their
    edges are summed by _end_claims_par, in order)."""
    counts = np.zeros(nvirt, dtype=np.int64)
    qlo = me * nblk
    mine = np.uint64(nblk)     # virtual ranks of this rank: q - qlo below it (unsigned)
    for qi in range(len(queue)):
        i = queue[qi]
        claim = -2 - (i + lo)
        k1 = rowptr[i + 1]
        for k in range(rowptr[i], k1):
            if k + AHEAD < k1:
                prefetch(parent, col[k + AHEAD] - lo)
            v = col[k]
            q = owner(v, nvirt, scale, shift)
            if np.uint64(q - qlo) >= mine:
                counts[q] += 1
                continue
            j = v - lo
            p = parent[j]
            while p == -1 or (p <= -2 and p < claim):
                old = compare_and_swap(parent, j, p, claim)
                if old == p:
                    if p == -1:
                        atomic_or(bits, j >> 6, ONE << np.uint64(j & 63))
                    break
                p = old
    out[:] = counts


@njit(cache=True, nogil=True, parallel=True)
def _td_count(rowptr, col, parent, queue, bounds, lo, nvirt, scale, shift, me, nblk, bits):
    """counts[c, q]: remote proposals of frontier run c for virtual rank q; the local
    neighbours claimed (_td_count_run). Returns the counts."""
    nchunks = len(bounds) - 1
    counts = np.zeros((nchunks, nvirt), dtype=np.int64)
    for c in prange(nchunks):
        _td_count_run(rowptr, col, parent, queue[bounds[c]:bounds[c + 1]], lo, nvirt, scale,
                      shift, me, nblk, bits, counts[c])
    return counts


@njit(cache=True, nogil=True)
def _td_fill_run(rowptr, col, queue, lo, nvirt, scale, shift, me, nblk, cursor, out):
    """The remote proposals of frontier run `queue`, grouped by virtual rank at `cursor`,
    each group in the run's order."""
    pos = cursor.copy()
    qlo, qhi = me * nblk, (me + 1) * nblk
    for qi in range(len(queue)):
        i = queue[qi]
        u = i + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            v = col[k]
            q = owner(v, nvirt, scale, shift)
            if q < qlo or q >= qhi:
                p = pos[q]
                out[2 * p] = v
                out[2 * p + 1] = u
                pos[q] = p + 1


@njit(cache=True, nogil=True, parallel=True)
def _td_fill(rowptr, col, queue, bounds, lo, nvirt, scale, shift, me, nblk, pos, out):
    """Write the (vertex, proposed parent) pairs counted by _td_count, run c at its cursors."""
    nchunks = len(bounds) - 1
    for c in prange(nchunks):
        _td_fill_run(rowptr, col, queue[bounds[c]:bounds[c + 1]], lo, nvirt, scale, shift, me,
                     nblk, pos[c], out)


@njit(cache=True, nogil=True, parallel=True)
def _end_claims_par(bits, nlocal, queue, parent, rowptr, parts, todo):
    """The level's directly claimed vertices (bits) into queue, in order, each with its
    parent back from -2 - parent and out of todo, on all threads: len(parts) chunks of
    words, each counting its bits (popcount), then listing its vertices after the chunks
    before it. Returns (vertices, their edges). One thread's pass here was 1.3 ms of a 38 ms
    SCALE 22 search at 2 threads."""
    nchunks = len(parts)
    nw = len(bits)
    n = chunk_offsets(bits, parts)
    for c in prange(nchunks):
        q = parts[c, 0]
        deg = 0
        for w in range(c * nw // nchunks, (c + 1) * nw // nchunks):
            b = bits[w]
            todo[w] &= ~b
            while b:
                low = lowest_bit(b)
                j = w * 64 + bit_index(low)
                b ^= low
                if j < nlocal:
                    queue[q] = j
                    q += 1
                    parent[j] = -2 - parent[j]
                    deg += rowptr[j + 1] - rowptr[j]
        parts[c, 1] = deg
    deg = 0
    for c in range(nchunks):
        deg += parts[c, 1]
    return n, deg


@njit(cache=True, nogil=True)
def _td_claim_run(recv, rowptr, parent, lo, slots, base, k):
    """Apply the proposals recv (pairs); new vertices go to slots[base + k ...].
    Returns (k, their edges)."""
    deg = 0
    for t in range(len(recv) // 2):
        j = recv[2 * t] - lo
        u = recv[2 * t + 1]
        pj = parent[j]
        if pj == -1:
            parent[j] = -2 - u
            slots[base + k] = j
            k += 1
            deg += rowptr[j + 1] - rowptr[j]
        else:
            # Claimed this level (pj <= -2): the smaller parent wins; visited before
            # (pj >= 0 > -2 - u): kept. One max, and a store only when it changes.
            m = max(pj, -2 - u)
            if m != pj:
                parent[j] = m
    return k, deg


@njit(cache=True, nogil=True, inline="always")
def _claim_piece(recv, seg, sub, nblk, b, rowptr, parent, lo, blk_lo, slots, blk_sums):
    """Piece b's share of the claim pass (_td_apply and its one-thread twin): every
    sender's proposals for the rows of piece b, new vertices listed at slots[blk_lo[b]:];
    blk_sums[b] = (new vertices, their edges)."""
    n = 0
    deg = 0
    for s in range(len(sub) // nblk):
        a = 2 * seg[s * nblk + b]
        n, d = _td_claim_run(recv[a:a + 2 * sub[s * nblk + b]], rowptr, parent, lo, slots,
                             blk_lo[b], n)
        deg += d
    blk_sums[b, 0] = n
    blk_sums[b, 1] = deg


@njit(cache=True, nogil=True, inline="always")
def _list_piece(slots, base, n, parent, queue, o, todo):
    """Piece b's n new vertices (slots[base:]) end their level: parent back from -2 - parent,
    into the new frontier at queue[o:], and out of todo (pieces are whole words, so the
    thread of piece b owns the words it clears)."""
    for t in range(n):
        j = slots[base + t]
        parent[j] = -2 - parent[j]
        queue[o + t] = j
        clear_bit(todo, j)


@njit(cache=True, nogil=True, parallel=True)
def _td_apply(recv, seg, sub, nblk, rowptr, parent, lo, blk_lo, slots, queue, blk_sums, todo):
    """Claim the proposed vertices: thread b owns the rows of piece b, so no two threads
    write one parent. The smallest proposed parent wins, so the tree does not depend on the
    order proposals arrive in (hence not on threads or ranks). A vertex claimed during this
    level holds -2 - parent until the level ends, which tells it from one visited before
    (parent >= 0) and from an unvisited one (-1). Piece b lists its new vertices in
    slots[blk_lo[b]:], then they are packed, piece by piece, into `queue` (the frontier just
    scanned, no longer needed). Returns the new frontier's size."""
    for b in prange(nblk):
        _claim_piece(recv, seg, sub, nblk, b, rowptr, parent, lo, blk_lo, slots, blk_sums)
    offs = np.zeros(nblk + 1, dtype=np.int64)
    for b in range(nblk):
        offs[b + 1] = offs[b] + blk_sums[b, 0]
    for b in prange(nblk):
        _list_piece(slots, blk_lo[b], blk_sums[b, 0], parent, queue, offs[b], todo)
    return offs[nblk]


@njit(cache=True, nogil=True)
def _td_serial(rowptr, col, parent, queue, nq, lo, nvirt, scale, shift, me, nblk, bits):
    """A top-down level's local half on one thread (one thread per rank, or a level too small
    for the parallel steps, whose fork and join then cost more than the work). The queue is
    in increasing order, so the first claim of a vertex is by its smallest local parent, and
    a neighbour this rank owns is claimed at once, first come, with no other test: the same
    tree as the parallel steps' smallest-parent-wins claim pass (_td_apply_list finishes the
    rule for proposals from lower ranks). New vertices get their bit in `bits` (cleared by
    the caller), which orders the next queue and tells this level's claims from older ones.
    The others are only counted per virtual rank. Returns the counts (1 x nvirt).
    Sending every local neighbour through the claim pass made one-thread BFS about 12 %
    slower than claiming it here, and the smallest-parent rule written as a test on every
    visited neighbour, with a pass turning the level's marks back into parents, about 5-8 %
    (bench/bfs_ab.py)."""
    counts = np.zeros(nvirt, dtype=np.int64)
    qlo = me * nblk
    mine = np.uint64(nblk)
    for qi in range(nq):
        i = queue[qi]
        u = i + lo
        e1 = rowptr[i + 1]
        for e in range(rowptr[i], e1):
            # a remote target's prefetch is wasted, and harmless
            if e + AHEAD < e1:
                prefetch(parent, col[e + AHEAD] - lo)
            v = col[e]
            q = owner(v, nvirt, scale, shift)
            if np.uint64(q - qlo) >= mine:     # not this rank's (one unsigned compare)
                counts[q] += 1
            else:
                j = v - lo
                if parent[j] == -1:
                    parent[j] = u
                    set_bit(bits, j)
    return counts.reshape((1, nvirt))


@njit(cache=True, nogil=True)
def _end_level(bits, nlocal, queue, todo, rowptr):
    """A one-thread top-down level's new vertices (bits) into queue, in increasing order,
    and out of todo; returns (how many, their edges, for the direction switch). The edges
    are summed here, over the sorted vertices, rather than as each vertex is claimed: there
    every claim added two random reads of rowptr to the top-down scan's random read of
    parent."""
    n = 0
    deg = 0
    for w in range(len(bits)):
        b = bits[w]
        todo[w] &= ~b
        while b:
            low = lowest_bit(b)
            i = w * 64 + bit_index(low)
            if i < nlocal:
                queue[n] = i
                n += 1
                deg += rowptr[i + 1] - rowptr[i]
            b ^= low
    return n, deg


@njit(cache=True, nogil=True)
def _td_apply_list(recv, sub, nlower, parent, lo, bits):
    """After _td_serial: claim the received proposals on one thread. They arrive grouped by
    sender in rank order, each sender's in increasing parent order, so the first proposal
    for a vertex from a lower rank (the first nlower records) carries its smallest parent
    overall: it replaces a claim this rank made this level (bit set, parent in this block,
    hence larger), never an older visit (bit clear) nor a lower rank's claim (parent below
    lo). From higher ranks only a still unvisited vertex is claimed. The new frontier's
    vertices are the set bits."""
    n = 0
    for s in range(len(sub)):
        n += sub[s]
    for t in range(nlower):
        j = recv[2 * t] - lo
        pj = parent[j]
        if pj == -1:
            parent[j] = recv[2 * t + 1]
            set_bit(bits, j)
        elif pj >= lo and test_bit(bits, j):
            parent[j] = recv[2 * t + 1]
    upper = recv[2 * nlower:2 * n]      # a slice indexed from 0 (see _td_count_run's note)
    for t in range(n - nlower):
        j = upper[2 * t] - lo
        if parent[j] == -1:
            parent[j] = upper[2 * t + 1]
            set_bit(bits, j)


@njit(cache=True, nogil=True)
def _td_apply_serial(recv, seg, sub, nblk, rowptr, parent, lo, blk_lo, slots, queue, blk_sums,
                     todo):
    """_td_apply on one thread, piece after piece (so the same frontier order)."""
    o = 0
    for b in range(nblk):
        _claim_piece(recv, seg, sub, nblk, b, rowptr, parent, lo, blk_lo, slots, blk_sums)
        _list_piece(slots, blk_lo[b], blk_sums[b, 0], parent, queue, o, todo)
        o += blk_sums[b, 0]
    return o


@njit(cache=True, nogil=True, parallel=True)
def live_bits(rowptr, nlocal, out):
    """out = the rows below nlocal with at least one entry (a property of the graph, built
    once per workspace): a bottom-up step never looks at the others (also the 2-D layout's
    columns, bfs2d.py)."""
    for w in prange(len(out)):
        bits = np.uint64(0)
        for i in range(w * 64, min(nlocal, (w + 1) * 64)):
            if rowptr[i + 1] > rowptr[i]:
                bits |= ONE << np.uint64(i - w * 64)
        out[w] = bits


@njit(cache=True, nogil=True)
def _bu_run(w0, w1, rowptr, col, parent, todo, front_bits, next_bits, sums, c):
    """Words w0..w1 of a bottom-up level (see _bu_step). Two cursors run ahead over the
    candidates, BU_AHEAD and 2 * BU_AHEAD of them: the far one asks the cache for the
    candidate's rowptr entry, the near one for the first entry of its row, which the scan
    then reads. Late levels leave a few candidates per word, so looking a fixed number of
    vertices ahead would mostly fetch rows that are not scanned."""
    aw, ar = w0 - 1, np.uint64(0)
    for _ in range(2 * BU_AHEAD):
        aw, ar, j = next_set(todo, w1, aw, ar)
        if j >= 0:
            prefetch(rowptr, j)
    bw, br = w0 - 1, np.uint64(0)
    for _ in range(BU_AHEAD):
        bw, br, j = next_set(todo, w1, bw, br)
        if j >= 0:
            prefetch(col, rowptr[j])
    cnt = 0
    deg = 0
    for w in range(w0, w1):
        left = todo[w]
        rest = left
        bits = np.uint64(0)
        while rest:
            low = lowest_bit(rest)
            rest ^= low
            i = w * 64 + bit_index(low)
            aw, ar, j = next_set(todo, w1, aw, ar)
            if j >= 0:
                prefetch(rowptr, j)
            bw, br, j = next_set(todo, w1, bw, br)
            if j >= 0:
                prefetch(col, rowptr[j])
            for k in range(rowptr[i], rowptr[i + 1]):
                u = col[k]
                if test_bit(front_bits, u):
                    parent[i] = u
                    bits |= low
                    cnt += 1
                    deg += rowptr[i + 1] - rowptr[i]
                    break
        # The cursors read word w before this: they are at least as far on.
        todo[w] = left ^ bits
        next_bits[w] = bits
    sums[c, 0] = cnt
    sums[c, 1] = deg


@njit(cache=True, nogil=True, parallel=True)
def _bu_step(rowptr, col, parent, todo, front_bits, next_bits, sums):
    """One bottom-up level over the vertices left in `todo` (unvisited, with edges), which
    it keeps up to date; returns (newly visited, their edge count). Walking the set bits of
    todo instead of every parent entry skips the isolated vertices (about 40 % of a
    Kronecker graph's) and the visited ones: a late level with a few hundred candidates
    cost a full pass over parent and rowptr (14 ms a level at SCALE 22 on 2 ranks).
    Runs of whole words, one per row of `sums` (a few per thread), so each thread owns the
    words it writes; per-run sums go to `sums` and are added afterwards (no scalar reduction
    inside prange, whose analysis has failed on some Numba versions)."""
    nwords = len(todo)
    nchunks = min(nwords, len(sums))
    for c in prange(nchunks):
        _bu_run(c * nwords // nchunks, (c + 1) * nwords // nchunks, rowptr, col, parent, todo,
                front_bits, next_bits, sums, c)
    awake = 0
    nedges = 0
    for c in range(nchunks):
        awake += sums[c, 0]
        nedges += sums[c, 1]
    return awake, nedges


def _grow_sendbuf(ws, need):
    if need > len(ws.sendbuf):
        ws.sendbuf = np.empty(need, dtype=ws.graph.col.dtype)


def _td_parallel(ws, nq):
    """A large top-down level on every thread: local neighbours claimed at once (a
    compare-and-swap keeps the smallest parent), remote ones proposed to their owners, whose
    claim pass runs one thread per piece of rows. Returns (new frontier size, its edges,
    whether the frontier ws.queue[0:size] is in increasing order)."""
    g, part = ws.graph, ws.graph.part
    rowptr, col, parent = g.rowptr, g.col, ws.parent
    lo, me, scale, shift = part.lo, part.rank, part.scale, part.shift
    nblk, nvirt = ws.nblk, ws.nvirt
    bits = ws.next_bits                 # free in top-down levels: this level's direct claims
    bits[:] = 0
    counts = _td_count(rowptr, col, parent, ws.queue, ws.bounds, lo, nvirt, scale, shift, me,
                       nblk, bits)
    nrecv = 0
    deg = 0
    if part.nranks > 1:
        pos, totals = chunk_starts(counts)
        _grow_sendbuf(ws, 2 * int(totals.sum()))
        _td_fill(rowptr, col, ws.queue, ws.bounds, lo, nvirt, scale, shift, me, nblk, pos,
                 ws.sendbuf)
        recv, seg, sub = alltoallv_pieces(ws.comm, ws.sendbuf, totals, nblk, 2, ws.recvbuf)
        if recv is not ws.sendbuf:
            ws.recvbuf = recv
        # A vertex claimed directly holds -2 - parent (<= -2): the claim pass only lowers
        # its parent and does not list it; it lists (and ends) the vertices it claims.
        apply = _td_apply if int(sub.sum()) >= TD_PARALLEL_EDGES else _td_apply_serial
        nrecv = apply(recv, seg, sub, nblk, rowptr, parent, lo, ws.blk_lo, ws.next_queue,
                      ws.queue, ws.blk_sums, ws.todo)
        deg = int(ws.blk_sums[:, 1].sum())
    # (bu_sums: the bottom-up runs' scratch, free in a top-down level)
    nd, dd = _end_claims_par(bits, part.nlocal, ws.queue[nrecv:], parent, rowptr, ws.bu_sums,
                             ws.todo)
    deg += dd
    return nrecv + nd, int(deg), nrecv == 0


def bfs(ws, root):
    """Collective search from global vertex `root`; fills and returns ws.parent.
    Call ws.reset() before (outside the timed region)."""
    g = ws.graph
    part = g.part
    comm = ws.comm
    rowptr, col, parent = g.rowptr, g.col, ws.parent
    lo, me, scale, shift = part.lo, part.rank, part.scale, part.shift
    # The bottom-up candidates, kept by every level from the start: top-down levels take
    # their new vertices out (a bit each, in passes they make anyway), so turning bottom-up
    # costs nothing, where building todo from parent read 8 bytes per vertex at every
    # switch (2.6 switches per SCALE 22 search: 9 % of it, at 1 or 2 ranks).
    ws.todo[:] = ws.live
    nq = 0
    frontier_edges = 0
    if part.lo <= root < part.hi:
        parent[root - lo] = root
        ws.queue[0] = root - lo
        clear_bit(ws.todo, root - lo)
        nq = 1
        frontier_edges = int(rowptr[root - lo + 1] - rowptr[root - lo])
    stats = np.array([nq, frontier_edges], dtype=np.int64)
    glob = np.empty(2, dtype=np.int64)
    comm.Allreduce(stats, glob, op=MPI.SUM)
    nfront, scout = int(glob[0]), int(glob[1])
    unexplored = ws.total_entries - scout
    nblk, nvirt = ws.nblk, ws.nvirt
    top_down = True
    ordered = True      # ws.queue in increasing order (what the one-thread step needs)
    while nfront > 0:
        if top_down and scout > unexplored / ALPHA:
            # Switch to bottom-up: the frontier becomes a bitmap.
            from_queue(ws.queue, nq, ws.next_bits)
            top_down = False
        if top_down:
            # One thread per rank never pays for the split (a pass over the frontier).
            if ws.nthreads > 1 and _split_queue(rowptr, ws.queue, nq,
                                                ws.bounds) >= TD_PARALLEL_EDGES:
                nq, nedges, ordered = _td_parallel(ws, nq)
            else:
                if not ordered:
                    ws.queue[:nq].sort()
                bits = ws.next_bits        # free in top-down levels: this level's claims
                bits[:] = 0
                counts = _td_serial(rowptr, col, parent, ws.queue, nq, lo, nvirt, scale,
                                    shift, me, nblk, bits)
                pos, totals = chunk_starts(counts)
                _grow_sendbuf(ws, 2 * int(totals.sum()))
                _td_fill_run(rowptr, col, ws.queue[:nq], lo, nvirt, scale, shift, me, nblk,
                             pos[0], ws.sendbuf)
                recv, seg, sub = alltoallv_pieces(comm, ws.sendbuf, totals, nblk, 2,
                                                  ws.recvbuf)
                if recv is not ws.sendbuf:
                    ws.recvbuf = recv
                nlower = int(seg[me * nblk])   # records from lower ranks come first
                _td_apply_list(recv, sub, nlower, parent, lo, bits)
                nq, nedges = _end_level(bits, part.nlocal, ws.queue, ws.todo, rowptr)
                ordered = True
            nn = nq
        else:
            ws.frontier.gather()
            nn, nedges = _bu_step(rowptr, col, parent, ws.todo, ws.front_bits, ws.next_bits,
                                  ws.bu_sums)
        stats[0], stats[1] = nn, nedges
        comm.Allreduce(stats, glob, op=MPI.SUM)
        prev = nfront
        nfront, scout = int(glob[0]), int(glob[1])
        unexplored -= scout
        if not top_down and nfront < prev and nfront < part.nglobal / BETA:
            # Back to top-down: the frontier becomes a queue again.
            nq = to_queue(ws.next_bits, part.nlocal, ws.queue)
            ordered = True
            top_down = True
    return parent



# --- memory estimate (used by graph500/memory.py) ---

def bfs_workspace_bytes(scale, edgefactor, nranks):
    """Bytes of one rank's BFSWorkspace at its largest: parent and the two queues (8 bytes
    per local vertex each), the global frontier bitmap, three local bitmaps (the frontier
    slice, the vertices with edges and those still to visit bottom-up), and the top-down
    send and receive buffers. A top-down step runs only while the frontier's
    edges are at most the unexplored edges / ALPHA, so a rank proposes at most about its
    entries / ALPHA remote (vertex, parent) pairs (the share (P-1)/P of them remote)."""
    from .construct import expected_entries, id_bytes, max_block_vertices
    n = max_block_vertices(scale, nranks)
    ib = id_bytes(scale)
    proposals = expected_entries(scale, edgefactor, nranks) * (nranks - 1) // (nranks * ALPHA)
    buffers = 2 * max(1 << 16, 2 * proposals) * ib
    return 3 * 8 * n + max((1 << scale) >> 6, 1) * 8 + 3 * (n // 8) + buffers
