"""Kernel 2 on a GPU: distributed direction-optimising BFS (Beamer et al.) with Numba CUDA.

The same algorithm, partition, switching heuristic and exchange pattern as kernels/bfs.py (read
that first); what differs is how one level runs inside a rank:
  top-down  - the frontier is three queues of local vertices, binned by degree when they are
              discovered: below SMALL one thread scans a row, below LARGE one warp, else one
              block (the hubs of a Kronecker graph would otherwise keep one thread busy while
              the rest of its warp idles). A local neighbour is claimed with one atomic
              compare-and-swap on its parent (-1 -> parent), and the winner appends it to its
              bin of the next frontier with a warp-aggregated atomic (gpu_warp.agg_inc).
              Remote neighbours become (vertex, parent) proposals in one device buffer, which
              goes to the host, is grouped by owner there and sent with one Alltoallv (host
              staged: works with any MPI); received proposals are applied by one kernel.
              With a CUDA-aware MPI library (kernels/gpu_mpi.py) the grouping runs on the
              GPU and the Alltoallv moves device buffers.
  bottom-up - one thread per local vertex, a warp per 32 consecutive vertices; an unvisited
              vertex scans its row until a neighbour is in the frontier bitmap. Only that
              thread writes its parent, and each warp stores its 32 "found" flags as one word
              of the next bitmap (a ballot): no atomics. The global frontier bitmap is the
              last level's word slices, gathered through the host with one Allgatherv (on
              one rank the two bitmaps simply swap; with a CUDA-aware MPI each rank writes
              its slice of a global next bitmap, gathered in place on the device).
A level is at most 3 launches (top-down) or 1 (bottom-up), plus one read of 8 counters, which
the host needs anyway for the switching decision's Allreduce; with several ranks a top-down
level adds the launch that applies received proposals (and, with CUDA-aware MPI, the two that
group the proposals by owner on the GPU).

Bitmaps on the device are 32-bit words (bit v & 31 of word v >> 5): the same bytes as the CPU
kernel's 64-bit words on a little-endian host, and a warp's ballot is one such word.
parent (int64, global ids, -1 unvisited) stays on the device; the host copy is made after the
timed search (GPUBFSWorkspace.parent_host).
"""
import numpy as np
from mpi4py import MPI
from numba import cuda

from .bfs import ALPHA, BETA
from .gpu_graph import group_records, host_buffer, host_staged_exchange, on_device
from .gpu_mpi import DeviceExchange, allgather_words_in_place, exchange_bytes
from .gpu_warp import ONE32, TPB, WARP, agg_inc, blocks, fill, fill_i64, fill_u32, needs_clear, \
    warp_bits, warp_count

# Degree bins of the top-down frontier (thread / warp / block per vertex).
SMALL = 32
LARGE = 1024

# Counters read by the host after each level.
C_SMALL, C_MID, C_LARGE, C_EDGES, C_PROP, C_AWAKE = 0, 1, 2, 3, 4, 5
NCNT = 8

NEG1 = np.int64(-1)


@cuda.jit(device=True, inline=True)
def _claimed(j, deg, qs, qm, ql, cnt, small, large):
    """Append the newly visited local vertex j to its degree bin of the next frontier."""
    if deg < small:
        qs[agg_inc(cnt, C_SMALL)] = j
    elif deg < large:
        qm[agg_inc(cnt, C_MID)] = j
    else:
        ql[agg_inc(cnt, C_LARGE)] = j
    cuda.atomic.add(cnt, C_EDGES, deg)


@cuda.jit(device=True, inline=True)
def _visit(v, ug, lo, hi, rowptr, parent, qs, qm, ql, cnt, small, large, prop, cap):
    if v >= lo and v < hi:
        j = v - lo
        # Read first: most neighbours of a big frontier are visited, and a plain load is far
        # cheaper than a failing compare-and-swap.
        if parent[j] == NEG1:
            if cuda.atomic.cas(parent, j, NEG1, ug) == NEG1:
                _claimed(j, rowptr[j + 1] - rowptr[j], qs, qm, ql, cnt, small, large)
    else:
        p = agg_inc(cnt, C_PROP)
        if p < cap:
            prop[2 * p] = v
            prop[2 * p + 1] = ug


@cuda.jit
def _td_thread(q, nq, lo, hi, rowptr, col, parent, qs, qm, ql, cnt, small, large, prop, cap):
    t = cuda.grid(1)
    if t < nq:
        i = q[t]
        ug = np.int64(i) + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            _visit(col[k], ug, lo, hi, rowptr, parent, qs, qm, ql, cnt, small, large, prop,
                   cap)


@cuda.jit
def _td_warp(q, nq, lo, hi, rowptr, col, parent, qs, qm, ql, cnt, small, large, prop, cap):
    t = cuda.grid(1)
    w = t // WARP
    if w < nq:
        i = q[w]
        ug = np.int64(i) + lo
        for k in range(rowptr[i] + (t % WARP), rowptr[i + 1], WARP):
            _visit(col[k], ug, lo, hi, rowptr, parent, qs, qm, ql, cnt, small, large, prop,
                   cap)


@cuda.jit
def _td_block(q, nq, lo, hi, rowptr, col, parent, qs, qm, ql, cnt, small, large, prop, cap):
    b = cuda.blockIdx.x
    if b < nq:
        i = q[b]
        ug = np.int64(i) + lo
        for k in range(rowptr[i] + cuda.threadIdx.x, rowptr[i + 1], cuda.blockDim.x):
            _visit(col[k], ug, lo, hi, rowptr, parent, qs, qm, ql, cnt, small, large, prop,
                   cap)


@cuda.jit
def _td_apply(recv, n, lo, rowptr, parent, qs, qm, ql, cnt, small, large):
    """Proposals from other ranks: the first for a still unvisited vertex wins."""
    t = cuda.grid(1)
    if t < n:
        j = recv[2 * t] - lo
        ug = np.int64(recv[2 * t + 1])
        if parent[j] == NEG1:
            if cuda.atomic.cas(parent, j, NEG1, ug) == NEG1:
                _claimed(j, rowptr[j + 1] - rowptr[j], qs, qm, ql, cnt, small, large)


@cuda.jit
def _seed(j, root, rowptr, parent, qs, qm, ql, cnt, small, large):
    if cuda.grid(1) == 0:
        parent[j] = root
        _claimed(j, rowptr[j + 1] - rowptr[j], qs, qm, ql, cnt, small, large)


@cuda.jit
def _bu(nlocal, rowptr, col, parent, front, nxt, nwords, cnt):
    i = cuda.grid(1)
    found = False
    deg = 0
    if i < nlocal:
        if parent[i] == NEG1:
            a = rowptr[i]
            b = rowptr[i + 1]
            for k in range(a, b):
                u = col[k]
                if (front[u >> 5] >> np.uint32(u & 31)) & ONE32:
                    parent[i] = u
                    found = True
                    deg = b - a
                    break
    # Every lane of the warp gets here (no early return above).
    warp_bits(found, nxt, i >> 5, cuda.laneid, nwords)
    warp_count(cnt, C_AWAKE, 1 if found else 0)
    warp_count(cnt, C_EDGES, deg)


@cuda.jit
def _queue_to_bits(q, nq, bits):
    t = cuda.grid(1)
    if t < nq:
        j = q[t]
        cuda.atomic.or_(bits, j >> 5, ONE32 << np.uint32(j & 31))


@cuda.jit
def _bits_to_queue(bits, nlocal, rowptr, qs, qm, ql, cnt, small, large):
    j = cuda.grid(1)
    if j < nlocal:
        if (bits[j >> 5] >> np.uint32(j & 31)) & ONE32:
            _claimed(j, rowptr[j + 1] - rowptr[j], qs, qm, ql, cnt, small, large)


# Every kernel of this module, for the PTX tests: name -> (kernel, argument types).
def kernel_signatures():
    from numba import types as t
    i32a, i64a, u32a = t.int32[::1], t.int64[::1], t.uint32[::1]
    td = (i32a, t.int64, t.int64, t.int64, i64a, i32a, i64a, i32a, i32a, i32a, i64a, t.int64,
          t.int64, i32a, t.int64)
    return {
        "_td_thread": (_td_thread, td), "_td_warp": (_td_warp, td), "_td_block": (_td_block, td),
        "_td_apply": (_td_apply, (i32a, t.int64, t.int64, i64a, i64a, i32a, i32a, i32a, i64a,
                                   t.int64, t.int64)),
        "_seed": (_seed, (t.int64, t.int64, i64a, i64a, i32a, i32a, i32a, i64a, t.int64, t.int64)),
        "_bu": (_bu, (t.int64, i64a, i32a, i64a, u32a, u32a, t.int64, i64a)),
        "_queue_to_bits": (_queue_to_bits, (i32a, t.int64, u32a)),
        "_bits_to_queue": (_bits_to_queue, (u32a, t.int64, i64a, i32a, i32a, i32a, i64a, t.int64,
                                             t.int64)),
    }


# ---------------------------------------------------------------- host side


class GPUBFSWorkspace:
    """Device buffers reused by every search on one graph (allocated once, untimed)."""

    def __init__(self, graph, comm, small=SMALL, large=LARGE, alpha=ALPHA, beta=BETA,
                 cuda_aware=False):
        part = graph.part
        self.comm, self.graph, self.part = comm, graph, part
        # Exchanges hand device buffers to MPI (kernels/gpu_mpi.py): only with several ranks.
        self.cuda_aware = bool(cuda_aware) and part.nranks > 1
        # The degree bins' bounds (tests lower them to reach every bin on a tiny graph).
        self.small, self.large = int(small), int(large)
        # The direction switch's parameters (kernels/bfs.py); tests force one direction.
        self.alpha, self.beta = alpha, beta
        self.steps = []   # the last search's levels, "td" or "bu" (cheap; for tests and tuning)
        self.g = on_device(graph)
        n = max(part.nlocal, 1)
        self.parent = cuda.device_array(n, dtype=np.int64)
        self.cur = [cuda.device_array(n, dtype=np.int32) for _ in range(3)]
        self.nxt = [cuda.device_array(n, dtype=np.int32) for _ in range(3)]
        self.zeros = np.zeros(NCNT, dtype=np.int64)
        self.cnt = cuda.to_device(self.zeros)
        self.h_cnt = host_buffer(NCNT, np.int64)
        self.nwords = (part.nlocal + 31) // 32
        gwords = (part.nglobal + 31) // 32
        self.next_bits = cuda.device_array(max(self.nwords, 1), dtype=np.uint32)
        self.front_bits = cuda.device_array(max(gwords, 1), dtype=np.uint32)
        offs = part.offsets
        self.word_counts = ((offs[1:] - offs[:-1] + 31) // 32).astype(np.int64)
        self.word_displs = (offs[:-1] // 32).astype(np.int64)
        self.h_next = host_buffer(max(self.nwords, 1), np.uint32)
        self.h_front = host_buffer(max(gwords, 1), np.uint32)
        self.dx = None
        if self.cuda_aware:
            # The next level's bitmap is a global one, this rank's words written in place at
            # its displacement, so that one in-place Allgatherv on the device completes it.
            self.dx = DeviceExchange(part, comm, 2)
            self.word0 = int(offs[part.rank] // 32)
            self.next_global = cuda.device_array(max(gwords, 1), dtype=np.uint32)
            self._slice_next()
        # Proposals (multi-rank top-down): sized on demand by the frontier's edge count.
        self.cap = 0
        self.limit = max(self.g.nentries, 1024)   # a frontier has at most the rank's entries
        self.prop = cuda.device_array(2, dtype=np.int32)
        self.recv = cuda.device_array(2, dtype=np.int32)
        self.sendbuf = np.empty(2, dtype=np.int32)
        self.recvbuf = np.empty(2, dtype=np.int32)
        self.rcounts = np.zeros(part.nranks, dtype=np.int64)
        self.total_entries = int(comm.allreduce(int(graph.rowptr[-1]), op=MPI.SUM))
        self._host_parent = np.empty(part.nlocal, dtype=np.int64)
        self._compile_all()

    def _compile_all(self):
        """Compile every kernel now (empty launches): a search JIT-compiles a kernel on its
        first launch, and the driver's one-rank warm-up on a tiny graph reaches neither the
        exchange path nor, maybe, the block-per-vertex bin; that must not happen in a timed
        search."""
        lo, hi, rowptr, col, parent = self.part.lo, self.part.hi, self.g.rowptr, self.g.col, \
            self.parent
        sl = (self.small, self.large)
        args = (lo, hi, rowptr, col, parent, self.nxt[0], self.nxt[1], self.nxt[2], self.cnt,
                *sl, self.prop, self.cap)
        for k in (_td_thread, _td_warp, _td_block):
            k[1, TPB](self.cur[0], 0, *args)
        _td_apply[1, TPB](self.recv, 0, lo, rowptr, parent, self.nxt[0], self.nxt[1],
                          self.nxt[2], self.cnt, *sl)
        _bu[1, TPB](0, rowptr, col, parent, self.front_bits, self.next_bits, 0, self.cnt)
        _queue_to_bits[1, TPB](self.cur[0], 0, self.next_bits)
        _bits_to_queue[1, TPB](self.next_bits, 0, rowptr, self.cur[0], self.cur[1],
                               self.cur[2], self.cnt, *sl)
        self._zero()
        if self.part.nlocal:
            _seed[1, 1](0, lo, rowptr, parent, self.cur[0], self.cur[1], self.cur[2], self.cnt,
                        *sl)
        fill(fill_i64, self.parent, NEG1)
        fill(fill_u32, self.next_bits, np.uint32(0))
        group_records(np.zeros(2, np.int32), 0, 2, self.part.nranks, self.part.scale,
                      self.part.shift, self.rcounts, self.sendbuf)
        if self.dx is not None:
            self.dx.compile(self.prop)
        cuda.synchronize()

    def _slice_next(self):
        """next_bits: this rank's words of the global next bitmap (CUDA-aware MPI only)."""
        if self.nwords:
            self.next_bits = self.next_global[self.word0:self.word0 + self.nwords]
        else:   # no vertices here: a word nobody reads, so that launches have an argument
            self.next_bits = cuda.device_array(1, dtype=np.uint32)

    def reset(self):
        """Clear the output before the timer starts (the spec does not time this)."""
        fill(fill_i64, self.parent, NEG1)
        cuda.synchronize()

    def parent_host(self):
        """The last search's parent array on the host (after the timed region)."""
        if self.part.nlocal:
            self.parent[:self.part.nlocal].copy_to_host(self._host_parent)
        return self._host_parent

    def _counters(self):
        self.cnt.copy_to_host(self.h_cnt)
        return self.h_cnt

    def _zero(self):
        self.cnt.copy_to_device(self.zeros)

    def _reserve(self, edges):
        """Room for one proposal per frontier edge (the most a top-down step can make)."""
        if edges > self.cap:
            self.cap = max(int(edges), min(max(2 * self.cap, 1024), self.limit))
            self.prop = cuda.device_array(2 * self.cap, dtype=np.int32)

    def _exchange(self, nprop):
        """Proposals to their owners; returns how many arrived here."""
        if self.dx is not None:
            return self.dx.exchange(self, self.prop, nprop, self.limit)
        return host_staged_exchange(self, self.prop, nprop, 2, "GPU BFS")


def bfs(ws, root):
    """Collective search from global vertex `root`; the parents stay on the device
    (ws.parent_host() copies them back). Call ws.reset() before (outside the timed region)."""
    g, part, comm = ws.g, ws.part, ws.comm
    lo, hi, nlocal, nranks = part.lo, part.hi, part.nlocal, part.nranks
    rowptr, col, parent = g.rowptr, g.col, ws.parent
    sl = (ws.small, ws.large)
    ws.steps = steps = []
    ws._zero()
    if lo <= root < hi:
        _seed[1, 1](root - lo, root, rowptr, parent, ws.cur[0], ws.cur[1], ws.cur[2], ws.cnt,
                    *sl)
    c = ws._counters()
    nq = [int(c[C_SMALL]), int(c[C_MID]), int(c[C_LARGE])]
    local_edges = int(c[C_EDGES])
    stats = np.array([sum(nq), local_edges], dtype=np.int64)
    glob = np.empty(2, dtype=np.int64)
    comm.Allreduce(stats, glob, op=MPI.SUM)
    nfront, scout = int(glob[0]), int(glob[1])
    unexplored = ws.total_entries - scout
    top_down = True
    while nfront > 0:
        if top_down and scout > unexplored / ws.alpha:
            # Switch to bottom-up: the frontier becomes a bitmap.
            fill(fill_u32, ws.next_bits, np.uint32(0))
            for b in range(3):
                if nq[b]:
                    _queue_to_bits[blocks(nq[b]), TPB](ws.cur[b], nq[b], ws.next_bits)
            top_down = False
        if top_down:
            ws._zero()
            if nranks > 1:
                ws._reserve(local_edges)
            steps.append("td" + "smb"[0:1] * (nq[0] > 0) + "m" * (nq[1] > 0) + "b" * (nq[2] > 0))
            args = (lo, hi, rowptr, col, parent, ws.nxt[0], ws.nxt[1], ws.nxt[2], ws.cnt, *sl,
                    ws.prop, ws.cap)
            if nq[0]:
                _td_thread[blocks(nq[0]), TPB](ws.cur[0], nq[0], *args)
            if nq[1]:
                _td_warp[blocks(nq[1] * WARP), TPB](ws.cur[1], nq[1], *args)
            if nq[2]:
                _td_block[nq[2], TPB](ws.cur[2], nq[2], *args)
            if nranks > 1:
                m = ws._exchange(int(ws._counters()[C_PROP]))
                if m:
                    _td_apply[blocks(m), TPB](ws.recv, m, lo, rowptr, parent, ws.nxt[0],
                                              ws.nxt[1], ws.nxt[2], ws.cnt, *sl)
            c = ws._counters()
            ws.cur, ws.nxt = ws.nxt, ws.cur
            nq = [int(c[C_SMALL]), int(c[C_MID]), int(c[C_LARGE])]
            nn, nedges = sum(nq), int(c[C_EDGES])
        else:
            steps.append("bu")
            if nranks == 1:
                ws.front_bits, ws.next_bits = ws.next_bits, ws.front_bits
            elif ws.dx is not None:
                allgather_words_in_place(comm, ws.next_global, ws.word_counts, ws.word_displs)
                ws.front_bits, ws.next_global = ws.next_global, ws.front_bits
                ws._slice_next()
            else:
                if ws.nwords:
                    ws.next_bits[:ws.nwords].copy_to_host(ws.h_next)
                comm.Allgatherv([ws.h_next[:ws.nwords], MPI.UINT32_T],
                                [ws.h_front, (ws.word_counts, ws.word_displs), MPI.UINT32_T])
                ws.front_bits.copy_to_device(ws.h_front)
            ws._zero()
            if needs_clear:
                fill(fill_u32, ws.next_bits, np.uint32(0))
            _bu[blocks(ws.nwords * WARP), TPB](nlocal, rowptr, col, parent, ws.front_bits,
                                               ws.next_bits, ws.nwords, ws.cnt)
            c = ws._counters()
            nn, nedges = int(c[C_AWAKE]), int(c[C_EDGES])
        local_edges = nedges
        stats[0], stats[1] = nn, nedges
        comm.Allreduce(stats, glob, op=MPI.SUM)
        prev = nfront
        nfront, scout = int(glob[0]), int(glob[1])
        unexplored -= scout
        if not top_down and nfront < prev and nfront < part.nglobal / ws.beta:
            # Back to top-down: the frontier becomes queues again.
            ws._zero()
            if nlocal:
                _bits_to_queue[blocks(nlocal), TPB](ws.next_bits, nlocal, rowptr, ws.cur[0],
                                                    ws.cur[1], ws.cur[2], ws.cnt, *sl)
            c = ws._counters()
            nq = [int(c[C_SMALL]), int(c[C_MID]), int(c[C_LARGE])]
            local_edges = int(c[C_EDGES])
            top_down = True


# --- memory estimate (graph500/memory.py's gpu_rank_bytes) ---

def gpu_bfs_workspace_bytes(scale, edgefactor, nranks, cuda_aware=False):
    """Device bytes of one rank's GPUBFSWorkspace at its largest: parent (8 bytes per local
    vertex), the current and next frontier queues (3 + 3 int32 per local vertex), the local
    and global bitmaps; with several ranks the proposal buffer and the received proposals,
    sized by a top-down frontier's edges (at most the unexplored edges / ALPHA, as on the CPU,
    doubled by the buffers' growth), and with CUDA-aware MPI the grouped send buffer and a
    second global bitmap."""
    from .construct import expected_entries, max_block_vertices
    n = max_block_vertices(scale, nranks)
    bitmap = 4 * max(((1 << scale) + 31) // 32, 1)
    total = 8 * n + 24 * n + n // 8 + bitmap
    if nranks > 1:
        entries = expected_entries(scale, edgefactor, nranks)
        cap = min(max(2 * entries // ALPHA, 1024), max(entries, 1024))
        total += 2 * 4 * 2 * cap
        if cuda_aware:
            total += exchange_bytes(nranks, 2, cap) + bitmap
    return total
