"""Kernel 3: distributed single-source shortest paths by delta-stepping (Meyer and Sanders).

Returns, for the local block, dist[i] (float32) and parent[i] (int64 global id) of vertex
lo + i: dist[root] = 0, parent[root] = root; unreached vertices keep dist = inf, parent = -1.

Every relaxation computes float32(d[u] + w) in float32 arithmetic, exactly the sum the
validator recomputes, so each parent edge gives its child's distance bit for bit.

One search (all ranks step through the same sequence of collectives): bucket b holds the
active vertices with b*delta <= dist < (b+1)*delta. For the smallest bucket non-empty on
any rank:
  light phases - the bucket's vertices form the frontier and relax their light edges
                 (w < delta); improved vertices go back into a bucket, possibly this one;
                 repeat until this bucket is empty on every rank;
  heavy phase  - every vertex settled in this bucket relaxes its heavy edges (w >= delta)
                 once, with its final distance.
A relaxation along a local edge updates the target at once; one to a remote vertex becomes
a record (vertex, distance, parent) for the owner, sent with one Alltoallv per round; the
owner keeps strictly smaller distances only. (Strictly: a parent's value that produced a
child's final value was set before it, so parent chains cannot close into cycles.)

The schedule only orders the work. Correctness is that of any label-correcting method: a
vertex whose distance drops always goes back into a bucket and is relaxed again, so the loop
ends exactly when no edge can improve any distance. That state is the least fixed point
d(v) = min over paths of the left-to-right float32 sum (float32 addition is monotone), the
same for any number of ranks and any order of records: distances agree bit for bit across
runs; parents may differ on ties. Bucket indices are clamped into the window [cur, cur +
nslots) of the cyclic bucket array, again only a change of schedule.

State, all in the workspace (allocated once per graph, untimed):
  buckets - intrusive doubly linked lists over local vertices (next/prev/bucket-of arrays,
            one head per slot of a cyclic array): moving a vertex is O(1), extracting a
            bucket walks only its own vertices. Improvements are only marked during a relax
            pass (a touched list) and placed in buckets after it: the relax loop stays small,
            and a vertex improved many times in a round moves once;
  light   - the light edges as a CSR of their own (built per delta): a vertex rescanned in
            the light phases of its bucket reads only its light edges (a tenth of its row at
            delta 0.1); the heavy phase reads the whole row once;
  ghost   - the smallest distance this rank has already sent for each remote vertex (a
            direct-mapped cache, tagged when N is larger than the cache): a record that
            cannot beat an earlier one is never sent. Exact, since the owner's distance is
            already at most what was sent; it removes most of the remote traffic;
  records - at most `capacity` records are queued between exchanges, so a large frontier is
            relaxed over several rounds; every rank takes part in every round, and one small
            Allreduce per round says whether more rounds are needed and, once none are,
            which bucket is next.
Records are three int32 words: the vertex's index in its owner's block, the float32 bits of
the distance, and the parent's index in the sender's block (the receiver adds the sender's
block offset).

Hot loops are Numba functions that call no other function taking arrays: such a call costs
reference counting on each array, far more than the relaxation itself.
"""
import numpy as np
from mpi4py import MPI
from numba import njit

from .exchange import alltoallv, gather_window
from .partition import owner

# Chosen by measurement on the benchmark graph (uniform [0, 1) weights, edgefactor 16).
DEFAULT_DELTA = 0.1

# Records queued between exchanges (28 bytes each: 16 queued, 12 in the send buffer).
CAPACITY = 1 << 21

# Slots of the remote-distance cache at most (float32, plus a vertex-id tag when N is larger).
GHOST_SLOTS = 1 << 24

# Heavy phases may pull (see _Search.heavy) when the settled distances of all N vertices fit
# in a replicated float32 array of at most this many entries.
PULL_MAX_VERTICES = 1 << 27
# Pull only when the push would read more than N / PULL_RATIO entries on the busiest rank, and
# when it reads fewer, counting the Allgatherv of N floats as N / PULL_RATIO entries.
PULL_RATIO = 4

NO_BUCKET = np.int64(1) << 62

# Touched-list marks: not listed / listed and to be placed in a bucket / listed, but already
# relaxed with its newest distance in this light phase, so not to be placed again.
_CLEAN, _MOVE, _KEEP = 0, 1, 2


# ---------------------------------------------------------------- bucket lists

@njit(cache=True, nogil=True)
def _start(root, lo, hi, dist, parent, heads, bkt, mark, gval, gtag, nxt, prv):
    dist[:] = np.inf
    parent[:] = -1
    heads[:] = -1
    bkt[:] = -1
    mark[:] = _CLEAN
    gval[:] = np.inf
    gtag[:] = -1
    if lo <= root < hi:
        r = root - lo
        dist[r] = 0.0
        parent[r] = root
        heads[0] = r  # bucket 0, slot 0
        nxt[r] = -1
        prv[r] = -1
        bkt[r] = 0


@njit(cache=True, nogil=True)
def _unlink(v, nslots, heads, nxt, prv, bkt):
    p = prv[v]
    n = nxt[v]
    if p >= 0:
        nxt[p] = n
    else:
        heads[bkt[v] % nslots] = n
    if n >= 0:
        prv[n] = p
    bkt[v] = -1


@njit(cache=True, nogil=True)
def _rebucket(touched, nt, mark, dist, inv_delta, cur, nslots, heads, nxt, prv, bkt):
    """Place the vertices improved in the last pass into the buckets of their distances."""
    last = cur + nslots - 1
    for i in range(nt):
        v = touched[i]
        if mark[v] == _MOVE:
            b = np.int64(np.float64(dist[v]) * inv_delta)
            b = min(max(b, cur), last)
            old = bkt[v]
            if old != b:
                if old >= 0:
                    p = prv[v]
                    n = nxt[v]
                    if p >= 0:
                        nxt[p] = n
                    else:
                        heads[old % nslots] = n
                    if n >= 0:
                        prv[n] = p
                s = b % nslots
                h = heads[s]
                nxt[v] = h
                prv[v] = -1
                if h >= 0:
                    prv[h] = v
                heads[s] = v
                bkt[v] = b
        mark[v] = _CLEAN


@njit(cache=True, nogil=True)
def _extract(cur, nslots, heads, nxt, bkt, frontier, settled, nsettled, in_settled):
    """Empty bucket cur into the frontier; add its vertices to the settled set (once each)."""
    s = cur % nslots
    v = heads[s]
    nf = 0
    while v >= 0:
        frontier[nf] = v
        nf += 1
        bkt[v] = -1
        if in_settled[v] == 0:
            in_settled[v] = 1
            settled[nsettled] = v
            nsettled += 1
        v = nxt[v]
    heads[s] = -1
    return nf, nsettled


@njit(cache=True, nogil=True)
def _first_bucket(cur, nslots, heads):
    for i in range(nslots):
        if heads[(cur + i) % nslots] >= 0:
            return cur + i
    return NO_BUCKET


@njit(cache=True, nogil=True)
def _clear_settled(settled, nsettled, in_settled):
    for i in range(nsettled):
        in_settled[settled[i]] = 0


# ---------------------------------------------------------------- relaxation and records

@njit(cache=True, nogil=True)
def _light_edges(rowptr, col, weight, delta):
    """The rows restricted to their light edges (w < delta), as a CSR of their own."""
    n = len(rowptr) - 1
    lrowptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        c = 0
        for k in range(rowptr[i], rowptr[i + 1]):
            if weight[k] < delta:
                c += 1
        lrowptr[i + 1] = lrowptr[i] + c
    lcol = np.empty(lrowptr[n], dtype=col.dtype)
    lweight = np.empty(lrowptr[n], dtype=np.float32)
    j = 0
    for i in range(n):
        for k in range(rowptr[i], rowptr[i + 1]):
            if weight[k] < delta:
                lcol[j] = col[k]
                lweight[j] = weight[k]
                j += 1
    return lrowptr, lcol, lweight


@njit(cache=True, nogil=True)
def _relax(frontier, pos, nf, light, delta, nslots,
           rowptr, col, weight, lo, hi, nranks, scale, shift, offsets,
           dist, parent, heads, nxt, prv, bkt, mark, touched,
           gval, gtag, gmask, tagged, pdst, pv, pd, pu, cap):
    """Relax the edges of frontier[pos:nf] until the record queue could overflow: every
    edge given in a light phase (rowptr/col/weight are then the light edges), those with
    w >= delta in a heavy phase (whole rows). Returns (next pos, records queued, touched)."""
    n = 0
    nt = 0
    while pos < nf:
        u = frontier[pos]
        a = rowptr[u]
        b = rowptr[u + 1]
        if n > 0 and n + (b - a) > cap:
            break
        pos += 1
        if light:
            # If u dropped again since it was extracted, this scan already uses its newest
            # distance: take it out of its bucket (rare) and do not put it back.
            if bkt[u] >= 0:
                _unlink(u, nslots, heads, nxt, prv, bkt)
            if mark[u] == _MOVE:
                mark[u] = _KEEP
        du = dist[u]
        gu = lo + u
        for k in range(a, b):
            w = weight[k]
            if not light and w < delta:
                continue
            nd = du + w
            v = col[k]
            if lo <= v and v < hi:
                vl = v - lo
                if nd < dist[vl]:
                    dist[vl] = nd
                    parent[vl] = gu
                    m = mark[vl]
                    if m != _MOVE:
                        if m == _CLEAN:
                            touched[nt] = vl
                            nt += 1
                        mark[vl] = _MOVE
            else:
                s = v & gmask
                if tagged:
                    if gtag[s] == v:
                        if nd >= gval[s]:
                            continue
                    else:
                        gtag[s] = v
                elif nd >= gval[s]:
                    continue
                gval[s] = nd
                r = owner(v, nranks, scale, shift)
                pdst[n] = r
                pv[n] = v - offsets[r]
                pd[n] = nd
                pu[n] = u
                n += 1
    return pos, n, nt


@njit(cache=True, nogil=True)
def _pack(n, pdst, pv, pd, pu, counts, cursor, send_i, send_f):
    """Group the queued records by destination rank (count, prefix sum, fill)."""
    counts[:] = 0
    for i in range(n):
        counts[pdst[i]] += 1
    c = 0
    for r in range(len(counts)):
        cursor[r] = c
        c += counts[r]
    for i in range(n):
        r = pdst[i]
        j = cursor[r]
        cursor[r] = j + 1
        send_i[3 * j] = pv[i]
        send_f[3 * j + 1] = pd[i]
        send_i[3 * j + 2] = pu[i]


@njit(cache=True, nogil=True)
def _apply(recv_i, recv_f, recvcounts, offsets, dist, parent, mark, touched, nt):
    """Keep the received records that lower a distance; returns the touched count."""
    j = 0
    for r in range(len(recvcounts)):
        base = offsets[r]
        for _ in range(recvcounts[r] // 3):
            v = recv_i[j]
            nd = recv_f[j + 1]
            if nd < dist[v]:
                dist[v] = nd
                parent[v] = base + recv_i[j + 2]
                m = mark[v]
                if m != _MOVE:
                    if m == _CLEAN:
                        touched[nt] = v
                        nt += 1
                    mark[v] = _MOVE
            j += 3
    return nt


@njit(cache=True, nogil=True)
def _push_cost(rowptr, settled, nsettled, dist):
    """The settled rows' total length, and the smallest settled distance."""
    work = np.int64(0)
    dmin = np.float32(np.inf)
    for i in range(nsettled):
        v = settled[i]
        work += rowptr[v + 1] - rowptr[v]
        dmin = min(dmin, dist[v])
    return work, dmin


@njit(cache=True, nogil=True)
def _settled_view(settled, nsettled, dist, out):
    """The local block's distances on the settled set, inf elsewhere."""
    out[:] = np.inf
    for i in range(nsettled):
        v = settled[i]
        out[v] = dist[v]


@njit(cache=True, nogil=True)
def _pull_cost(rowptr, dist, thr):
    work = np.int64(0)
    for v in range(len(dist)):
        if dist[v] > thr:
            work += rowptr[v + 1] - rowptr[v]
    return work


@njit(cache=True, nogil=True)
def _pull(rowptr, col, weight, delta, thr, sdist, dist, parent, mark, touched):
    """The heavy phase turned around: every local vertex that some heavy edge from the
    settled set could still lower (dist > thr) reads its own row against the settled
    distances of all vertices (sdist, inf off the set). The same relaxations as pushing,
    minus those that provably cannot improve anything, and no records."""
    nt = 0
    for v in range(len(dist)):
        dv = dist[v]
        if not dv > thr:
            continue
        best = dv
        bu = np.int64(-1)
        for k in range(rowptr[v], rowptr[v + 1]):
            w = weight[k]
            if w < delta:
                continue
            u = col[k]
            nd = sdist[u] + w
            if nd < best:
                best = nd
                bu = u
        if bu >= 0:
            dist[v] = best
            parent[v] = bu
            if mark[v] == _CLEAN:
                touched[nt] = v
                nt += 1
            mark[v] = _MOVE
    return nt


# ---------------------------------------------------------------- driver side

class SSSPWorkspace:
    """Buffers reused by every search on one graph (allocated once, untimed).

    `delta` only says which light-edge CSR to build now; a search with another delta builds
    its own on first use (so run the untimed warm-up search with the timed delta)."""

    def __init__(self, graph, delta=DEFAULT_DELTA, capacity=CAPACITY, ghost_slots=GHOST_SLOTS,
                 pull_max_vertices=PULL_MAX_VERTICES):
        if graph.weight is None:
            raise ValueError("SSSP needs edge weights: build the graph with weights")
        part = graph.part
        n = part.nlocal
        if n >= 1 << 31:
            raise ValueError("a rank's block must hold fewer than 2^31 vertices")
        self.graph = graph
        self.offsets = part.offsets.astype(np.int64)
        # A record for v travels along an edge that v's owner also holds in v's row (rows
        # list every tuple from both ends), so the largest local weight bounds how many
        # buckets ahead anything can land, which sizes the cyclic bucket array.
        self.max_weight = float(graph.weight.max()) if len(graph.weight) else 0.0
        maxdeg = int(np.diff(graph.rowptr).max()) if n else 0
        self.capacity = max(1, maxdeg, min(int(graph.rowptr[-1]), capacity))

        m = max(n, 1)
        self.nxt = np.empty(m, dtype=np.int32)
        self.prv = np.empty(m, dtype=np.int32)
        self.bkt = np.empty(n, dtype=np.int64)
        self.mark = np.empty(n, dtype=np.uint8)
        self.touched = np.empty(m, dtype=np.int32)
        self.frontier = np.empty(m, dtype=np.int32)
        self.settled = np.empty(m, dtype=np.int32)
        self.in_settled = np.zeros(m, dtype=np.uint8)
        self.heads = np.empty(0, dtype=np.int32)
        self.light_delta = None
        self.light = None

        slots = 1
        while slots < min(part.nglobal, ghost_slots):
            slots <<= 1
        self.ghost_mask = slots - 1
        self.tagged = slots < part.nglobal
        self.gval = np.empty(slots, dtype=np.float32)
        self.gtag = np.empty(slots if self.tagged else 1, dtype=graph.col.dtype)

        cap = self.capacity
        self.pdst = np.empty(cap, dtype=np.int32)
        self.pv = np.empty(cap, dtype=np.int32)
        self.pd = np.empty(cap, dtype=np.float32)
        self.pu = np.empty(cap, dtype=np.int32)
        self.send_i = np.empty(3 * cap, dtype=np.int32)
        self.send_f = self.send_i.view(np.float32)
        self.recv_i = np.empty(3 * cap, dtype=np.int32)
        self.counts = np.zeros(part.nranks, dtype=np.int64)
        self.cursor = np.zeros(part.nranks, dtype=np.int64)
        self.vote = np.zeros(2, dtype=np.int64)
        self.agreed = np.zeros(2, dtype=np.int64)
        if part.nglobal <= pull_max_vertices:
            self.sloc = np.empty(n, dtype=np.float32)
            self.sdist = np.empty(part.nglobal, dtype=np.float32)
        else:
            self.sloc = self.sdist = None
        self.light_for(np.float32(delta))

    def light_for(self, wdelta):
        if self.light_delta != wdelta:
            g = self.graph
            self.light = _light_edges(g.rowptr, g.col, g.weight, wdelta)
            self.light_delta = wdelta
        return self.light

    def slots_for(self, delta):
        """Records land at most max_weight/delta + 2 buckets ahead of the current one (the
        sender's distance is below the end of its bucket); one slot more absorbs rounding."""
        nslots = int(self.max_weight / delta) + 3
        if len(self.heads) != nslots:
            self.heads = np.empty(nslots, dtype=np.int32)
        return nslots


def sssp(graph, root, delta, ws, comm):
    """Collective. Shortest paths from global vertex `root` with bucket width `delta`.

    Returns (dist float32[nlocal], parent int64[nlocal]) for this rank's block, new arrays
    each call.
    """
    part = graph.part
    if not 0 <= root < part.nglobal:
        raise ValueError("root %d outside [0, %d)" % (root, part.nglobal))
    if not delta > 0:
        raise ValueError("delta must be positive")
    search = _Search(graph, ws, comm, float(delta))
    _start(np.int64(root), part.lo, part.hi, search.dist, search.parent, ws.heads, ws.bkt,
           ws.mark, ws.gval, ws.gtag, ws.nxt, ws.prv)
    nslots = search.nslots
    cur = 0  # the root alone is in bucket 0
    while cur != NO_BUCKET:
        nsettled = 0
        while True:
            nf, nsettled = _extract(cur, nslots, ws.heads, ws.nxt, ws.bkt, ws.frontier,
                                    ws.settled, nsettled, ws.in_settled)
            nxt_bucket = search.phase(ws.frontier, nf, True, cur)
            if nxt_bucket != cur:
                break
        nxt_bucket = search.heavy(nsettled, cur)
        _clear_settled(ws.settled, nsettled, ws.in_settled)
        cur = nxt_bucket
    return search.dist, search.parent


class _Search:
    """One search's outputs and fixed arguments; `phase` runs one phase's rounds."""

    def __init__(self, graph, ws, comm, delta):
        self.g, self.ws, self.comm = graph, ws, comm
        n = graph.part.nlocal
        self.dist = np.empty(n, dtype=np.float32)
        self.parent = np.empty(n, dtype=np.int64)
        # Weights are float32: compare them with delta rounded to float32 as well, the same
        # split as the light-edge CSR.
        self.wdelta = np.float32(delta)
        self.inv_delta = 1.0 / delta
        self.nslots = ws.slots_for(delta)
        self.light = ws.light_for(self.wdelta)
        p = graph.part
        self.args = (p.lo, p.hi, p.nranks, p.scale, p.shift)

    def heavy(self, nsettled, cur):
        """The heavy phase, pushed from the settled set or pulled by the vertices it could
        still improve, whichever reads fewer edges on the busiest rank. Pulling needs every
        settled distance on every rank (one Allgatherv of N floats), so only pays when the
        settled rows are a large part of the graph, as in the first buckets of a Kronecker
        graph, where the hubs settle and hold most of the edges."""
        ws, g, comm = self.ws, self.g, self.comm
        if ws.sdist is None:
            return self.phase(ws.settled, nsettled, False, cur)
        push, dmin = _push_cost(g.rowptr, ws.settled, nsettled, self.dist)
        # Non-negative float32s order like their bit patterns: one MIN serves both values.
        ws.vote[0] = -push
        ws.vote[1] = np.float32(dmin).view(np.int32)
        comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
        max_push = -int(ws.agreed[0])
        nglobal = g.part.nglobal
        if max_push * PULL_RATIO < nglobal:
            return self.phase(ws.settled, nsettled, False, cur)
        # Heavy edges have w >= wdelta, so nothing from the set lands below thr.
        thr = np.float32(np.int32(ws.agreed[1]).view(np.float32) + self.wdelta)
        pull = _pull_cost(g.rowptr, self.dist, thr)
        ws.vote[0] = -pull
        comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
        max_pull = -int(ws.agreed[0])
        if max_pull + nglobal // PULL_RATIO >= max_push:
            return self.phase(ws.settled, nsettled, False, cur)
        _settled_view(ws.settled, nsettled, self.dist, ws.sloc)
        gather_window(comm, ws.offsets, ws.sloc, 0, nglobal, ws.sdist)
        nt = _pull(g.rowptr, g.col, g.weight, self.wdelta, thr, ws.sdist, self.dist,
                   self.parent, ws.mark, ws.touched)
        _rebucket(ws.touched, nt, ws.mark, self.dist, self.inv_delta, cur, self.nslots,
                  ws.heads, ws.nxt, ws.prv, ws.bkt)
        ws.vote[0] = 1
        ws.vote[1] = _first_bucket(cur, self.nslots, ws.heads)
        comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
        return int(ws.agreed[1])

    def phase(self, frontier, nf, light, cur):
        """Relax frontier[:nf] (light edges, or heavy ones) over as many exchange rounds as
        the busiest rank needs. Returns the next non-empty bucket, agreed by all ranks."""
        g, ws, comm = self.g, self.ws, self.comm
        lo, hi, nranks, scale, shift = self.args
        rowptr, col, weight = self.light if light else (g.rowptr, g.col, g.weight)
        dist, parent, nslots = self.dist, self.parent, self.nslots
        pos = 0
        while True:
            pos, n, nt = _relax(frontier, pos, nf, light, self.wdelta, nslots,
                                rowptr, col, weight, lo, hi, nranks, scale, shift,
                                ws.offsets, dist, parent, ws.heads, ws.nxt, ws.prv, ws.bkt,
                                ws.mark, ws.touched, ws.gval, ws.gtag, ws.ghost_mask,
                                ws.tagged, ws.pdst, ws.pv, ws.pd, ws.pu, ws.capacity)
            if nranks > 1:
                _pack(n, ws.pdst, ws.pv, ws.pd, ws.pu, ws.counts, ws.cursor,
                      ws.send_i, ws.send_f)
                recv, rcounts = alltoallv(comm, ws.send_i[:3 * n], 3 * ws.counts, ws.recv_i)
                ws.recv_i = recv
                nt = _apply(recv, recv.view(np.float32), rcounts, ws.offsets, dist, parent,
                            ws.mark, ws.touched, nt)
            _rebucket(ws.touched, nt, ws.mark, dist, self.inv_delta, cur, nslots, ws.heads,
                      ws.nxt, ws.prv, ws.bkt)
            # One vote per round, MIN over ranks of: 0 while this rank has frontier left,
            # and this rank's first non-empty bucket (meaningful once nobody has work left).
            ws.vote[0] = 0 if pos < nf else 1
            ws.vote[1] = _first_bucket(cur, nslots, ws.heads)
            comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
            if ws.agreed[0] == 1:
                return int(ws.agreed[1])
