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

Heavy phases push (each settled vertex relaxes its heavy entries; remote targets become
records) or pull (every rank gets the settled set's distances with one Allgatherv, and each
vertex that could still improve reads its own row): the first buckets of a Kronecker graph
settle the hubs, whose rows hold most of the edges, and there the pull reads a few entries
per vertex where the push would read nearly the whole graph (see _Search.heavy).

State, all in the workspace (allocated once per graph, untimed):
  rows    - each row's entries in increasing weight (Kernel 1's arrays when it already sorts
            them, else a sorted copy), and per delta the index where its heavy part starts:
            light phases read only the light prefix, pushes only the heavy rest, and a pull
            stops at the first weight that can no longer improve the vertex;
  buckets - one bitmap over the local block per slot of a cyclic array of buckets, a count
            per slot and the bucket of each vertex: moving a vertex is two bit operations,
            and extracting a bucket yields its vertices in order, so rows are then read in
            memory order. Improvements are only marked during a relax pass (a touched list)
            and placed in buckets after it: the relax loop stays small, and a vertex
            improved many times in a round moves once;
  ghost   - the smallest distance this rank has already sent for each remote vertex (a
            direct-mapped cache, tagged when N is larger than the cache): a record that
            cannot beat an earlier one is never sent. Exact, since the owner's distance is
            already at most what was sent; it removes most of the remote traffic;
  records - at most `capacity` records are queued between exchanges, so a large frontier is
            relaxed over several rounds; every rank takes part in every round, and a small
            header each rank sends each other one (one Alltoall) says how many records follow
            and whether more rounds are needed and, once none are, which bucket is next
            (see _Search).
Records are three int32 words: the vertex's index in its owner's block, the float32 bits of
the distance, and the parent's index in the sender's block (the receiver adds the sender's
block offset).

The per-edge loops call no Numba function that takes arrays: such a call costs reference
counting on each array, several times the relaxation itself (measured: 107 ns per call with
a dozen arrays, 36 ns for the same code written in place).
"""
import numpy as np
from mpi4py import MPI
from numba import njit

from .bitmap import bit_index, lowest_bit
from .construct import sort_rows_by_weight
from .exchange import alltoallv_known, gather_window
from .partition import owner

# Measured on the benchmark graph (uniform [0, 1) weights, edgefactor 16), SCALE 22 on 2 ranks:
# 0.01-0.03 is a plateau, 0.02 the best, 0.1 (the reference's) about 1.8 times slower. Small
# buckets keep the light phases from relaxing the same vertices over and over; the heavy
# edges this leaves are cheap, since the big heavy phases pull.
DEFAULT_DELTA = 0.02

# Records queued between exchanges (28 bytes each: 16 queued, 12 in the send buffer).
CAPACITY = 1 << 20

# Slots of the remote-distance cache at most (float32, plus a vertex-id tag when N is larger).
GHOST_SLOTS = 1 << 24

# Heavy phases may pull (see _Search.heavy) when the settled distances of all N vertices fit
# in a replicated float32 array of at most this many entries.
PULL_MAX_VERTICES = 1 << 27
# Pull when the push would read more than (N + largest block) / PULL_RATIO entries on the
# busiest rank (see _Search.heavy).
PULL_RATIO = 4

NO_BUCKET = np.int64(1) << 62

# The header every rank sends every other rank in each exchange round (one Alltoall, which
# is also the round's agreement; see _Search): records (int32 words) for that rank, "has
# frontier left", "sent records", first non-empty bucket, push work, smallest settled
# distance (float32 bits).
_COUNT, _MORE, _SENT, _FIRST, _PUSH, _DMIN = range(6)
_HEADER = 6

# Touched-list marks: not listed / listed and to be placed in a bucket / listed, but already
# relaxed with its newest distance in this light phase, so not to be placed again.
_CLEAN, _MOVE, _KEEP = 0, 1, 2


# ---------------------------------------------------------------- buckets

_ONE = np.uint64(1)


@njit(cache=True, nogil=True)
def _clear(dist, parent, bits, count, bkt, mark, gval, gtag):
    """Everything a search starts from, cleared before the timer (the workspace's reset)."""
    dist[:] = np.inf
    parent[:] = -1
    bits[:, :] = 0
    count[:] = 0
    bkt[:] = -1
    mark[:] = _CLEAN
    gval[:] = np.inf
    gtag[:] = -1


@njit(cache=True, nogil=True)
def _start(root, lo, hi, dist, parent, bits, count, bkt):
    """The root alone, in bucket 0 (slot 0)."""
    if lo <= root < hi:
        r = root - lo
        dist[r] = 0.0
        parent[r] = root
        bits[0, r >> 6] |= _ONE << np.uint64(r & 63)
        count[0] = 1
        bkt[r] = 0


@njit(cache=True, nogil=True)
def _unlist(v, nslots, bits, count, bkt):
    s = bkt[v] % nslots
    bits[s, v >> 6] &= ~(_ONE << np.uint64(v & 63))
    count[s] -= 1
    bkt[v] = -1


@njit(cache=True, nogil=True)
def _rebucket(touched, nt, mark, dist, inv_delta, cur, nslots, bits, count, bkt):
    """Place the vertices improved in the last pass into the buckets of their distances."""
    last = cur + nslots - 1
    for i in range(nt):
        v = touched[i]
        if mark[v] == _MOVE:
            b = np.int64(np.float64(dist[v]) * inv_delta)
            b = min(max(b, cur), last)
            old = bkt[v]
            if old != b:
                bit = _ONE << np.uint64(v & 63)
                if old >= 0:
                    s = old % nslots
                    bits[s, v >> 6] &= ~bit
                    count[s] -= 1
                s = b % nslots
                bits[s, v >> 6] |= bit
                count[s] += 1
                bkt[v] = b
        mark[v] = _CLEAN


@njit(cache=True, nogil=True)
def _extract(cur, nslots, bits, count, bkt, rowptr, heavy, frontier, settled, nsettled,
             in_settled):
    """Empty bucket cur: its vertices with light edges form the frontier, in vertex order
    (rows are then read in memory order); all join the settled set (once each)."""
    s = cur % nslots
    row = bits[s]
    nf = 0
    for w in range(len(row)):
        x = row[w]
        if x == 0:
            continue
        row[w] = 0
        while x != 0:
            low = lowest_bit(x)
            v = (w << 6) + bit_index(low)
            x ^= low
            bkt[v] = -1
            if heavy[v] > rowptr[v]:
                frontier[nf] = v
                nf += 1
            if in_settled[v] == 0:
                in_settled[v] = 1
                settled[nsettled] = v
                nsettled += 1
    count[s] = 0
    return nf, nsettled


@njit(cache=True, nogil=True)
def _first_bucket(cur, nslots, count):
    for i in range(nslots):
        if count[(cur + i) % nslots] > 0:
            return cur + i
    return NO_BUCKET


@njit(cache=True, nogil=True)
def _clear_settled(settled, nsettled, in_settled):
    for i in range(nsettled):
        in_settled[settled[i]] = 0


# ---------------------------------------------------------------- rows in weight order

@njit(cache=True, nogil=True)
def _rows_sorted(rowptr, weight):
    for i in range(len(rowptr) - 1):
        for k in range(rowptr[i] + 1, rowptr[i + 1]):
            if weight[k] < weight[k - 1]:
                return False
    return True


def _sort_rows(rowptr, col, weight):
    """A copy of the rows with each row's entries in increasing weight, for graphs that did
    not come from Kernel 1 (which sorts them itself)."""
    scol = col.copy()
    sweight = weight.copy()
    sort_rows_by_weight(rowptr, scol, sweight)
    return scol, sweight


@njit(cache=True, nogil=True)
def _split_rows(rowptr, weight, delta, heavy):
    """heavy[i] = the first entry of row i with weight >= delta (rows sorted by weight)."""
    for i in range(len(rowptr) - 1):
        a = rowptr[i]
        b = rowptr[i + 1]
        while a < b:
            m = (a + b) >> 1
            if weight[m] < delta:
                a = m + 1
            else:
                b = m
        heavy[i] = a


# ---------------------------------------------------------------- relaxation and records

@njit(cache=True, nogil=True)
def _relax(frontier, pos, nf, light, nslots,
           begin, end, col, weight, lo, hi, nranks, scale, shift, offsets,
           dist, parent, bits, count, bkt, mark, touched,
           gval, gtag, gmask, tagged, pdst, pv, pd, pu, n, cap):
    """Relax entries begin[u]..end[u] of the rows of the vertices u in frontier[pos:nf] (the
    light or the heavy part of each row) until the record queue (n records queued so far)
    could overflow. Returns (next pos, records queued, vertices touched)."""
    nt = 0
    while pos < nf:
        u = frontier[pos]
        a = begin[u]
        b = end[u]
        if n > 0 and n + (b - a) > cap:
            break
        pos += 1
        if light:
            # If u dropped again since it was extracted, this scan already uses its newest
            # distance: take it out of its bucket (rare) and do not put it back.
            if bkt[u] >= 0:
                _unlist(u, nslots, bits, count, bkt)
            if mark[u] == _MOVE:
                mark[u] = _KEEP
        du = dist[u]
        gu = lo + u
        for k in range(a, b):
            w = weight[k]
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
def _light_step(cur, nslots, inv_delta, frontier, pos, nf, settled, nsettled, in_settled,
                rowptr, heavy, col, weight, lo, hi, nranks, scale, shift, offsets,
                dist, parent, bits, count, bkt, mark, touched,
                gval, gtag, gmask, tagged, pdst, pv, pd, pu, n, cap):
    """Light relaxations of bucket cur on this rank, with no exchange in between: relax the
    frontier, put what improved back into its bucket, and when bucket cur refilled here,
    extract it again, until it is empty here or the record queue is full. Records from
    other ranks wait for the next exchange (the fixed point does not depend on the order).
    Returns (next pos, frontier size, records queued, settled count)."""
    while True:
        if pos >= nf:
            if count[cur % nslots] == 0:
                break
            nf, nsettled = _extract(cur, nslots, bits, count, bkt, rowptr, heavy, frontier,
                                    settled, nsettled, in_settled)
            pos = 0
            continue
        pos, n, nt = _relax(frontier, pos, nf, True, nslots, rowptr, heavy, col, weight,
                            lo, hi, nranks, scale, shift, offsets, dist, parent, bits, count,
                            bkt, mark, touched, gval, gtag, gmask, tagged, pdst, pv, pd, pu,
                            n, cap)
        _rebucket(touched, nt, mark, dist, inv_delta, cur, nslots, bits, count, bkt)
        if pos < nf:
            break   # the queue is full: exchange first
    return pos, nf, n, nsettled


@njit(cache=True, nogil=True)
def _pack(n, pdst, pv, pd, pu, counts, cursor, send_i, send_f):
    """Group the queued records by destination rank (count, prefix sum, fill).
    Returns the smallest distance they carry (inf for none)."""
    counts[:] = 0
    dmin = np.float32(np.inf)
    for i in range(n):
        counts[pdst[i]] += 1
        dmin = min(dmin, pd[i])
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
    return dmin


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
def _pull(rowptr, heavy, col, weight, thr, dmin, sdist, dist, parent, mark, touched):
    """The heavy phase turned around: every local vertex v that a heavy edge from the
    settled set could still lower (dist > thr) reads its own heavy entries against the
    settled distances of all vertices (sdist, inf off the set), in increasing weight, up to
    the first weight w with float32(dmin + w) >= its best so far: no settled u (d(u) >= dmin)
    can improve v along that edge or any heavier one. The same relaxations as pushing,
    minus those that provably cannot improve anything, and no records."""
    nt = 0
    for v in range(len(dist)):
        dv = dist[v]
        if not dv > thr:
            continue
        best = dv
        bu = np.int64(-1)
        for k in range(heavy[v], rowptr[v + 1]):
            w = weight[k]
            if not dmin + w < best:
                break
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
    """Buffers reused by every search on one graph (allocated once, untimed), and the
    search's fixed arguments (the communicator and delta), as BFSWorkspace.

    reset() clears everything a search starts from (outputs, buckets, the remote-distance
    cache) and prepares the row split and bucket array for `delta`; the driver calls it
    before the timer, so only the search is timed. A search on a workspace that was not
    reset since the last one resets it itself (untimed callers need not bother).
    Memory: see nbytes(); the sorted copy of the rows (8 bytes per entry) is the bulk, and
    is not made when Kernel 1 hands over rows already sorted by weight."""

    def __init__(self, graph, comm, delta=DEFAULT_DELTA, capacity=CAPACITY,
                 ghost_slots=GHOST_SLOTS, pull_max_vertices=PULL_MAX_VERTICES,
                 pull_ratio=PULL_RATIO):
        if graph.weight is None:
            raise ValueError("SSSP needs edge weights: build the graph with weights")
        if not delta > 0:
            raise ValueError("delta must be positive")
        part = graph.part
        n = part.nlocal
        if n >= 1 << 31:
            raise ValueError("a rank's block must hold fewer than 2^31 vertices")
        self.graph = graph
        self.comm = comm
        self.offsets = part.offsets.astype(np.int64)
        # A record for v travels along an edge that v's owner also holds in v's row (rows
        # list every tuple from both ends), so the largest local weight bounds how many
        # buckets ahead anything can land, which sizes the cyclic bucket array.
        self.max_weight = float(graph.weight.max()) if len(graph.weight) else 0.0
        maxdeg = int(np.diff(graph.rowptr).max()) if n else 0
        # A 32nd of the local entries is far more than a round's records, ghost-filtered,
        # have needed on the benchmark graph; one row must always fit.
        self.capacity = max(1, maxdeg, min(int(graph.rowptr[-1]) // 32, capacity))

        m = max(n, 1)
        self.nwords = (n + 63) // 64
        # The outputs: a search returns these arrays (overwritten by the next search).
        self.dist = np.empty(n, dtype=np.float32)
        self.parent = np.empty(n, dtype=np.int64)
        self.bkt = np.empty(n, dtype=np.int64)
        self.mark = np.empty(n, dtype=np.uint8)
        self.touched = np.empty(m, dtype=np.int32)
        self.frontier = np.empty(m, dtype=np.int32)
        self.settled = np.empty(m, dtype=np.int32)
        self.in_settled = np.zeros(m, dtype=np.uint8)
        self.bits = np.empty((0, self.nwords), dtype=np.uint64)
        self.count = np.empty(0, dtype=np.int64)
        # Rows in increasing weight: the light edges of a row are a prefix, the heavy ones
        # the rest, and a pulling vertex can stop early. Kernel 1 may already sort them.
        if _rows_sorted(graph.rowptr, graph.weight):
            self.col, self.weight = graph.col, graph.weight
        else:
            self.col, self.weight = _sort_rows(graph.rowptr, graph.col, graph.weight)
        self.heavy = np.empty(n, dtype=np.int64)
        self.split_delta = None

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
        # One row per rank of the round's header (see _Search.agree), sent and received.
        self.hdr_send = np.zeros((part.nranks, _HEADER), dtype=np.int64)
        self.hdr_recv = np.zeros((part.nranks, _HEADER), dtype=np.int64)
        self.vote = np.zeros(1, dtype=np.int64)
        self.agreed = np.zeros(1, dtype=np.int64)
        # Both the replicated settled distances and the sweep over the local block cost
        # about one sequential access per vertex; a push costs a random access per entry.
        self.pull_threshold = (part.nglobal + int(np.diff(part.offsets).max())) / pull_ratio
        if part.nglobal <= pull_max_vertices:
            self.sloc = np.empty(n, dtype=np.float32)
            self.sdist = np.empty(part.nglobal, dtype=np.float32)
        else:
            self.sloc = self.sdist = None
        self.delta = None
        self.clean = False
        self.reset(delta)
        self._compile_exchange_path()

    def reset(self, delta=None):
        """Clear everything a search starts from (untimed: the driver calls this before the
        timer), for bucket width `delta` (default: the workspace's)."""
        if delta is not None:
            if not delta > 0:
                raise ValueError("delta must be positive")
            self.delta = float(delta)
        self.wdelta = np.float32(self.delta)
        self.split_for(self.wdelta)
        self.nslots = self.slots_for(self.delta)
        _clear(self.dist, self.parent, self.bits, self.count, self.bkt, self.mark, self.gval,
               self.gtag)
        self.clean = True

    def _compile_exchange_path(self):
        """Compile (or load from the cache) the record pack/apply steps now, with no records:
        one rank never calls them, so the driver's single-rank warm-up would not, and the
        first multi-rank search would pay for them inside its timed region."""
        _pack(0, self.pdst, self.pv, self.pd, self.pu, self.counts, self.cursor, self.send_i,
              self.send_f)
        _apply(self.recv_i, self.recv_i.view(np.float32), self.counts, self.offsets,
               np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64), self.mark,
               self.touched, 0)

    def nbytes(self):
        """Bytes held beyond the graph itself (the sorted rows count when they are a copy)."""
        g = self.graph
        shared = {id(self.send_f), id(g.col), id(g.weight)}  # views, or the graph's own
        return sum(a.nbytes for a in vars(self).values()
                   if isinstance(a, np.ndarray) and id(a) not in shared)

    def split_for(self, wdelta):
        """Where each row's heavy part starts, for this delta (float32 like the weights)."""
        if self.split_delta != wdelta:
            _split_rows(self.graph.rowptr, self.weight, wdelta, self.heavy)
            self.split_delta = wdelta

    def slots_for(self, delta):
        """Records land at most max_weight/delta + 2 buckets ahead of the current one (the
        sender's distance is below the end of its bucket); one slot more absorbs rounding."""
        nslots = int(self.max_weight / delta) + 3
        if len(self.count) != nslots:
            self.bits = np.empty((nslots, self.nwords), dtype=np.uint64)
            self.count = np.empty(nslots, dtype=np.int64)
        return nslots



def sssp(ws, root, delta=None):
    """Collective. Shortest paths from global vertex `root`, bucket width `delta` (default:
    the workspace's; another value resets the workspace for it).

    Returns (dist float32[nlocal], parent int64[nlocal]) for this rank's block: the
    workspace's arrays, overwritten by the next search. Call ws.reset() before (outside the
    timed region).
    """
    part = ws.graph.part
    if not 0 <= root < part.nglobal:
        raise ValueError("root %d outside [0, %d)" % (root, part.nglobal))
    if delta is not None and float(delta) != ws.delta:
        ws.reset(delta)
    elif not ws.clean:
        ws.reset()
    ws.clean = False
    _start(np.int64(root), part.lo, part.hi, ws.dist, ws.parent, ws.bits, ws.count, ws.bkt)
    search = _Search(ws)
    cur = 0  # the root alone is in bucket 0
    n = 0    # records queued, not yet sent
    while cur != NO_BUCKET:
        nsettled, max_push, dmin, first = search.light(cur, n)
        cur, n = search.heavy(cur, nsettled, max_push, dmin, first)
        _clear_settled(ws.settled, nsettled, ws.in_settled)
    return ws.dist, ws.parent


class _Search:
    """One search's steps. Each exchange round is one Alltoall of a small header (records
    per destination, and the flags and values the round must agree on), then, only when some
    rank has records, one Alltoallv of the records, with no separate count exchange and no
    vote: every rank reads every rank's header, so all reach the same decisions.

      light(cur) - rounds until bucket cur is empty everywhere with nothing in flight; a
                   rank relaxes its bucket as often as it refills locally before exchanging
                   (_light_step), so rounds are needed only for what crosses ranks. The
                   quiet round's headers also carry each rank's first non-empty bucket and
                   what the heavy phase needs to choose push or pull.
      heavy(cur) - push: relax the settled set's heavy entries; their records all land in
                   later buckets, so the last round's records are not sent now but travel
                   with the next bucket's first light round, and that round's header agrees
                   on the next bucket (a lower bound: the smallest of every rank's first
                   bucket and its unsent records' buckets; if those records improve nothing
                   the bucket is found empty in one quiet round). Pull: as before.
    """

    def __init__(self, ws):
        self.ws, self.comm = ws, ws.comm
        self.g = ws.graph
        p = self.g.part
        self.nranks = p.nranks
        self.args = (p.lo, p.hi, p.nranks, p.scale, p.shift)

    def pack(self, n):
        """Group the n queued records by destination (ws.counts, ws.send_i); returns the
        smallest distance among them."""
        ws = self.ws
        return _pack(n, ws.pdst, ws.pv, ws.pd, ws.pu, ws.counts, ws.cursor, ws.send_i,
                     ws.send_f)

    def agree(self, n, more, first, push, dmin):
        """Send this round's header to every rank (the records packed by pack()), return
        every rank's header (rows by rank)."""
        ws = self.ws
        h = ws.hdr_send
        h[:, _COUNT] = 3 * ws.counts
        h[:, _MORE] = more
        h[:, _SENT] = n > 0
        h[:, _FIRST] = first
        h[:, _PUSH] = push
        h[:, _DMIN] = dmin
        self.comm.Alltoall(h, ws.hdr_recv)
        return ws.hdr_recv

    def exchange(self, n, hdr, cur):
        """Send the packed records (counts known from the headers), apply what arrives."""
        ws = self.ws
        recv, rcounts = alltoallv_known(self.comm, ws.send_i[:3 * n], 3 * ws.counts,
                                        hdr[:, _COUNT], ws.recv_i)
        ws.recv_i = recv
        nt = _apply(recv, recv.view(np.float32), rcounts, ws.offsets, ws.dist, ws.parent,
                    ws.mark, ws.touched, 0)
        _rebucket(ws.touched, nt, ws.mark, ws.dist, 1.0 / ws.delta, cur, ws.nslots, ws.bits,
                  ws.count, ws.bkt)

    def light(self, cur, n):
        """Light phases of bucket cur (n records already queued). Returns (settled count,
        the busiest rank's push work, the smallest settled distance's bits, the next
        non-empty bucket), agreed by all ranks."""
        ws, g = self.ws, self.g
        lo, hi, nranks, scale, shift = self.args
        inv_delta, nslots = 1.0 / ws.delta, ws.nslots
        pos = nf = nsettled = 0
        while True:
            pos, nf, n, nsettled = _light_step(
                cur, nslots, inv_delta, ws.frontier, pos, nf, ws.settled, nsettled,
                ws.in_settled, g.rowptr, ws.heavy, ws.col, ws.weight, lo, hi, nranks, scale,
                shift, ws.offsets, ws.dist, ws.parent, ws.bits, ws.count, ws.bkt, ws.mark,
                ws.touched, ws.gval, ws.gtag, ws.ghost_mask, ws.tagged, ws.pdst, ws.pv,
                ws.pd, ws.pu, n, ws.capacity)
            more = pos < nf
            first = push = dmin = 0
            if not n and not more:   # quiet here: what the quiet round must carry
                first = _first_bucket(cur, nslots, ws.count)
                push, dm = _push_cost(g.rowptr, ws.settled, nsettled, ws.dist)
                # Non-negative float32s order like their bit patterns.
                dmin = int(np.float32(dm).view(np.int32))
            if nranks == 1:
                return nsettled, push, dmin, first
            self.pack(n)
            hdr = self.agree(n, more, first, push, dmin)
            if not hdr[:, _SENT].any():
                if not hdr[:, _MORE].any():   # quiet everywhere, nothing in flight
                    return (nsettled, int(hdr[:, _PUSH].max()), int(hdr[:, _DMIN].min()),
                            int(hdr[:, _FIRST].min()))
            else:
                self.exchange(n, hdr, cur)
            n = 0

    def heavy(self, cur, nsettled, max_push, dmin, first):
        """The heavy phase of bucket cur, pushed from the settled set or pulled by the
        vertices it could still improve. A push reads every heavy entry of the settled rows,
        each a random access to the target's distance. A pull replicates the settled
        distances (one Allgatherv of N floats) and sweeps the local block in order; rows
        sorted by weight let most vertices stop at their first heavy entry, so its cost is
        about one sequential access per vertex, plus the entries that can still improve a
        vertex (in the first buckets of a Kronecker graph, a fifth of what the push reads,
        measured). So pull when the busiest rank's push is large next to N plus the largest
        block. Returns (the next bucket, agreed, and the records queued for it)."""
        ws, g, comm = self.ws, self.g, self.comm
        lo, hi, nranks, scale, shift = self.args
        if max_push == 0:    # no settled vertex has an entry: nothing to relax
            return first, 0
        inv_delta, nslots = 1.0 / ws.delta, ws.nslots
        if ws.sdist is not None and max_push >= ws.pull_threshold:
            # Heavy edges have w >= wdelta, so nothing from the set lands below thr.
            dm = np.int32(dmin).view(np.float32)
            thr = np.float32(dm + ws.wdelta)
            _settled_view(ws.settled, nsettled, ws.dist, ws.sloc)
            gather_window(comm, ws.offsets, ws.sloc, 0, g.part.nglobal, ws.sdist)
            nt = _pull(g.rowptr, ws.heavy, ws.col, ws.weight, thr, dm, ws.sdist, ws.dist,
                       ws.parent, ws.mark, ws.touched)
            _rebucket(ws.touched, nt, ws.mark, ws.dist, inv_delta, cur, nslots, ws.bits,
                      ws.count, ws.bkt)
            ws.vote[0] = _first_bucket(cur, nslots, ws.count)
            comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
            return int(ws.agreed[0]), 0
        pos = 0
        while True:
            pos, n, nt = _relax(ws.settled, pos, nsettled, False, nslots, ws.heavy,
                                g.rowptr[1:], ws.col, ws.weight, lo, hi, nranks, scale, shift,
                                ws.offsets, ws.dist, ws.parent, ws.bits, ws.count, ws.bkt,
                                ws.mark, ws.touched, ws.gval, ws.gtag, ws.ghost_mask,
                                ws.tagged, ws.pdst, ws.pv, ws.pd, ws.pu, 0, ws.capacity)
            _rebucket(ws.touched, nt, ws.mark, ws.dist, inv_delta, cur, nslots, ws.bits,
                      ws.count, ws.bkt)
            more = pos < nsettled
            if nranks == 1:
                if more:
                    continue
                return _first_bucket(cur, nslots, ws.count), 0
            first = _first_bucket(cur, nslots, ws.count)
            dmin_rec = self.pack(n)
            if n:
                # Where the unsent records will land (the receiver clamps the same way).
                b = min(max(int(np.float64(dmin_rec) * inv_delta), cur), cur + nslots - 1)
                first = min(first, b)
            hdr = self.agree(n, more, first, 0, 0)
            if not hdr[:, _MORE].any():
                # The records of this last round travel with the next light round.
                return int(hdr[:, _FIRST].min()), n
            if hdr[:, _SENT].any():
                self.exchange(n, hdr, cur)


# --- memory estimate (used by graph500/memory.py) ---

def sssp_workspace_bytes(scale, edgefactor, nranks, delta=DEFAULT_DELTA, max_weight=1.0,
                         capacity=CAPACITY, ghost_slots=GHOST_SLOTS,
                         pull_max_vertices=PULL_MAX_VERTICES):
    """Bytes of one rank's SSSPWorkspace, its dist and parent outputs included (the
    workspace keeps them; every search reuses them).
    Kernel 1 hands over rows already sorted by weight, so no sorted copy is counted.
    Weights are uniform in [0, 1): max_weight 1 bounds the bucket array's slots."""
    from .construct import expected_entries, expected_max_degree, id_bytes, max_block_vertices
    n = max_block_vertices(scale, nranks)
    nglobal = 1 << scale
    ib = id_bytes(scale)
    # bkt 8, heavy 8, touched/frontier/settled 4 each, mark and in_settled 1 each
    per_vertex = (8 + 8 + 3 * 4 + 2) * n
    nslots = int(max_weight / delta) + 3
    buckets = nslots * ((n + 63) // 64) * 8 + nslots * 8
    slots = 1
    while slots < min(nglobal, ghost_slots):
        slots <<= 1
    ghost = 4 * slots + (ib * slots if slots < nglobal else 0)
    # the record queue holds at least one whole row: the longest row sizes it at large SCALE
    cap = max(1, expected_max_degree(scale, edgefactor),
              min(expected_entries(scale, edgefactor, nranks) // 32, capacity))
    records = cap * (4 * 4 + 2 * 3 * 4)     # pdst, pv, pd, pu; send and receive (3 words)
    pull = 4 * n + 4 * nglobal if nglobal <= pull_max_vertices else 0
    outputs = (4 + 8) * n
    return per_vertex + buckets + ghost + records + pull + outputs
