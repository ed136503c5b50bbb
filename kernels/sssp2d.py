"""Kernel 3 on the 2-D layout: delta-stepping over an R x C grid of ranks.

Ownership is the 1-D one (grid.py): sssp2d(ws, root) returns (dist float32[nlocal], parent
int64[nlocal]) for the rank's 1-D block, as sssp.py's sssp(ws, root) does. The graph is the
rank's block of the adjacency matrix (construct2d.py): columns v of column strip j, entries
u of row strip i, each column sorted by weight (so its light entries are a prefix).

A relaxation round is the 2-D BFS's top-down step with weights:
  expand - the owners' (vertex, distance) pairs of column strip j (the bucket's vertices in
           a light round, the settled set in the heavy round) are gathered along the grid
           column (Allgatherv, one int64 word each: index in block << 32 | float32 bits);
  relax  - each rank relaxes its block's entries of those columns (the light prefix, or
           the heavy rest): nd = float32(d(v) + w), exactly the sum sssp.py computes and the
           validators recompute, so distances are the same bit for bit;
  fold   - the proposals (u, nd, v) travel along the grid row to u's owner (Alltoallv, two
           int64 words each), which keeps the smaller ones and re-buckets what improved.
A bounded record queue cuts a large expansion into several row exchanges (the grid row
agrees on "more?" inside the count exchange), so buffers stay small whatever the SCALE.

Distances: as sssp.py argues, the schedule only orders the work of a label-correcting
method that stops when no edge can improve any distance: the least fixed point of the
float32 left-to-right path sums, the same for any P, thread count and order of records.

Parents, deterministic: a proposal is strict when d(v) < nd (the parent is strictly nearer
the root), a tie when float32(d(v) + w) == d(v) (a zero weight, or one below half an ulp).
The owner takes a proposal that lowers the distance, and on an equal distance switches to a
strict proposal from a smaller parent id (or replacing a tie parent). Every vertex relaxes
its entries with its final distance at least once, and no strict proposal at a vertex's
final distance is filtered out (the ghost cache below passes equal values), so a vertex with
any strict candidate gets the smallest such parent id: the same for any P and thread
count. Only a vertex whose every candidate is a tie keeps the tie parent that first gave it
its distance; switching between ties could close a cycle (u and v at equal distance naming
each other), switching only to strict parents cannot (a chain of strict parents strictly
decreases in distance; tie parents are set on strict improvements only, as in sssp.py).

State, no array with N entries: per local vertex dist, parent, bucket and flags (N/P); per
column-strip vertex the heavy split (N/C int64); the bucket bitmaps (N/P bits per slot); a
ghost cache over row strip i (the smallest distance this rank has sent for each u, direct
mapped and tagged when the strip is larger than GHOST_SLOTS): a record that cannot beat one
already sent is never sent, which removes most of the row traffic.

Heavy phases always push here: a pull (sssp.py's) replicates the settled distances of all
N vertices on every rank, which is exactly the N-sized gather this layout exists to avoid;
the 2-D equivalent would gather N/C distances along the column per heavy phase, more bytes
than the settled set's (vertex, distance) words whenever the set is under N/(2C) vertices,
which it is for all but the first buckets.
"""
import numpy as np
from mpi4py import MPI
from numba import njit

from .bitmap import set_bit
from .buckets import NO_BUCKET, bucket_of, drain_bucket, first_bucket, move_to_bucket
from .exchange import alltoallv_known, mpi_type
from .partition import owner
from .sssp import DEFAULT_DELTA as DEFAULT_DELTA_1D
from .sssp import split_by_weight

# Bucket width, measured with bench/sssp2d_bench.py at 4 ranks (2 x 2 grid, one thread each,
# oversubscribing this 2-core machine while others worked), 3 roots, 2-D TEPS relative to the
# 1-D kernel at its default (0.02) in the same run:
#   SCALE 16: delta 0.02 x0.51, 0.05 x0.94, 0.1 x1.41, 0.2 x1.89, 0.4 x2.44
#   SCALE 17: delta 0.1 x1.40, 0.25 x1.80, 0.5 x2.00, 1.0 x1.98
# Every bucket costs rounds of five collectives, so wider buckets win until the light phases
# re-relax too much (a plateau from 0.5 to 1); bytes per search grow with delta (SCALE 17:
# 2.4 MB at 0.1, 5.6 MB at 0.5 per rank), so on a fast network a smaller delta may pay.
# The 1-D kernel's default is much smaller (DEFAULT_DELTA_1D): it relaxes a refilled bucket
# locally without a collective, which the 2-D layout cannot.
DEFAULT_DELTA = 0.5

# Proposals queued between row exchanges (32 bytes each: queue and send/receive words).
CAPACITY = 1 << 20

# Slots of the row-strip ghost cache at most (float32, plus an int64 tag when the strip is
# larger).
GHOST_SLOTS = 1 << 22


_LOW32 = np.int64(0xFFFFFFFF)
_CLEAN, _MOVE = 0, 1


# ---------------------------------------------------------------- buckets (owner side)

@njit(cache=True, nogil=True)
def _clear(dist, parent, ptie, bits, count, bkt, mark, gval, gtag, in_settled):
    dist[:] = np.inf
    parent[:] = -1
    ptie[:] = 0
    bits[:, :] = 0
    count[:] = 0
    bkt[:] = -1
    mark[:] = _CLEAN
    gval[:] = np.inf
    gtag[:] = -1
    in_settled[:] = 0


@njit(cache=True, nogil=True)
def _rebucket(touched, nt, mark, dist, inv_delta, cur, nslots, bits, count, bkt):
    """Place the vertices improved in the last apply into the buckets of their distances
    (clamped into the window [cur, cur + nslots): only a change of schedule)."""
    last = cur + nslots - 1
    for t in range(nt):
        v = touched[t]
        move_to_bucket(v, bucket_of(dist[v], inv_delta, cur, last), nslots, bits, count, bkt)
        mark[v] = _CLEAN


@njit(cache=True, nogil=True, inline="always")
def _word(v, dist_bits):
    """Vertex v and its distance as one gathered word: index in block << 32 | float32 bits."""
    return (np.int64(v) << 32) | np.int64(dist_bits[v])


@njit(cache=True, nogil=True)
def _extract(cur, nslots, bits, count, bkt, dist_bits, frontier, settled, nsettled,
             in_settled):
    """Empty bucket cur (buckets.py: the cyclic bucket array): its vertices, in order,
    packed as _word()s for the column gather; all join the settled set (once each).
    Returns (frontier size, settled size)."""
    nf, nsettled = drain_bucket(cur, nslots, bits, count, bkt, frontier, settled, nsettled,
                                in_settled)
    for t in range(nf):
        frontier[t] = _word(frontier[t], dist_bits)
    return nf, nsettled


@njit(cache=True, nogil=True)
def _pack_settled(settled, nsettled, dist_bits, in_settled, out):
    """The settled set with its (now final for this bucket) distances, as _extract packs."""
    for t in range(nsettled):
        v = settled[t]
        out[t] = _word(v, dist_bits)
        in_settled[v] = 0


# ---------------------------------------------------------------- expand, relax, fold

@njit(cache=True, nogil=True)
def _unpack_frontier(fq, counts, col_base, col_lo, fcol, fglob, fdist_bits):
    """Gathered words of the column strip's owners (grid row g's block is segment g) as
    (padded column index, global id, distance bits)."""
    t = 0
    for g in range(len(counts)):
        for _ in range(counts[g]):
            w = fq[t]
            x = w >> 32
            fcol[t] = col_base[g] + x
            fglob[t] = col_lo[g] + x
            fdist_bits[t] = np.uint32(w & _LOW32)
            t += 1
    return t


@njit(cache=True, nogil=True)
def _relax(fcol, fglob, fdist, pos, nf, light, colptr, heavy, rows, weight, row_lo, offsets,
           nranks, scale, shift, rowbase, gval, gtag, gmask, tagged, pdst, pv, pd, pu, cap):
    """Relax the light (or heavy) entries of the expanded columns fcol[pos:nf] until the
    record queue could overflow. A proposal is queued unless this rank already sent u a
    smaller distance (or the same one, for a tie: it could change nothing). Returns (next
    pos, records queued)."""
    n = 0
    while pos < nf:
        v = fcol[pos]
        if light:
            a = colptr[v]
            b = heavy[v]
        else:
            a = heavy[v]
            b = colptr[v + 1]
        if n > 0 and n + (b - a) > cap:
            break
        dv = fdist[pos]
        vg = fglob[pos]
        pos += 1
        for k in range(a, b):
            nd = dv + weight[k]
            tie = nd == dv
            u = rows[k]
            ui = u - row_lo
            s = ui & gmask
            if tagged and gtag[s] != ui:
                gtag[s] = ui
                gval[s] = nd
            else:
                gs = gval[s]
                if nd > gs or (nd == gs and tie):
                    continue
                if nd < gs:
                    gval[s] = nd
            r = owner(u, nranks, scale, shift)
            pdst[n] = r - rowbase
            pv[n] = u - offsets[r]
            pd[n] = nd
            pu[n] = 2 * vg + (1 if tie else 0)
            n += 1
    return pos, n


@njit(cache=True, nogil=True)
def _pack(n, pdst, pv, pd_bits, pu, counts, send):
    """Group the queued records by grid-row destination: (index << 32 | distance bits,
    2 * parent + tie), two int64 words each."""
    counts[:] = 0
    for t in range(n):
        counts[pdst[t]] += 1
    cursor = np.zeros(len(counts), dtype=np.int64)
    for r in range(1, len(counts)):
        cursor[r] = cursor[r - 1] + counts[r - 1]
    for t in range(n):
        r = pdst[t]
        j = cursor[r]
        cursor[r] = j + 1
        send[2 * j] = (pv[t] << 32) | np.int64(pd_bits[t])
        send[2 * j + 1] = pu[t]


@njit(cache=True, nogil=True)
def _apply(recv, nrec, dist_bits, parent, ptie, mark, touched):
    """The owner keeps a proposal that lowers the distance; at an equal distance a strict
    proposal replaces a tie parent or a larger parent id (see the module notes). Distances
    compare as bit patterns: non-negative float32s (inf included) order like them.
    Returns the number of vertices touched (to re-bucket)."""
    nt = 0
    for t in range(nrec):
        w = recv[2 * t]
        x = w >> 32
        nd = np.uint32(w & _LOW32)
        pw = recv[2 * t + 1]
        vg = pw >> 1
        tie = pw & 1
        cur = dist_bits[x]
        if nd < cur:
            dist_bits[x] = nd
            parent[x] = vg
            ptie[x] = tie
            if mark[x] == _CLEAN:
                mark[x] = _MOVE
                touched[nt] = x
                nt += 1
        elif nd == cur and tie == 0 and (ptie[x] != 0 or vg < parent[x]):
            parent[x] = vg
            ptie[x] = 0
    return nt


# ---------------------------------------------------------------- workspace

class SSSP2DWorkspace:
    """Buffers reused by every search on one weighted Graph2D (allocated once, untimed),
    and the search's fixed arguments (the communicator and delta), as SSSPWorkspace.
    reset() clears what a search starts from; the driver calls it before the timer."""

    def __init__(self, graph, comm, delta=DEFAULT_DELTA, capacity=CAPACITY,
                 ghost_slots=GHOST_SLOTS):
        if graph.weight is None:
            raise ValueError("SSSP needs edge weights: build the graph with weights")
        if not delta > 0:
            raise ValueError("delta must be positive")
        g = graph.grid
        n = g.nlocal
        if n >= 1 << 31:
            raise ValueError("a rank's block must hold fewer than 2^31 vertices")
        self.graph, self.comm, self.grid = graph, comm, g
        self.offsets = g.offsets.astype(np.int64)
        self.col_base = g.col_index_base().astype(np.int64)
        self.col_lo = g.col_block_lo.astype(np.int64)
        # A record lands at most max_weight/delta + 2 buckets ahead; every rank must size
        # its bucket array alike, and the owner of u need not hold u's entries: the
        # largest weight anywhere.
        local_max = float(graph.weight.max()) if len(graph.weight) else 0.0
        self.max_weight = float(comm.allreduce(local_max, op=MPI.MAX))
        maxcol = int(np.diff(graph.colptr).max()) if len(graph.colptr) > 1 else 0
        # one column always fits; a 32nd of the local entries is plenty per exchange
        self.capacity = max(1, maxcol, min(len(graph.rows) // 32, capacity))

        m = max(n, 1)
        self.nwords = (n + 63) // 64
        self.dist = np.empty(n, dtype=np.float32)
        self.dist_bits = self.dist.view(np.uint32)
        self.parent = np.empty(n, dtype=np.int64)
        self.ptie = np.empty(n, dtype=np.uint8)
        self.bkt = np.empty(n, dtype=np.int64)
        self.mark = np.empty(n, dtype=np.uint8)
        self.in_settled = np.empty(n, dtype=np.uint8)
        self.touched = np.empty(m, dtype=np.int64)
        self.frontier = np.empty(m, dtype=np.int64)
        self.settled = np.empty(m, dtype=np.int64)
        self.bits = np.empty((0, self.nwords), dtype=np.uint64)
        self.count = np.empty(0, dtype=np.int64)
        self.heavy = np.empty(max(len(graph.colptr) - 1, 0), dtype=np.int64)
        self.split_delta = None

        slots = 1
        while slots < min(g.row_n, ghost_slots):
            slots <<= 1
        self.ghost_mask = slots - 1
        self.tagged = slots < g.row_n
        self.gval = np.empty(slots, dtype=np.float32)
        self.gtag = np.empty(slots if self.tagged else 1, dtype=np.int64)

        cap = self.capacity
        self.pdst = np.empty(cap, dtype=np.int64)
        self.pv = np.empty(cap, dtype=np.int64)
        self.pd = np.empty(cap, dtype=np.float32)
        self.pd_bits = self.pd.view(np.uint32)
        self.pu = np.empty(cap, dtype=np.int64)
        self.send = np.empty(2 * cap, dtype=np.int64)
        self.recv = np.empty(2 * cap, dtype=np.int64)
        self.counts = np.zeros(g.C, dtype=np.int64)
        self.hdr_send = np.zeros((g.C, 2), dtype=np.int64)
        self.hdr_recv = np.zeros((g.C, 2), dtype=np.int64)
        # the gathered column-strip words, grown on demand (at most the strip: N/C)
        self.fq = np.empty(1 << 12, dtype=np.int64)
        self.fcol = np.empty(1 << 12, dtype=np.int64)
        self.fglob = np.empty(1 << 12, dtype=np.int64)
        self.fdist = np.empty(1 << 12, dtype=np.float32)
        self.delta = None
        self.clean = False
        self.reset(delta)

    def reset(self, delta=None):
        """Clear everything a search starts from (untimed), for bucket width `delta`
        (default: the workspace's)."""
        if delta is not None:
            if not delta > 0:
                raise ValueError("delta must be positive")
            self.delta = float(delta)
        wdelta = np.float32(self.delta)
        if self.split_delta != wdelta:
            split_by_weight(self.graph.colptr, self.graph.weight, wdelta, self.heavy)
            self.split_delta = wdelta
        self.nslots = int(self.max_weight / self.delta) + 3
        if len(self.count) != self.nslots:
            self.bits = np.empty((self.nslots, self.nwords), dtype=np.uint64)
            self.count = np.empty(self.nslots, dtype=np.int64)
        _clear(self.dist, self.parent, self.ptie, self.bits, self.count, self.bkt, self.mark,
               self.gval, self.gtag, self.in_settled)
        self.clean = True

    def nbytes(self):
        """Bytes held beyond the graph itself."""
        views = {id(self.dist_bits), id(self.pd_bits)}
        return sum(a.nbytes for a in vars(self).values()
                   if isinstance(a, np.ndarray) and id(a) not in views)

    # --- one relaxation round: expand along the column, relax, fold along the row ---

    def _expand(self, words, nw):
        """Gather the column strip's packed (vertex, distance) words along the grid column;
        returns how many arrived (unpacked into fcol, fglob, fdist)."""
        g = self.grid
        counts = np.array([nw], dtype=np.int64)
        if g.R > 1:
            mine = counts
            counts = np.empty(g.R, dtype=np.int64)
            g.col_comm.Allgather(mine, counts)
        total = int(counts.sum())
        if len(self.fq) < total:
            size = max(total, 2 * len(self.fq))
            self.fq = np.empty(size, dtype=np.int64)
            self.fcol = np.empty(size, dtype=np.int64)
            self.fglob = np.empty(size, dtype=np.int64)
            self.fdist = np.empty(size, dtype=np.float32)
        if g.R > 1:
            displs = np.zeros(g.R, dtype=np.int64)
            np.cumsum(counts[:-1], out=displs[1:])
            t = mpi_type(self.fq)
            g.col_comm.Allgatherv([words[:nw], t], [self.fq, (counts, displs), t])
        else:   # a one-rank column: nothing to gather
            self.fq[:nw] = words[:nw]
        return _unpack_frontier(self.fq, counts, self.col_base, self.col_lo, self.fcol,
                                self.fglob, self.fdist.view(np.uint32))

    def _round(self, words, nw, light, cur):
        """Relax the light (or heavy) entries of the expanded vertices; deliver and apply
        the proposals along the grid row, in as many exchanges as the queue needs (the row
        agrees on "more?" in the count exchange); re-bucket what improved."""
        g, gr = self.grid, self.graph
        nf = self._expand(words, nw)
        inv_delta = 1.0 / self.delta
        pos = 0
        while True:
            pos, n = _relax(self.fcol, self.fglob, self.fdist, pos, nf, light, gr.colptr,
                            self.heavy, gr.rows, gr.weight, g.row_lo, self.offsets, g.nranks,
                            g.scale, g.shift, g.i * g.C, self.gval, self.gtag,
                            self.ghost_mask, self.tagged, self.pdst, self.pv, self.pd, self.pu,
                            self.capacity)
            _pack(n, self.pdst, self.pv, self.pd_bits, self.pu, self.counts, self.send)
            if g.C > 1:
                self.hdr_send[:, 0] = 2 * self.counts
                self.hdr_send[:, 1] = pos < nf
                g.row_comm.Alltoall(self.hdr_send, self.hdr_recv)
                recv, _ = alltoallv_known(g.row_comm, self.send[:2 * n], 2 * self.counts,
                                          self.hdr_recv[:, 0], self.recv)
                self.recv = recv
                nrec = int(self.hdr_recv[:, 0].sum()) // 2
                more = bool(self.hdr_recv[:, 1].any())
            else:   # a one-rank row: the proposals are all this rank's own
                recv, nrec, more = self.send, n, pos < nf
            nt = _apply(recv, nrec, self.dist_bits, self.parent, self.ptie, self.mark,
                        self.touched)
            _rebucket(self.touched, nt, self.mark, self.dist, inv_delta, cur, self.nslots,
                      self.bits, self.count, self.bkt)
            if not more:
                return


def _agree(comm, vote, agreed, op):
    """Allreduce of the search's one-word votes (no MPI call on one rank)."""
    if comm.Get_size() == 1:
        agreed[:] = vote
    else:
        comm.Allreduce(vote, agreed, op=op)


def sssp2d(ws, root, delta=None):
    """Collective. Shortest paths from global vertex `root`, bucket width `delta` (default:
    the workspace's; another value resets the workspace for it).

    Returns (dist float32[nlocal], parent int64[nlocal]) for this rank's 1-D block: the
    workspace's arrays, overwritten by the next search. Call ws.reset() before (outside the
    timed region)."""
    g = ws.grid
    if not 0 <= root < g.nglobal:
        raise ValueError("root %d outside [0, %d)" % (root, g.nglobal))
    if delta is not None and float(delta) != ws.delta:
        ws.reset(delta)
    elif not ws.clean:
        ws.reset()
    ws.clean = False
    comm = ws.comm
    if g.lo <= root < g.hi:
        r = root - g.lo
        ws.dist[r] = 0.0
        ws.parent[r] = root
        ws.bkt[r] = 0
        set_bit(ws.bits[0], r)
        ws.count[0] = 1
    vote = np.zeros(1, dtype=np.int64)
    agreed = np.zeros(1, dtype=np.int64)
    cur = 0   # the root alone is in bucket 0
    while cur != NO_BUCKET:
        nsettled = 0
        while True:   # light rounds until bucket cur is empty everywhere
            nf, nsettled = _extract(cur, ws.nslots, ws.bits, ws.count, ws.bkt, ws.dist_bits,
                                    ws.frontier, ws.settled, nsettled, ws.in_settled)
            ws._round(ws.frontier, nf, True, cur)
            vote[0] = ws.count[cur % ws.nslots]
            _agree(comm, vote, agreed, MPI.MAX)
            if agreed[0] == 0:
                break
        # heavy round: the settled set once, with its final distances
        _pack_settled(ws.settled, nsettled, ws.dist_bits, ws.in_settled, ws.frontier)
        ws._round(ws.frontier, nsettled, False, cur)
        vote[0] = first_bucket(cur, ws.nslots, ws.count)
        _agree(comm, vote, agreed, MPI.MIN)
        cur = int(agreed[0])
    return ws.dist, ws.parent


# --- memory estimate (used by graph500/memory.py) ---

def sssp2d_workspace_bytes(scale, edgefactor, nranks, delta=DEFAULT_DELTA, max_weight=1.0,
                           capacity=CAPACITY, ghost_slots=GHOST_SLOTS):
    """Bytes of one rank's SSSP2DWorkspace, its dist and parent outputs included.
    Weights are uniform in [0, 1): max_weight 1 bounds the bucket array's slots."""
    from .construct import expected_entries, expected_max_degree, max_block_vertices
    from .grid import grid_shape
    R, C = grid_shape(nranks)
    n = max_block_vertices(scale, nranks)
    # dist 4, parent 8, ptie/mark/in_settled 1 each, bkt 8, touched/frontier/settled 8 each
    per_vertex = (4 + 8 + 3 + 8 + 3 * 8) * n
    heavy = 8 * R * n
    nslots = int(max_weight / delta) + 3
    buckets = nslots * ((n + 63) // 64) * 8 + nslots * 8
    slots = 1
    while slots < min(C * n, ghost_slots):
        slots <<= 1
    ghost = 4 * slots + (8 * slots if slots < C * n else 0)
    cap = max(1, expected_max_degree(scale, edgefactor),
              min(expected_entries(scale, edgefactor, nranks) // 32, capacity))
    records = cap * (8 + 8 + 4 + 8 + 2 * 2 * 8)   # queue; send and receive (2 words)
    # the gathered column words at most (a heavy round expands the settled sets)
    gathered = (8 + 8 + 8 + 4) * R * n
    return per_vertex + heavy + buckets + ghost + records + gathered
