"""Kernel 2: distributed direction-optimising BFS (Beamer, Asanovic, Patterson, SC'12).

Returns, for the local block, parent[i] = global id of the BFS parent of vertex lo + i,
parent[root] = root, -1 when unreached.

Two step kinds, chosen per level from global sums (one small Allreduce per level):
  top-down  - the frontier is a queue of local vertices; each scans its row; a local
              neighbour is claimed at once, a remote one is proposed to its owner as a
              (vertex, parent) pair through one Alltoallv; the owner keeps the first
              proposal for a vertex still unvisited.
  bottom-up - the frontier is a global bitmap (N bits, each rank's slice assembled with one
              Allgatherv; slices are whole words because blocks are word-aligned, see
              partition.py); every unvisited local vertex scans its row and stops at the first
              neighbour in the frontier. No per-edge messages, and the scan stops early, which
              is what makes the big middle levels cheap.
Switching (GAPBS's heuristic): go bottom-up when the frontier's edges exceed the unexplored
edges / ALPHA; return top-down when the frontier is shrinking and smaller than N / BETA.

Invariants the steps rely on: parent[i] == -1 exactly for unvisited vertices; in a bottom-up
step thread t owns whole 64-vertex words of the next bitmap, so no atomics are needed; in a
top-down step only one thread writes parent (the step is serial inside a rank: top-down levels
are the small ones, the heuristic hands the large ones to the parallel bottom-up step).
"""
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .exchange import alltoallv, starts
from .partition import owner

ALPHA = 15
BETA = 18


class BFSWorkspace:
    """Buffers reused by every search on one graph (allocated once, untimed)."""

    def __init__(self, graph, comm):
        part = graph.part
        self.comm = comm
        self.graph = graph
        self.parent = np.full(part.nlocal, -1, dtype=np.int64)
        self.queue = np.empty(max(part.nlocal, 1), dtype=np.int64)
        self.next_queue = np.empty(max(part.nlocal, 1), dtype=np.int64)
        nwords_global = max(part.nglobal >> 6, 1)
        self.front_bits = np.zeros(nwords_global, dtype=np.uint64)
        self.local_words = (part.nlocal + 63) // 64
        self.next_bits = np.zeros(max(self.local_words, 1), dtype=np.uint64)
        self.word_sums = np.zeros((max(self.local_words, 1), 2), dtype=np.int64)
        offs = part.offsets
        self.word_counts = ((offs[1:] - offs[:-1] + 63) // 64).astype(np.int64)
        self.word_displs = (offs[:-1] // 64).astype(np.int64)
        self.sendbuf = np.empty(1 << 16, dtype=graph.col.dtype)
        self.recvbuf = np.empty(1 << 16, dtype=graph.col.dtype)
        self.total_entries = int(comm.allreduce(int(graph.rowptr[-1]), op=MPI.SUM))

    def reset(self):
        """Clear the output before the timer starts (the spec does not time this)."""
        self.parent.fill(-1)


@njit(cache=True, nogil=True)
def _td_local(rowptr, col, parent, queue, nq, lo, nranks, scale, shift, me,
              next_queue, counts):
    """Claim local neighbours of the frontier; count remote proposals per owner.
    Returns (next frontier size so far, its edge count)."""
    nn = 0
    nedges = 0
    for qi in range(nq):
        i = queue[qi]
        u = i + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            v = col[k]
            d = owner(v, nranks, scale, shift)
            if d == me:
                j = v - lo
                if parent[j] == -1:
                    parent[j] = u
                    next_queue[nn] = j
                    nn += 1
                    nedges += rowptr[j + 1] - rowptr[j]
            else:
                counts[d] += 1
    return nn, nedges


@njit(cache=True, nogil=True)
def _td_fill(rowptr, col, queue, nq, lo, nranks, scale, shift, me, counts, out):
    pos = starts(counts)
    for qi in range(nq):
        i = queue[qi]
        u = i + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            v = col[k]
            d = owner(v, nranks, scale, shift)
            if d != me:
                p = pos[d]
                out[2 * p] = v
                out[2 * p + 1] = u
                pos[d] = p + 1


@njit(cache=True, nogil=True)
def _td_apply(recv, n, rowptr, parent, lo, next_queue, nn, nedges):
    for t in range(n):
        j = recv[2 * t] - lo
        if parent[j] == -1:
            parent[j] = recv[2 * t + 1]
            next_queue[nn] = j
            nn += 1
            nedges += rowptr[j + 1] - rowptr[j]
    return nn, nedges


@njit(cache=True, nogil=True, parallel=True)
def _bu_step(rowptr, col, parent, nlocal, front_bits, next_bits, sums):
    """One bottom-up level; returns (newly visited, their edge count).
    Per-word partial sums go to `sums` and are added afterwards: no scalar reduction inside
    prange, whose analysis has failed on some Numba versions."""
    nwords = (nlocal + 63) // 64
    for w in prange(nwords):
        bits = np.uint64(0)
        cnt = 0
        deg = 0
        end = min(nlocal, (w + 1) * 64)
        for i in range(w * 64, end):
            if parent[i] == -1:
                for k in range(rowptr[i], rowptr[i + 1]):
                    u = col[k]
                    if (front_bits[u >> 6] >> np.uint64(u & 63)) & np.uint64(1):
                        parent[i] = u
                        bits |= np.uint64(1) << np.uint64(i - w * 64)
                        cnt += 1
                        deg += rowptr[i + 1] - rowptr[i]
                        break
        next_bits[w] = bits
        sums[w, 0] = cnt
        sums[w, 1] = deg
    awake = 0
    nedges = 0
    for w in range(nwords):
        awake += sums[w, 0]
        nedges += sums[w, 1]
    return awake, nedges


@njit(cache=True, nogil=True)
def _queue_to_bits(queue, nq, bits):
    bits[:] = 0
    for qi in range(nq):
        i = queue[qi]
        bits[i >> 6] |= np.uint64(1) << np.uint64(i & 63)


@njit(cache=True, nogil=True)
def _bits_to_queue(bits, nlocal, queue):
    n = 0
    for w in range(len(bits)):
        b = bits[w]
        while b:
            t = 0
            low = b & (~b + np.uint64(1))
            while (low >> np.uint64(t)) != np.uint64(1):
                t += 1
            i = w * 64 + t
            if i < nlocal:
                queue[n] = i
                n += 1
            b ^= low
    return n


def _gather_frontier(ws):
    """Assemble the global frontier bitmap from every rank's local slice."""
    sl = ws.next_bits[:ws.local_words]
    ws.comm.Allgatherv([sl, MPI.UINT64_T],
                       [ws.front_bits, (ws.word_counts, ws.word_displs), MPI.UINT64_T])


def bfs(ws, root):
    """Collective search from global vertex `root`; fills and returns ws.parent.
    Call ws.reset() before (outside the timed region)."""
    g = ws.graph
    part = g.part
    comm = ws.comm
    rowptr, col, parent = g.rowptr, g.col, ws.parent
    lo, me, nranks, scale, shift = part.lo, part.rank, part.nranks, part.scale, part.shift
    nq = 0
    frontier_edges = 0
    if part.lo <= root < part.hi:
        parent[root - lo] = root
        ws.queue[0] = root - lo
        nq = 1
        frontier_edges = int(rowptr[root - lo + 1] - rowptr[root - lo])
    stats = np.array([nq, frontier_edges], dtype=np.int64)
    glob = np.empty(2, dtype=np.int64)
    comm.Allreduce(stats, glob, op=MPI.SUM)
    nfront, scout = int(glob[0]), int(glob[1])
    unexplored = ws.total_entries - scout
    counts = np.zeros(nranks, dtype=np.int64)
    top_down = True
    while nfront > 0:
        if top_down and scout > unexplored / ALPHA:
            # Switch to bottom-up: the frontier becomes a bitmap.
            _queue_to_bits(ws.queue, nq, ws.next_bits)
            top_down = False
        if top_down:
            counts[:] = 0
            nn, nedges = _td_local(rowptr, col, parent, ws.queue, nq, lo, nranks, scale,
                                   shift, me, ws.next_queue, counts)
            need = 2 * int(counts.sum())
            if need > len(ws.sendbuf):
                ws.sendbuf = np.empty(need, dtype=col.dtype)
            _td_fill(rowptr, col, ws.queue, nq, lo, nranks, scale, shift, me, counts,
                     ws.sendbuf)
            ws.recvbuf, rc = alltoallv(comm, ws.sendbuf, 2 * counts, ws.recvbuf)
            nn, nedges = _td_apply(ws.recvbuf, int(rc.sum()) // 2, rowptr, parent, lo,
                                   ws.next_queue, nn, nedges)
            ws.queue, ws.next_queue = ws.next_queue, ws.queue
            nq = nn
        else:
            _gather_frontier(ws)
            nn, nedges = _bu_step(rowptr, col, parent, part.nlocal, ws.front_bits,
                                  ws.next_bits, ws.word_sums)
        stats[0], stats[1] = nn, nedges
        comm.Allreduce(stats, glob, op=MPI.SUM)
        prev = nfront
        nfront, scout = int(glob[0]), int(glob[1])
        unexplored -= scout
        if not top_down and nfront < prev and nfront < part.nglobal / BETA:
            # Back to top-down: the frontier becomes a queue again.
            nq = _bits_to_queue(ws.next_bits, part.nlocal, ws.queue)
            top_down = True
    return parent



# --- memory estimate (used by graph500/memory.py) ---

def bfs_workspace_bytes(scale, edgefactor, nranks):
    """Bytes of one rank's BFSWorkspace at its largest: parent and the two queues (8 bytes
    per local vertex each), the global frontier bitmap, the local bitmap and word sums, and
    the top-down send and receive buffers. A top-down step runs only while the frontier's
    edges are at most the unexplored edges / ALPHA, so a rank proposes at most about its
    entries / ALPHA remote (vertex, parent) pairs (the share (P-1)/P of them remote)."""
    from .construct import expected_entries, id_bytes, max_block_vertices
    n = max_block_vertices(scale, nranks)
    ib = id_bytes(scale)
    proposals = expected_entries(scale, edgefactor, nranks) * (nranks - 1) // (nranks * ALPHA)
    buffers = 2 * max(1 << 16, 2 * proposals) * ib
    return 3 * 8 * n + max((1 << scale) >> 6, 1) * 8 + n // 8 + n // 4 + buffers
