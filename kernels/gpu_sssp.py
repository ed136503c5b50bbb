"""Kernel 3 on a GPU: distributed SSSP by delta-stepping in its near-far form, with Numba CUDA.

Output as kernels/sssp.py: per local vertex dist (float32) and parent (global id); every
relaxation computes float32(d[u] + w) in float32, exactly the sum the validator recomputes.

State: one 64-bit word per local vertex, the float32 bits of its distance above the parent's
global id (SCALE <= 31): a relaxation lowers both with one compare-and-swap, and only when the
distance is strictly smaller (a CAS loop, not atomicMin, which would also swap parents on
ties). So a vertex's final (distance, parent) is written once, after the parent reached the
distance it was read with; parents therefore form a tree (a cycle would need each vertex's
final write to come after its parent's), and each parent edge gives its child's distance
bit for bit. Distances are the least fixed point of float32(d(u) + w), as on the CPU, so they
agree exactly with the CPU kernel's for any schedule, rank count and thread interleaving.

Schedule (Davidson et al.'s near-far, the bucket being [.., hi) with hi = (b + 1) * delta):
  near queue - one warp per queued vertex relaxes its whole row (lanes stride the entries); a
               target lowered below hi joins the next near queue (once per iteration: a stamp
               per vertex), one lowered to hi or beyond is flagged far; repeat while any rank's
               near queue is non-empty (one Allreduce per iteration);
  next bucket - the smallest far distance over all ranks (one scan, one Allreduce MIN) gives
               the next bucket; one scan moves the far vertices below its hi into the queue.
Relaxations to remote vertices become (vertex, distance bits, parent) records, exchanged
through the host with one Alltoallv per iteration and applied by one kernel, as on the CPU
(with a CUDA-aware MPI library, device to device: kernels/gpu_mpi.py).
Light and heavy edges are not split (near-far relaxes whole rows): fewer, larger launches,
which is what a GPU needs, at the price of some relaxations a light/heavy split would skip.
"""
import math

import numpy as np
from mpi4py import MPI
from numba import cuda

from .gpu_graph import group_records, host_buffer, host_staged_exchange, on_device
from .gpu_mpi import DeviceExchange, exchange_bytes
from .gpu_warp import TPB, WARP, agg_inc, bits_f32, blocks, f32_bits, fill, fill_i32, \
    fill_u64

# Bucket width on the GPU when none is given. Not tuned on a GPU yet (bench/device_gpu.sh
# takes DELTA): wider than the CPU's 0.02, since a GPU wants large iterations.
DEFAULT_DELTA = 0.1

C_NEXT, C_EDGES, C_REC, C_MIN = 0, 1, 2, 3
NCNT = 8
INF_BITS = np.int64(0x7F800000)
NONE32 = np.uint64(0xFFFFFFFF)
INIT = np.uint64((0x7F800000 << 32) | 0xFFFFFFFF)
SH32 = np.uint64(32)


@cuda.jit(device=True, inline=True)
def _dist_of(word):
    return bits_f32(np.int32(word >> SH32))


@cuda.jit(device=True, inline=True)
def _pack(nd, pg):
    return (np.uint64(f32_bits(nd)) << SH32) | (np.uint64(pg) & NONE32)


@cuda.jit(device=True, inline=True)
def _lower(state, j, nd, pg):
    """Set vertex j to (nd, parent pg) if nd is strictly below its distance; True if so."""
    new = _pack(nd, pg)
    old = state[j]
    while nd < _dist_of(old):
        got = cuda.atomic.cas(state, j, old, new)
        if got == old:
            return True
        old = got
    return False


@cuda.jit(device=True, inline=True)
def _lowered(j, nd, bound, it, rowptr, stamp, far, q, cnt):
    if nd < bound:
        s = stamp[j]
        if s != it:
            if cuda.atomic.cas(stamp, j, s, it) == s:
                q[agg_inc(cnt, C_NEXT)] = j
                cuda.atomic.add(cnt, C_EDGES, rowptr[j + 1] - rowptr[j])
    else:
        far[j] = 1


@cuda.jit
def _seed(j, root, it, rowptr, state, stamp, q, cnt):
    if cuda.grid(1) == 0:
        state[j] = _pack(np.float32(0.0), root)
        stamp[j] = it
        q[0] = j
        cnt[C_NEXT] = 1
        cnt[C_EDGES] = rowptr[j + 1] - rowptr[j]


@cuda.jit
def _relax(q, nq, it, bound, lo, hi, rowptr, col, weight, state, stamp, far, nxt, cnt,
           rec, cap):
    t = cuda.grid(1)
    w = t // WARP
    if w < nq:
        lane = t % WARP
        u = q[w]
        if lane == 0:
            far[u] = 0   # relaxed now with a distance below the bound: no later visit needed
        du = _dist_of(state[u])
        ug = np.int64(u) + lo
        for k in range(rowptr[u] + lane, rowptr[u + 1], WARP):
            v = col[k]
            nd = du + weight[k]
            if v >= lo and v < hi:
                j = v - lo
                if _lower(state, j, nd, ug):
                    _lowered(j, nd, bound, it, rowptr, stamp, far, nxt, cnt)
            else:
                p = agg_inc(cnt, C_REC)
                if p < cap:
                    rec[3 * p] = v
                    rec[3 * p + 1] = f32_bits(nd)
                    rec[3 * p + 2] = ug


@cuda.jit
def _apply(recv, n, it, bound, lo, rowptr, state, stamp, far, nxt, cnt):
    t = cuda.grid(1)
    if t < n:
        j = recv[3 * t] - lo
        nd = bits_f32(recv[3 * t + 1])
        pg = np.int64(recv[3 * t + 2])
        if _lower(state, j, nd, pg):
            _lowered(j, nd, bound, it, rowptr, stamp, far, nxt, cnt)


@cuda.jit
def _far_min(nlocal, state, far, cnt):
    j = cuda.grid(1)
    if j < nlocal:
        if far[j]:
            cuda.atomic.min(cnt, C_MIN, np.int64(state[j] >> SH32))


@cuda.jit
def _far_take(nlocal, it, bound, rowptr, state, stamp, far, q, cnt):
    j = cuda.grid(1)
    if j < nlocal:
        if far[j]:
            if _dist_of(state[j]) < bound:
                far[j] = 0
                stamp[j] = it
                q[agg_inc(cnt, C_NEXT)] = j
                cuda.atomic.add(cnt, C_EDGES, rowptr[j + 1] - rowptr[j])


def kernel_signatures():
    """Every kernel of this module with argument types, for the PTX tests."""
    from numba import types as t
    i32a, i64a, u64a, f32a, u8a = (t.int32[::1], t.int64[::1], t.uint64[::1], t.float32[::1],
                                   t.uint8[::1])
    return {
        "_seed": (_seed, (t.int64, t.int64, t.int32, i64a, u64a, i32a, i32a, i64a)),
        "_relax": (_relax, (i32a, t.int64, t.int32, t.float64, t.int64, t.int64, i64a, i32a,
                            f32a, u64a, i32a, u8a, i32a, i64a, i32a, t.int64)),
        "_apply": (_apply, (i32a, t.int64, t.int32, t.float64, t.int64, i64a, u64a, i32a, u8a,
                            i32a, i64a)),
        "_far_min": (_far_min, (t.int64, u64a, u8a, i64a)),
        "_far_take": (_far_take, (t.int64, t.int32, t.float64, i64a, u64a, i32a, u8a, i32a,
                                  i64a)),
    }


# ---------------------------------------------------------------- host side


class GPUSSSPWorkspace:
    """Device buffers reused by every search on one graph (allocated once, untimed)."""

    def __init__(self, graph, comm, delta=DEFAULT_DELTA, cuda_aware=False):
        if graph.weight is None:
            raise ValueError("SSSP needs edge weights: build the graph with weights")
        if not delta > 0:
            raise ValueError("delta must be positive")
        part = graph.part
        self.comm, self.graph, self.part, self.delta = comm, graph, part, float(delta)
        self.g = on_device(graph)
        n = max(part.nlocal, 1)
        self.state = cuda.device_array(n, dtype=np.uint64)
        self.stamp = cuda.device_array(n, dtype=np.int32)
        self.far = cuda.device_array(n, dtype=np.uint8)
        self.q = cuda.device_array(n, dtype=np.int32)
        self.nxt = cuda.device_array(n, dtype=np.int32)
        self.zeros = np.zeros(NCNT, dtype=np.int64)
        self.cnt = cuda.to_device(self.zeros)
        self.min_init = self.zeros.copy()
        self.min_init[C_MIN] = INF_BITS
        self.h_cnt = host_buffer(NCNT, np.int64)
        self.cap = 0
        self.limit = max(self.g.nentries, 1024)   # an iteration relaxes each entry at most once
        self.rec = cuda.device_array(3, dtype=np.int32)
        self.recv = cuda.device_array(3, dtype=np.int32)
        self.sendbuf = np.empty(3, dtype=np.int32)
        self.recvbuf = np.empty(3, dtype=np.int32)
        self.rcounts = np.zeros(part.nranks, dtype=np.int64)
        self.vote = np.zeros(1, dtype=np.int64)
        self.agreed = np.zeros(1, dtype=np.int64)
        self._host_state = np.empty(part.nlocal, dtype=np.uint64)
        # Device buffers straight to MPI (kernels/gpu_mpi.py): only with several ranks.
        self.cuda_aware = bool(cuda_aware) and part.nranks > 1
        self.dx = DeviceExchange(part, comm, 3) if self.cuda_aware else None
        self._compile_all()

    def _compile_all(self):
        """Compile every kernel now with empty launches (see GPUBFSWorkspace._compile_all)."""
        g, lo, hi, it, b = self.g, self.part.lo, self.part.hi, np.int32(0), self.delta
        _relax[1, TPB](self.q, 0, it, b, lo, hi, g.rowptr, g.col, g.weight, self.state,
                       self.stamp, self.far, self.nxt, self.cnt, self.rec, self.cap)
        _apply[1, TPB](self.recv, 0, it, b, lo, g.rowptr, self.state, self.stamp, self.far,
                       self.nxt, self.cnt)
        _far_min[1, TPB](0, self.state, self.far, self.cnt)
        _far_take[1, TPB](0, it, b, g.rowptr, self.state, self.stamp, self.far, self.q,
                          self.cnt)
        if self.part.nlocal:
            _seed[1, 1](0, lo, it, g.rowptr, self.state, self.stamp, self.q, self.cnt)
        group_records(np.zeros(3, np.int32), 0, 3, self.part.nranks, self.part.scale,
                      self.part.shift, self.rcounts, self.sendbuf)
        if self.dx is not None:
            self.dx.compile(self.rec)
        self.reset()

    def reset(self):
        """Clear the state before the timer starts (the spec does not time this)."""
        fill(fill_u64, self.state, INIT)
        fill(fill_i32, self.stamp, np.int32(-1))
        self.far.copy_to_device(np.zeros(self.far.size, dtype=np.uint8))
        cuda.synchronize()

    def result_host(self):
        """(dist float32, parent int64) of the last search on the host (after the timer)."""
        if self.part.nlocal:
            self.state[:self.part.nlocal].copy_to_host(self._host_state)
        s = self._host_state
        dist = (s >> np.uint64(32)).astype(np.uint32).view(np.float32)
        parent = (s & NONE32).astype(np.int64)
        parent[parent == int(NONE32)] = -1
        return dist, parent

    def _counters(self):
        self.cnt.copy_to_host(self.h_cnt)
        return self.h_cnt

    def _reserve(self, edges):
        if edges > self.cap:
            self.cap = max(int(edges), min(max(2 * self.cap, 1024), self.limit))
            self.rec = cuda.device_array(3 * self.cap, dtype=np.int32)

    def _exchange(self, nrec):
        if self.dx is not None:
            return self.dx.exchange(self, self.rec, nrec, self.limit)
        return host_staged_exchange(self, self.rec, nrec, 3, "GPU SSSP")

    def _total(self, x, op=MPI.SUM):
        if self.part.nranks == 1:
            return int(x)
        self.vote[0] = x
        self.comm.Allreduce(self.vote, self.agreed, op=op)
        return int(self.agreed[0])


def sssp(ws, root):
    """Collective search from global vertex `root`; the result stays on the device
    (ws.result_host() copies it back). Call ws.reset() before (outside the timed region)."""
    g, part = ws.g, ws.part
    lo, hi, nlocal, nranks = part.lo, part.hi, part.nlocal, part.nranks
    rowptr, delta = g.rowptr, ws.delta
    it = 0
    ws.cnt.copy_to_device(ws.zeros)
    if lo <= root < hi:
        _seed[1, 1](root - lo, root, np.int32(it), rowptr, ws.state, ws.stamp, ws.q, ws.cnt)
    c = ws._counters()
    nq, qedges = int(c[C_NEXT]), int(c[C_EDGES])
    bound = delta
    while True:
        while ws._total(nq) > 0:
            it += 1
            ws.cnt.copy_to_device(ws.zeros)
            if nranks > 1:
                ws._reserve(qedges)
            if nq:
                _relax[blocks(nq * WARP), TPB](ws.q, nq, np.int32(it), bound, lo, hi, rowptr,
                                                g.col, g.weight, ws.state, ws.stamp, ws.far,
                                                ws.nxt, ws.cnt, ws.rec, ws.cap)
            if nranks > 1:
                m = ws._exchange(int(ws._counters()[C_REC]))
                if m:
                    _apply[blocks(m), TPB](ws.recv, m, np.int32(it), bound, lo, rowptr,
                                           ws.state, ws.stamp, ws.far, ws.nxt, ws.cnt)
            c = ws._counters()
            nq, qedges = int(c[C_NEXT]), int(c[C_EDGES])
            ws.q, ws.nxt = ws.nxt, ws.q
        # The near queue is empty everywhere: the next bucket holds the smallest far distance.
        ws.cnt.copy_to_device(ws.min_init)
        if nlocal:
            _far_min[blocks(nlocal), TPB](nlocal, ws.state, ws.far, ws.cnt)
        low = ws._total(int(ws._counters()[C_MIN]), MPI.MIN)
        if low >= INF_BITS:
            return
        dmin = float(np.int32(low).view(np.float32))
        bound = (math.floor(dmin / delta) + 1) * delta
        if not bound > dmin:      # rounding: the bucket must hold the smallest far vertex
            bound = float(np.nextafter(dmin, np.inf))
        it += 1
        ws.cnt.copy_to_device(ws.zeros)
        if nlocal:
            _far_take[blocks(nlocal), TPB](nlocal, np.int32(it), bound, rowptr, ws.state,
                                           ws.stamp, ws.far, ws.q, ws.cnt)
        c = ws._counters()
        nq, qedges = int(c[C_NEXT]), int(c[C_EDGES])


# --- memory estimate (graph500/memory.py's gpu_rank_bytes) ---

def gpu_sssp_workspace_bytes(scale, edgefactor, nranks, cuda_aware=False):
    """Device bytes of one rank's GPUSSSPWorkspace at its largest: the packed state (8 bytes
    per local vertex), stamp, far flag and two queues (4 + 1 + 4 + 4); with several ranks the
    record buffer and the received records (3 int32 each), sized for the worst iteration,
    which relaxes every entry of the rank (near-far buckets on a Kronecker graph hold large
    shares of it), and with CUDA-aware MPI the grouped send buffer."""
    from .construct import expected_entries, max_block_vertices
    n = max_block_vertices(scale, nranks)
    total = 21 * n
    if nranks > 1:
        cap = max(expected_entries(scale, edgefactor, nranks), 1024)
        total += 2 * 3 * 4 * cap
        if cuda_aware:
            total += exchange_bytes(nranks, 3, cap)
    return total
