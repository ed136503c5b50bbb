"""Kernel 3: distributed single-source shortest paths by delta-stepping (Meyer and Sanders).

Returns, for the local block, dist[i] (float32) and parent[i] (int64 global id) of vertex
lo + i: dist[root] = 0, parent[root] = root; unreached vertices keep dist = inf, parent = -1.

Every relaxation computes float32(d[u] + w) in float32 arithmetic, exactly the sum the
validator recomputes, so each parent edge gives its child's distance bit for bit.

One search (all ranks step through the same sequence of collectives): bucket b holds the
active vertices with b*delta <= dist < (b+1)*delta. For the smallest bucket non-empty on
any rank:
  light phases - passes (_light_step, one per exchange round): the vertices drained from
                 the bucket relax their light edges (w < delta); improved vertices go back
                 into a bucket, possibly this one; repeat until this bucket is empty on
                 every rank;
  heavy phase  - every vertex settled in this bucket relaxes its heavy edges (w >= delta)
                 once, with its final distance.
A relaxation along a local edge offers the target at once; one to a remote vertex becomes a
record (vertex, distance, parent) for the owner, sent with one Alltoallv per round, and
offered there.

The schedule only orders the work. Correctness is that of any label-correcting method: a
vertex whose distance drops always goes back into a bucket and is relaxed again, so the loop
ends exactly when no edge can improve any distance. That state is the least fixed point
d(v) = min over paths of the left-to-right float32 sum (float32 addition is monotone), the
same for any number of ranks and any order of records: distances agree bit for bit across
runs. Bucket indices are clamped into the window [cur, cur + nslots) of the cyclic bucket
array, again only a change of schedule.

Parents, the same for any order (so for any ranks and threads): each vertex keeps a key,
(float32 bits of its distance, absorbed, parent's global id), and every offer is a key. A
proposal from u is strict when d(u) < float32(d(u) + w), absorbed when they are equal (a
weight of 0, or below half an ulp of d(u)). A strict proposal wins when its key is smaller:
a smaller distance, or an equal one from a smaller parent id (or replacing an absorbed
parent); an absorbed one only with a smaller distance (_propose_absorbed). Every vertex
relaxes its edges with its final distance at least once, and no offer at a vertex's final
distance is filtered out (the remote-distance cache passes equal values; a pull reads equal
weights), so a vertex with a strict candidate gets the smallest such parent id, whatever
the order. Only a vertex whose every candidate is absorbed keeps the absorbed parent that
first gave it its distance, which can depend on the order when it has two or more such
candidates (never seen on the benchmark's graphs: bench/sssp_ties.py counts 0-8 absorbed
entries per SCALE 22 search). Switching only to strict parents cannot close a cycle (a
chain of strict parents strictly decreases in distance), and an absorbed parent had its
distance before its child took it. Parents are read off the keys at the end of the search;
the parent id's 32 bits hold SCALE 32 at most.

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
  buckets - one bitmap over the local block per slot of a cyclic array of buckets and a
            count per slot (buckets.py): a vertex whose distance falls leaves the slot of
            its old distance's bucket and joins the new one's, two bit operations, and
            extracting a bucket yields its vertices in order, so the settled set's rows are
            pushed in memory order, their bounds kept beside it (_extract). Improvements of a
            push pass or of received records are only listed during it (a touched list)
            and placed in buckets after it: the relax loop stays small, and a vertex
            improved many times in a pass moves once (light passes move each improved
            vertex at once, see _light_run);
  ghost   - the smallest distance this rank has already sent for each remote vertex (a
            direct-mapped cache, tagged when N is larger than the cache): a record above an
            earlier one is never sent. Exact, since the owner's distance is already at most
            what was sent; it removes most of the remote traffic;
  records - at most `capacity` records are queued between exchanges, so a large frontier is
            relaxed over several rounds; every rank takes part in every round, and a small
            header each rank sends each other one (one Alltoall) says how many records follow
            and whether more rounds are needed and, once none are, which bucket is next
            (see _Search).
Records are three int32 words: the vertex's index in its owner's block, the float32 bits of
the distance, and the parent's index in the sender's block (the receiver adds the sender's
block offset), bitwise negated when the proposal is absorbed.

Threads: every pass over entries, records or vertices runs in chunks on all threads (see
"threads and atomics" below); distances and parents are the same for any thread count.

The per-edge loops call no Numba function that takes arrays: such a call costs reference
counting on each array, several times the relaxation itself (measured: 107 ns per call with
a dozen arrays, 36 ns for the same code written in place).
"""
import numpy as np
from mpi4py import MPI
import numba
from numba import njit, prange

from .bitmap import bit_index, lowest_bit, set_bit
from .buckets import NO_BUCKET, first_bucket, slot_of
from .construct import sort_rows_by_weight
from .exchange import alltoallv_known, chunk_starts, gather_window
from .intrinsics import (atomic_and, atomic_and_sc, atomic_min, atomic_min_sc, atomic_or,
                         bitcast, compare_and_swap, popcount, prefetch)
from .partition import owner

# Measured on the benchmark graph (uniform [0, 1) weights, edgefactor 16), SCALE 22 on 2 ranks:
# 0.01-0.03 is a plateau, 0.02 the best, 0.1 (the reference's) about 1.8 times slower. Small
# buckets keep the light phases from relaxing the same vertices over and over; the heavy
# edges this leaves are cheap, since the big heavy phases pull. Measured again once light
# phases ran one pass per exchange round (bench/sssp_delta.py 22 0.01 0.015 0.02 0.03 0.05
# --roots 8, 2 ranks x 1 thread, mean search): 0.01 1.10x the best, 0.015 the best, 0.02
# 1.03x, 0.03 1.15x, 0.05 1.45x; too close to move (an earlier sweep had 0.02 best). Again
# once pushes read the settled rows' bounds in order (bench/sssp_delta.py 22 0.01 0.015 0.02
# 0.025 --roots 8; 0.01 / 0.015 / 0.025 against the best): 1 rank x 1 thread 1.15 / 1.07 /
# 1.05 with 0.02 the best; 2 ranks x 1 thread 1.08 / 1.07 / 1.14, 0.02 the best; 1 rank x 2
# threads 1.07 / 1.00 / 1.17, 0.02 at 1.01.
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

# The header every rank sends every other rank in each exchange round (one Alltoall, which
# is also the round's agreement; see _Search): records (int32 words) for that rank, "has
# frontier left", "sent records", first non-empty bucket, push work (the settled rows'
# length).
_COUNT, _MORE, _SENT, _FIRST, _PUSH = range(5)
_HEADER = 5



# ---------------------------------------------------------------- keys and buckets

# key[v] = float32 bits of v's distance << 33 | absorbed << 32 | its parent's global id: the
# pair every relaxation lowers at once (atomically when threads share it), so that the
# smallest key is both the distance and the parent rule (see "parents" above).
_DS = np.uint64(33)
_ABS = np.uint64(1) << np.uint64(32)
_PID = np.uint64(0xFFFFFFFF)
_INF_BITS = np.uint64(0x7F800000)      # float32 +inf
_INF_KEY = _INF_BITS << _DS
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_NONE = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True)
def _clear(dist, key, bits, count, gval, gtag):
    """Everything a search starts from, cleared before the timer (the workspace's reset)."""
    dist[:] = np.inf
    key[:] = _INF_KEY
    bits[:, :] = 0
    count[:] = 0
    gval[:] = np.inf
    gtag[:] = -1


@njit(cache=True, nogil=True)
def _start(root, lo, hi, dist, key, bits, count):
    """The root alone, in bucket 0 (slot 0), its own parent."""
    if lo <= root < hi:
        r = root - lo
        dist[r] = 0.0
        key[r] = np.uint64(root)
        set_bit(bits[0], r)
        count[0] = 1


@njit(cache=True, nogil=True, inline="always")
def _mark(v, s, on, bits, count):
    """Vertex v into (on) or out of the bucket in slot s, if not there already."""
    i = v >> 6
    b = _ONE << np.uint64(v & 63)
    x = bits[s, i]
    if on and (x & b) == 0:
        bits[s, i] = x | b
        count[s] += 1
    elif not on and (x & b) != 0:
        bits[s, i] = x & ~b
        count[s] -= 1


@njit(cache=True, nogil=True, inline="always")
def _mark_shared(v, s, on, bitsf, nwords, dcount):
    """_mark for threads that share the buckets: the bit changed atomically in the flat view
    of bits (after a plain read that finds nothing to do), the count into this thread's own
    dcount row (added to count afterwards)."""
    i = s * nwords + (v >> 6)
    b = _ONE << np.uint64(v & 63)
    x = bitsf[i]
    if on and (x & b) == 0:
        if (atomic_or(bitsf, i, b) & b) == 0:
            dcount[s] += 1
    elif not on and (x & b) != 0:
        if (atomic_and(bitsf, i, ~b) & b) != 0:
            dcount[s] -= 1


@njit(cache=True, nogil=True, inline="always")
def _old_slot(odb, s, inv_delta, cur, cslot, nslots):
    """The slot of the bucket a vertex was in before its distance (float32 bits odb) fell
    to one in slot s, or -1 when there is none to leave (never reached, or the same slot).
    A vertex placed while its bucket lay beyond the window (slot_of clamps) may still sit in
    that other slot: it is relaxed there once more, with its distance then (only work)."""
    if odb == _INF_BITS:
        return -1
    so = slot_of(bitcast(np.uint32(odb), np.float32), inv_delta, cur, cslot, nslots)
    return -1 if so == s else so


@njit(cache=True, nogil=True)
def _propose_absorbed(key, v, kn, serial):
    """Offer vertex v the key kn of an absorbed proposal (float32(d(u) + w) == d(u), see
    "Parents" above): it wins only with a smaller distance, never on an equal one, so it
    takes a compare-and-swap loop where a strict proposal takes an atomic minimum (written
    in place at every call site: a strict key wins when smaller, so at an equal distance the
    smaller parent id). Rare: a call. Returns (won, the key it replaced). serial: no other
    thread shares key."""
    old = key[v]
    while (old >> _DS) > (kn >> _DS):
        if serial:
            key[v] = kn
            return True, old
        prev = compare_and_swap(key, v, old, kn)
        if prev == old:
            return True, old
        old = prev
    return False, old


@njit(cache=True, nogil=True)
def _extract(cur, nslots, bits, count, rowptr, heavy, lbits, sbits, frontier, flen, settled,
             nsettled, work, sbegin, slen):
    """Empty bucket cur (the cyclic bucket array, see buckets.py), in vertex order. Its
    vertices join the settled set (sbits, a bitmap) once, with their heavy rows (sbegin,
    slen: where a push reads them, in the order it reads them, instead of two random reads
    of heavy and rowptr per row then: 0.95x the search time on one rank, bench/sssp_ab.py
    22), and `work` (the settled rows' total length: what a push would read) grows by the
    rows of those that join it now. Those with light edges (lbits, see split_for) form the
    frontier of a light pass, and stay in the bucket until their row starts (_light_run): a
    pass lowering one of them before then finds it there already, and the row uses the
    lower distance; flen holds their light rows' lengths, in frontier order. Returns
    (frontier size, settled count, work)."""
    s = cur % nslots
    nf, nsettled, wk = _drain_words(bits[s], 0, bits.shape[1], rowptr, heavy, lbits, sbits,
                                    frontier, flen, 0, settled, nsettled, sbegin, slen)
    count[s] = nf
    return nf, nsettled, work + wk


@njit(cache=True, nogil=True)
def _drain_words(row, w0, w1, rowptr, heavy, lbits, sbits, frontier, flen, f, settled, q,
                 sbegin, slen):
    """_extract's work on the bucket's words row[w0:w1]: frontier vertices from frontier[f]
    on, new settled ones from settled[q] on. Returns (f, q, the new settled rows' length)
    after them. The bitmaps say, a word at a time, which vertices have anything to do (a
    light row, or new in the settled set; the others, settled before and without light
    edges, only leave the bucket); those are gathered a batch at a time, their row bounds
    prefetched, then handled: each costs a few random reads otherwise waited for one by
    one."""
    work = 0
    buf = np.empty(DRAIN_BATCH + 64, dtype=np.int64)
    w = w0
    while w < w1:
        nb = 0
        while w < w1 and nb < DRAIN_BATCH:
            x = row[w]
            if x != 0:
                lw = lbits[w]
                sw = sbits[w]
                row[w] = x & lw        # light rows stay until they start
                sbits[w] = sw | x
                y = x & (lw | ~sw)
                while y != 0:
                    low = lowest_bit(y)
                    v = (w << 6) + bit_index(low)
                    y ^= low
                    buf[nb] = (v << 1) | (1 if (sw & low) == 0 else 0)   # new: low bit
                    nb += 1
                    prefetch(heavy, v)
                    prefetch(rowptr, v + 1)
            w += 1
        for i in range(nb):
            v = buf[i] >> 1
            if buf[i] & 1:
                settled[q] = v
                sbegin[q] = heavy[v]
                slen[q] = rowptr[v + 1] - heavy[v]
                q += 1
                work += rowptr[v + 1] - rowptr[v]
            if heavy[v] > rowptr[v]:
                frontier[f] = v
                flen[f] = heavy[v] - rowptr[v]
                f += 1
    return f, q, work


# Vertices a drain gathers (and prefetches for) before handling them (_drain_words).
DRAIN_BATCH = 256


@njit(cache=True, nogil=True, parallel=True)
def _extract_par(nchunks, cur, nslots, bits, count, rowptr, heavy, lbits, sbits, frontier,
                 flen, settled, nsettled, work, sbegin, slen, cpart):
    """_extract on all threads, chunks of the bucket's words: each counts its frontier
    vertices and new settled ones from the bitmaps (words read in order), then drains its
    words into its places in both lists (after the chunks before it): the same lists, in
    the same order. Counting by each vertex's row bounds and settled flag, random reads
    as many as the drain's own, left the threaded drain only 1.2x as fast as one thread's
    (61 drains per SCALE 22 search, 101 ms at 2 threads against 122 ms for all drains on
    one); with bitmaps a search at 1 rank x 2 threads took 0.91x the time (bench/sssp_ab.py
    22 --roots 8)."""
    s = cur % nslots
    row = bits[s]
    nw = len(row)
    for c in prange(nchunks):
        nl = 0
        ns = 0
        for w in range(c * nw // nchunks, (c + 1) * nw // nchunks):
            x = row[w]
            if x != 0:
                nl += popcount(x & lbits[w])
                ns += popcount(x & ~sbits[w])
        cpart[c, 0] = nl
        cpart[c, 1] = ns
    nf = 0
    for c in range(nchunks):
        nl = cpart[c, 0]
        ns = cpart[c, 1]
        cpart[c, 0] = nf
        cpart[c, 1] = nsettled
        nf += nl
        nsettled += ns
    for c in prange(nchunks):
        cpart[c, 2] = _drain_words(row, c * nw // nchunks, (c + 1) * nw // nchunks, rowptr,
                                   heavy, lbits, sbits, frontier, flen, cpart[c, 0], settled,
                                   cpart[c, 1], sbegin, slen)[2]
    for c in range(nchunks):
        work += cpart[c, 2]
    count[s] = nf
    return nf, nsettled, work


@njit(cache=True, nogil=True)
def _clear_settled(settled, nsettled, sbits):
    """Empty the settled bitmap: every set bit belongs to a settled vertex, so each one's
    whole word is cleared."""
    for i in range(nsettled):
        sbits[settled[i] >> 6] = 0


@njit(cache=True, nogil=True)
def _light_bits(rowptr, heavy, lbits):
    """lbits: the rows with light entries (heavy[i] > rowptr[i]), one bit per vertex."""
    lbits[:] = 0
    for i in range(len(heavy)):
        if heavy[i] > rowptr[i]:
            lbits[i >> 6] |= _ONE << np.uint64(i & 63)


@njit(cache=True, nogil=True)
def _parents(a, b, key, parent):
    """The search's parents, read off the keys of vertices a..b (-1 where unreached)."""
    for v in range(a, b):
        k = key[v]
        parent[v] = -1 if (k >> _DS) == _INF_BITS else np.int64(k & _PID)


@njit(cache=True, nogil=True, parallel=True)
def _parents_par(nchunks, key, parent):
    n = len(key)
    for c in prange(nchunks):
        _parents(c * n // nchunks, (c + 1) * n // nchunks, key, parent)


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
def split_by_weight(rowptr, weight, delta, heavy):
    """heavy[i] = the first entry of row i with weight >= delta (rows sorted by weight).
    The 2-D kernel (sssp2d.py) splits its weight-sorted columns with it too."""
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


# ---------------------------------------------------------------- threads and atomics
#
# Every step that reads many entries runs on all threads, in chunks. Results cannot depend
# on the chunking or on the threads' timing, since the smallest key wins whatever the order
# of the offers (see "Parents" above); what threads change is only the schedule:
#   a light pass (_light_run) relaxes chunks of whole rows at once, Gauss-Seidel: each
#   lowering is an atomic minimum on key (the winner), then on dist's bits, then an atomic
#   bit in the new bucket (the old one's cleared), counts per chunk; a row that starts
#   reads the newest distance, after taking its vertex out of the bucket, so a lowering
#   that comes later puts it back for the next pass (sequentially consistent atomics order
#   the two threads' steps). Records are queued per chunk against the remote-distance cache
#   as it was when the pass began, and merged (the cache learning them) after it;
#   a push pass reads the distances as they were when it began (dist is written after
#   it) and offers keys with an atomic minimum; the offer that takes a key's distance below
#   dist (exactly one per vertex and pass) lists the vertex, which is settled and
#   re-bucketed after the pass by its chunk's thread (bucket words atomically, counts per
#   chunk: _place_par). Records for other ranks go through the cache as in a light pass;
#   received records are offered the same way; pulls, packing and the cost sums are per
#   vertex or per chunk, merged in chunk order.
# One thread runs the same code with plain writes (serial=True). Between passes, key's
# distance part equals dist.

# Prefetch distances (kernels/intrinsics.py prefetch) this many rows of a pass ahead, or
# entries of a row ahead: far enough to cover a miss, near enough to stay in the cache.
AHEAD_ROWS = 8
AHEAD_ENTRIES = 16

# Work (entries, records, vertices) below which a step runs on the calling thread: waking
# the pool costs more (the result is the same, see above).
PAR_MIN = 1 << 13


def thread_chunks(maxc, par_min):
    """How the threaded steps may chunk now (a workspace's par(), read by _nchunks): at most
    4 chunks per thread (load balance), within the maxc per-chunk slots; one chunk below
    par_min items, and always on one thread (the chunked steps' thread launches, atomics
    and per-chunk merges would be a cost per pass for nothing there; the result is the
    same)."""
    nthreads = numba.get_num_threads()
    return (min(maxc, 4 * nthreads) if nthreads > 1 else 1, par_min)


@njit(cache=True, nogil=True)
def _nchunks(work, par):
    """Chunks for `work` items; par = (at most this many chunks: the caller's 4 per thread,
    since numba's thread count read inside compiled code would keep it out of the cache,
    work below which one chunk: the workspace's par_min)."""
    if work < par[1]:
        return 1
    return max(1, min(par[0], work // max(1, par[1] // 4)))


@njit(cache=True, nogil=True)
def _place(tlist, a, b, key, dist, inv_delta, cur, nslots, bits, count):
    """The vertices tlist[a:b] (each listed once), whose keys a pass lowered: their
    distances read off the keys, and each moved into the bucket of its new distance."""
    cslot = cur % nslots
    for i in range(a, b):
        v = tlist[i]
        d = bitcast(np.uint32(key[v] >> _DS), np.float32)
        s = slot_of(d, inv_delta, cur, cslot, nslots)
        so = _old_slot(np.uint64(bitcast(dist[v], np.uint32)), s, inv_delta, cur, cslot, nslots)
        if so >= 0:
            _mark(v, so, False, bits, count)
        _mark(v, s, True, bits, count)
        dist[v] = d


@njit(cache=True, nogil=True, parallel=True)
def _place_par(nchunks, n, cnt, tlist, key, dist, inv_delta, cur, nslots, bits, count, dcount):
    """_place for chunk c's vertices tlist[c*n//nchunks:][:cnt[c, 1]] (the lists together
    name each vertex once), chunks on all threads: the bucket bitmaps' shared words take
    atomic bit operations, the counts per-chunk deltas added at the end. The same buckets."""
    cslot = cur % nslots
    nwords = bits.shape[1]
    bitsf = bits.reshape(-1)
    for c in prange(nchunks):
        d = dcount[c]
        d[:] = 0
        for i in range(c * n // nchunks, c * n // nchunks + cnt[c, 1]):
            v = tlist[i]
            dv = bitcast(np.uint32(key[v] >> _DS), np.float32)
            s = slot_of(dv, inv_delta, cur, cslot, nslots)
            so = _old_slot(np.uint64(bitcast(dist[v], np.uint32)), s, inv_delta, cur, cslot,
                           nslots)
            if so >= 0:
                _mark_shared(v, so, False, bitsf, nwords, d)
            _mark_shared(v, s, True, bitsf, nwords, d)
            dist[v] = dv
    for c in range(nchunks):
        for s in range(nslots):
            count[s] += dcount[c, s]


# ---------------------------------------------------------------- relaxation and records

@njit(cache=True, nogil=True, inline="always")
def row_of_entry(epre, nrows, e):
    """The row of a pass (rows numbered from 0, row i's first entry at epre[i]) that holds
    entry e: the last i < nrows with epre[i] <= e. A chunk of a pass starts there."""
    a = 0
    b = nrows
    while b - a > 1:
        m = (a + b) >> 1
        if epre[m] <= e:
            a = m
        else:
            b = m
    return a




@njit(cache=True, nogil=True, inline="always")
def _prefetch_target(j, begin, length, col, lo, hi, dist, key, gval, gmask):
    """Ask the cache for the state of the first target of a pass's row j (nothing when the
    row is empty)."""
    kb = begin[j]
    if length[j] > 0:
        x = col[kb]
        if lo <= x and x < hi:
            prefetch(dist, x - lo)
            prefetch(key, x - lo)
        else:
            prefetch(gval, x & gmask)


@njit(cache=True, nogil=True)
def _relax_run(e0, e1, frontier, epre, pos, end, begin, length, col, weight, lo, hi, nranks,
               scale, shift, offsets, dist, key, gval, gtag, gmask, tagged,
               pdst, pv, pd, pu, qbase, tbuf, serial):
    """Entries e0..e1 of a pass over frontier[pos:end] (entries numbered across the pass's
    rows, row i's first at epre[i - pos]): local targets offered keys (dist, read as it was
    when the pass began, is written after it), each vertex the pass lowers listed once at
    tbuf[e0:]; remote targets that the remote-distance cache does not rule out queued at
    qbase + e0 on. Returns (records, touched).
    serial: the whole pass runs on this thread (plain writes to key; the same result)."""
    if e0 >= e1:
        return 0, 0
    i = row_of_entry(epre, end - pos, e0)
    nr = 0
    nt = 0
    q = qbase + e0
    e = e0
    while e < e1:
        # Prefetch (see kernels/intrinsics.py): the row AHEAD_ROWS on gets its first target's
        # distance and key (a light row has one or two entries), the row twice as far its
        # entries; inside a long row, the target AHEAD_ENTRIES on.
        j = pos + i + AHEAD_ROWS
        if j < end:
            _prefetch_target(j, begin, length, col, lo, hi, dist, key, gval, gmask)
            prefetch(dist, frontier[j])
            if j + AHEAD_ROWS < end:
                kb = begin[j + AHEAD_ROWS]
                prefetch(col, kb)
                prefetch(weight, kb)
        u = frontier[pos + i]
        rb = begin[pos + i]
        k0 = rb + (e - epre[i])
        k1 = rb + min(length[pos + i], e1 - epre[i])
        du = dist[u]
        tie = np.uint64(lo + u)
        for k in range(k0, k1):
            if k + AHEAD_ENTRIES < k1:
                x = col[k + AHEAD_ENTRIES]
                if lo <= x and x < hi:
                    prefetch(dist, x - lo)
                else:
                    prefetch(gval, x & gmask)
            nd = du + weight[k]
            v = col[k]
            if lo <= v and v < hi:
                vl = v - lo
                dv = dist[vl]
                if nd <= dv:
                    nb = np.uint64(bitcast(nd, np.uint32))
                    absorbed = nd == du
                    kn = (nb << _DS) | tie | (_ABS if absorbed else _ZERO)
                    old = key[vl]
                    if absorbed:
                        won, old = _propose_absorbed(key, vl, kn, serial)
                    elif kn < old:   # strict: the smaller key wins
                        if serial:
                            key[vl] = kn
                        else:
                            old = atomic_min(key, vl, kn)
                        won = kn < old
                    else:
                        won = False
                    # the pass's first lowering of v lists it: the key it replaced still
                    # holds the distance the pass began with
                    if won and (old >> _DS) > nb and \
                            (old >> _DS) == np.uint64(bitcast(dv, np.uint32)):
                        tbuf[e0 + nt] = vl
                        nt += 1
            else:
                s = v & gmask
                if tagged:
                    if gtag[s] == v and nd > gval[s]:
                        continue
                elif nd > gval[s]:
                    continue
                r = owner(v, nranks, scale, shift)
                pdst[q + nr] = r
                pv[q + nr] = v - offsets[r]
                pd[q + nr] = nd
                pu[q + nr] = u if nd != du else ~u
                nr += 1
        e += k1 - k0
        i += 1
    return nr, nt


@njit(cache=True, nogil=True, parallel=True)
def _relax_par(nchunks, ne, frontier, epre, pos, end, begin, length, col, weight, lo, hi,
               nranks, scale, shift, offsets, dist, key, gval, gtag, gmask, tagged,
               pdst, pv, pd, pu, qbase, tbuf, cnt):
    for c in prange(nchunks):
        r, t = _relax_run(c * ne // nchunks, (c + 1) * ne // nchunks, frontier, epre, pos,
                          end, begin, length, col, weight, lo, hi, nranks, scale, shift,
                          offsets, dist, key, gval, gtag, gmask, tagged, pdst, pv, pd, pu,
                          qbase, tbuf, False)
        cnt[c, 0] = r
        cnt[c, 1] = t


@njit(cache=True, nogil=True)
def _merge(q, a, b, offsets, gval, gtag, gmask, tagged, pdst, pv, pd, pu):
    """A chunk's records pdst..pu[a:b] (those the remote-distance cache as it was when the
    pass began did not rule out), moved down to the queue's end q (never overlapping ahead)
    in entry order, each kept only if it is still not above the cache, which learns it: the
    queue is the same for any chunking. A record dropped here carries more than an earlier
    one to the same vertex (queued before it, or already sent), which the owner applies
    first or already has: dropping it changes nothing there, and saves packing, sending and
    applying the duplicates a pass finds (a hub's neighbours). Returns the queue's end."""
    for j in range(a, b):
        r = pdst[j]
        x = pv[j]
        d = pd[j]
        v = x + offsets[r]
        s = v & gmask
        if tagged:
            if gtag[s] == v:
                if d > gval[s]:
                    continue
            else:
                gtag[s] = v
        elif d > gval[s]:
            continue
        gval[s] = d
        pdst[q] = r
        pv[q] = x
        pd[q] = d
        pu[q] = pu[j]
        q += 1
    return q


@njit(cache=True, nogil=True)
def _pass_rows(length, pos, nf, n, cap, epre):
    """The rows a pass takes from pos on (row i has length[i] entries): whole rows while the
    record queue (n queued, room for cap) holds all their entries, one at least when the
    queue is empty. Fills epre[i - pos] with row i's first entry, numbered across the pass.
    Returns (the row after the last, the pass's entries)."""
    ne = 0
    i = pos
    epre[0] = 0
    while i < nf:
        ln = length[i]
        if n + ne + ln > cap and (n > 0 or i > pos):
            break
        ne += ln
        i += 1
        epre[i - pos] = ne
    return i, ne


@njit(cache=True, nogil=True)
def _pass(frontier, pos, nf, begin, length, n, cap, epre, cnt, col, weight, lo, hi,
          nranks, scale, shift, offsets, dist, key, gval, gtag, gmask, tagged,
          pdst, pv, pd, pu, tbuf, inv_delta, cur, nslots, bits, count, dcount, par):
    """One relaxation pass over the rows of frontier[i], i >= pos (length[i] entries from
    begin[i]: by place in the frontier, read in order), as many rows as
    the record queue (n queued) has room for, whole rows (one at least when the queue is
    empty). Returns (next pos, records queued); next pos == pos when the queue is full."""
    end, ne = _pass_rows(length, pos, nf, n, cap, epre)
    if end == pos:
        return pos, n
    nchunks = _nchunks(ne, par)
    if nchunks == 1:
        r, t = _relax_run(0, ne, frontier, epre, pos, end, begin, length, col, weight, lo, hi,
                          nranks, scale, shift, offsets, dist, key, gval, gtag, gmask, tagged,
                          pdst, pv, pd, pu, n, tbuf, True)
        cnt[0, 0] = r
        cnt[0, 1] = t
    else:
        _relax_par(nchunks, ne, frontier, epre, pos, end, begin, length, col, weight, lo, hi,
                   nranks, scale, shift, offsets, dist, key, gval, gtag, gmask, tagged,
                   pdst, pv, pd, pu, n, tbuf, cnt)
    q = n
    for c in range(nchunks):
        e0 = c * ne // nchunks
        q = _merge(q, n + e0, n + e0 + cnt[c, 0], offsets, gval, gtag, gmask, tagged,
                   pdst, pv, pd, pu)
    if nchunks == 1:
        _place(tbuf, 0, cnt[0, 1], key, dist, inv_delta, cur, nslots, bits, count)
    else:
        _place_par(nchunks, ne, cnt, tbuf, key, dist, inv_delta, cur, nslots, bits, count,
                   dcount)
    return end, q


@njit(cache=True, nogil=True)
def _light_run(i0, i1, frontier, rowptr, heavy, col, weight, lo, hi, nranks, scale, shift,
               offsets, dist, key, inv_delta, cur, nslots, bits, count, dcount,
               gval, gtag, gmask, tagged, pdst, pv, pd, pu, q, cap, serial):
    """Light rows of frontier[i0:i1], in order, each with its vertex's newest distance, read
    when the row starts (the vertex then leaves the bucket it stayed in since the drain: see
    _extract). A target whose distance falls moves into its new bucket at once, so a later
    row of the pass that it lowers uses the lower value (Gauss-Seidel; passes that read the
    distances as they began relaxed 1.39x the entries and took 1.26x the search time,
    bench/sssp_ab.py 22 on one rank). Records for other ranks are queued from q on.
    serial: the only thread; the remote-distance cache filters and learns as it goes, and
    the pass stops before a row the queue (cap) has no room for. Else threads share dist,
    key and the buckets (atomic updates, counts into dcount; see "threads and atomics") and
    the cache is only read (the caller merges the records). Returns (the row it stopped
    at, records queued)."""
    nr = 0
    cslot = cur % nslots
    nwords = bits.shape[1]
    bitsf = bits.reshape(-1)
    distu = dist.view(np.uint32)
    for i in range(i0, i1):
        # prefetch (as _relax_run): the row AHEAD_ROWS on gets its first target's distance
        # and key, the row twice as far its entries
        j = i + AHEAD_ROWS
        if j < i1:
            x = col[rowptr[frontier[j]]]
            if lo <= x and x < hi:
                prefetch(dist, x - lo)
                prefetch(key, x - lo)
            if j + AHEAD_ROWS < i1:
                kb = rowptr[frontier[j + AHEAD_ROWS]]
                prefetch(col, kb)
                prefetch(weight, kb)
                prefetch(dist, frontier[j + AHEAD_ROWS])
                if j + 2 * AHEAD_ROWS < i1:
                    y = frontier[j + 2 * AHEAD_ROWS]
                    prefetch(rowptr, y)
                    prefetch(heavy, y)
        u = frontier[i]
        if serial and q + nr + (heavy[u] - rowptr[u]) > cap and q + nr > 0:
            return i, nr   # the queue is full: exchange first
        # lowered into this bucket again since the drain, the row now relaxes with its
        # newest distance: out of the bucket (threads: a lowering after this read puts it
        # back, and the next pass relaxes it again)
        ub = _ONE << np.uint64(u & 63)
        x = bits[cslot, u >> 6]
        if (x & ub) != 0:
            if serial:
                bits[cslot, u >> 6] = x & ~ub
                count[cslot] -= 1
            # ordered before the read of dist[u]: a thread that lowers u after that read
            # finds the bit clear and sets it again (see "threads and atomics")
            elif (atomic_and_sc(bitsf, cslot * nwords + (u >> 6), ~ub) & ub) != 0:
                dcount[cslot] -= 1
        du = dist[u]
        tie = np.uint64(lo + u)
        for k in range(rowptr[u], heavy[u]):
            nd = du + weight[k]
            v = col[k]
            if lo <= v and v < hi:
                vl = v - lo
                if nd <= dist[vl]:
                    nb = np.uint64(bitcast(nd, np.uint32))
                    absorbed = nd == du
                    kn = (nb << _DS) | tie | (_ABS if absorbed else _ZERO)
                    old = key[vl]
                    if absorbed:
                        won, old = _propose_absorbed(key, vl, kn, serial)
                    elif kn < old:   # strict: the smaller key wins
                        if serial:
                            key[vl] = kn
                        else:
                            old = atomic_min(key, vl, kn)
                        won = kn < old
                    else:
                        won = False
                    if won and (old >> _DS) > nb:   # a lower distance: into its bucket
                        s = slot_of(nd, inv_delta, cur, cslot, nslots)
                        so = _old_slot(old >> _DS, s, inv_delta, cur, cslot, nslots)
                        if serial:
                            dist[vl] = nd
                            vb = _ONE << np.uint64(vl & 63)
                            wi = vl >> 6
                            if so >= 0:
                                x = bits[so, wi]
                                if (x & vb) != 0:
                                    bits[so, wi] = x & ~vb
                                    count[so] -= 1
                            x = bits[s, wi]
                            if (x & vb) == 0:
                                bits[s, wi] = x | vb
                                count[s] += 1
                        else:
                            # ordered before the bit's read: a row that has not started yet
                            # (its bit still set) reads this distance (see "threads and
                            # atomics")
                            atomic_min_sc(distu, vl, np.uint32(nb))
                            if so >= 0:
                                _mark_shared(vl, so, False, bitsf, nwords, dcount)
                            _mark_shared(vl, s, True, bitsf, nwords, dcount)
            else:
                # the remote-distance cache, written in place as in _merge (an inline helper
                # taking the cache's arrays, used by both, made the search 8-11 % slower:
                # bench/sssp_ab.py 21, 2 ranks)
                s = v & gmask
                if tagged:
                    if gtag[s] == v:
                        if nd > gval[s]:
                            continue
                    elif serial:
                        gtag[s] = v
                elif nd > gval[s]:
                    continue
                if serial:
                    gval[s] = nd
                r = owner(v, nranks, scale, shift)
                pdst[q + nr] = r
                pv[q + nr] = v - offsets[r]
                pd[q + nr] = nd
                pu[q + nr] = u if nd != du else ~u
                nr += 1
    return i1, nr


@njit(cache=True, nogil=True, parallel=True)
def _light_par(nchunks, pos, end, ne, frontier, epre, cfirst, rowptr, heavy, col, weight, lo,
               hi, nranks, scale, shift, offsets, dist, key, inv_delta, cur, nslots, bits,
               count, dcount, gval, gtag, gmask, tagged, pdst, pv, pd, pu, qbase, cnt):
    """A light pass's rows on all threads, in chunks of whole rows (a row's entries use one
    distance) of about equal entries; chunk c's records go from qbase + its first entry."""
    for c in range(nchunks):
        cfirst[c] = pos + (row_of_entry(epre, end - pos, c * ne // nchunks) if c > 0 else 0)
    cfirst[nchunks] = end
    for c in prange(nchunks):
        dcount[c, :] = 0
        cnt[c, 0] = _light_run(cfirst[c], cfirst[c + 1], frontier, rowptr, heavy, col, weight,
                               lo, hi, nranks, scale, shift, offsets, dist, key, inv_delta,
                               cur, nslots, bits, count, dcount[c], gval, gtag, gmask, tagged,
                               pdst, pv, pd, pu, qbase + epre[cfirst[c] - pos], 0, False)[1]
    for c in range(nchunks):
        for s in range(nslots):
            count[s] += dcount[c, s]


@njit(cache=True, nogil=True)
def _light_step(cur, nslots, inv_delta, pos, nf, frontier, settled, nsettled, lbits, sbits,
                work, rowptr, heavy, col, weight, lo, hi, nranks, scale, shift, offsets,
                dist, key, bits, count, dcount, gval, gtag, gmask, tagged,
                pdst, pv, pd, pu, n, cap, sbegin, slen, flen, epre, cnt, cfirst, cpart, par):
    """One light pass of bucket cur on this rank: the vertices drained from the bucket that
    have light edges (frontier[:nf], from frontier[pos] on when a full queue stopped the
    pass before; a new pass drains the bucket) relax their light rows (_light_run), as many
    as the record queue has room for. A vertex the pass lowers goes at once into its bucket
    (cur, or a later one), and waits there for the next pass, which comes after an exchange
    round.

    Why one pass per round rather than repeating until the bucket is empty here: a rank that
    finishes its part of a bucket before exchanging relaxes vertices whose distances the
    other ranks' records then lower, and relaxes them again. bench/sssp_ab.py 22 (2 ranks x
    1 thread) against repeating locally in Dijkstra's order (a heap): 0.68-0.76x the time
    at SCALE 20 and 22, and within 3 % on one rank (where passes need no exchange).

    Returns (pos, nf, records queued, settled count, settled rows' length: see _extract);
    pos < nf means the queue filled first."""
    if pos == nf:
        if count[cur % nslots] == 0:
            return pos, nf, n, nsettled, work
        nchunks = _nchunks(count[cur % nslots], par)
        if nchunks == 1:
            nf, nsettled, work = _extract(cur, nslots, bits, count, rowptr, heavy, lbits,
                                          sbits, frontier, flen, settled, nsettled, work,
                                          sbegin, slen)
        else:
            nf, nsettled, work = _extract_par(nchunks, cur, nslots, bits, count, rowptr, heavy,
                                              lbits, sbits, frontier, flen, settled, nsettled,
                                              work, sbegin, slen, cpart)
        pos = 0
    if _nchunks(nf - pos, par) == 1:   # few rows: on this thread, no pass layout needed
        end, nr = _light_run(pos, nf, frontier, rowptr, heavy, col, weight, lo, hi, nranks,
                             scale, shift, offsets, dist, key, inv_delta, cur, nslots, bits,
                             count, dcount[0], gval, gtag, gmask, tagged, pdst, pv, pd, pu, n,
                             cap, True)
        return end, nf, n + nr, nsettled, work
    end, ne = _pass_rows(flen, pos, nf, n, cap, epre)
    nchunks = _nchunks(ne, par)
    if nchunks == 1:
        n += _light_run(pos, end, frontier, rowptr, heavy, col, weight, lo, hi, nranks, scale,
                        shift, offsets, dist, key, inv_delta, cur, nslots, bits, count,
                        dcount[0], gval, gtag, gmask, tagged, pdst, pv, pd, pu, n, cap, True)[1]
    else:
        _light_par(nchunks, pos, end, ne, frontier, epre, cfirst, rowptr, heavy, col, weight,
                   lo, hi, nranks, scale, shift, offsets, dist, key, inv_delta, cur,
                   nslots, bits, count, dcount, gval, gtag, gmask, tagged, pdst, pv, pd, pu,
                   n, cnt)
        q = n
        for c in range(nchunks):
            e0 = epre[cfirst[c] - pos]
            q = _merge(q, n + e0, n + e0 + cnt[c, 0], offsets, gval, gtag, gmask, tagged,
                       pdst, pv, pd, pu)
        n = q
    return end, nf, n, nsettled, work


@njit(cache=True, nogil=True)
def _push_step(settled, pos, nsettled, begin, length, col, weight, lo, hi, nranks, scale, shift,
               offsets, dist, key, bits, count, dcount, epre, cnt, tbuf, gval, gtag,
               gmask, tagged, pdst, pv, pd, pu, n, cap, inv_delta, cur, nslots, par):
    """Heavy relaxations of the settled set from settled[pos] on (length[i] entries from
    begin[i]: _extract's sbegin and slen), until done or the record queue is full. Returns
    (next pos, records queued)."""
    while pos < nsettled:
        nxt, n = _pass(settled, pos, nsettled, begin, length, n, cap, epre, cnt, col,
                       weight, lo, hi, nranks, scale, shift, offsets, dist, key, gval,
                       gtag, gmask, tagged, pdst, pv, pd, pu, tbuf, inv_delta, cur, nslots,
                       bits, count, dcount, par)
        if nxt == pos:
            break
        pos = nxt
    return pos, n


@njit(cache=True, nogil=True)
def _pack_count(a, b, pdst, pd, out):
    out[:] = 0
    dmin = np.float32(np.inf)
    for i in range(a, b):
        out[pdst[i]] += 1
        dmin = min(dmin, pd[i])
    return dmin


@njit(cache=True, nogil=True)
def _pack_fill(a, b, pdst, pv, pd, pu, pos, send_i, send_f):
    """Records a..b into their destinations' groups, from pos[r] on (advanced)."""
    for i in range(a, b):
        r = pdst[i]
        j = pos[r]
        pos[r] = j + 1
        send_i[3 * j] = pv[i]
        send_f[3 * j + 1] = pd[i]
        send_i[3 * j + 2] = pu[i]


@njit(cache=True, nogil=True, parallel=True)
def _pack_par(nchunks, n, pdst, pv, pd, pu, ccounts, dmins, send_i, send_f):
    for c in prange(nchunks):
        dmins[c] = _pack_count(c * n // nchunks, (c + 1) * n // nchunks, pdst, pd, ccounts[c])
    pos, totals = chunk_starts(ccounts[:nchunks])
    for c in prange(nchunks):
        _pack_fill(c * n // nchunks, (c + 1) * n // nchunks, pdst, pv, pd, pu, pos[c],
                   send_i, send_f)
    return totals


@njit(cache=True, nogil=True)
def _pack(n, pdst, pv, pd, pu, counts, ccounts, dmins, send_i, send_f, par):
    """Group the queued records by destination rank (count, prefix sum, fill; the chunks'
    records in queue order within a destination: the buffer is the serial one).
    Sets counts; returns the smallest distance the records carry (inf for none)."""
    nchunks = _nchunks(n, par)
    if nchunks == 1:
        dmin = _pack_count(0, n, pdst, pd, counts)
        cursor = ccounts[0]
        c = 0
        for r in range(len(counts)):
            cursor[r] = c
            c += counts[r]
        _pack_fill(0, n, pdst, pv, pd, pu, cursor, send_i, send_f)
        return dmin
    counts[:] = _pack_par(nchunks, n, pdst, pv, pd, pu, ccounts, dmins, send_i, send_f)
    return dmins[:nchunks].min()




@njit(cache=True, nogil=True)
def _apply_run(j0, j1, rstart, offsets, recv_i, recv_f, dist, key, tbuf, serial):
    """Records j0..j1 (the senders' groups start at rstart): each offers its key (distance,
    the parent's global id, absorbed when the parent's word is negative) as a relaxation
    does; each vertex they lower listed once at tbuf[j0:]. dist, read as it was before, is
    written after. Returns the touched count."""
    if j0 >= j1:
        return 0
    r = np.searchsorted(rstart, j0, side="right") - 1
    nt = 0
    for j in range(j0, j1):
        # the targets are random: ask for a later record's distance and key now (as the
        # relaxation loops do), so that the misses overlap
        if j + AHEAD_ENTRIES < j1:
            x = recv_i[3 * (j + AHEAD_ENTRIES)]
            prefetch(dist, x)
            prefetch(key, x)
        while j >= rstart[r + 1]:
            r += 1
        v = recv_i[3 * j]
        nd = recv_f[3 * j + 1]
        dv = dist[v]
        if nd <= dv:
            x = recv_i[3 * j + 2]
            absorbed = x < 0
            p = offsets[r] + (~x if absorbed else x)
            nb = np.uint64(bitcast(nd, np.uint32))
            kn = (nb << _DS) | np.uint64(p) | (_ABS if absorbed else _ZERO)
            old = key[v]
            if absorbed:
                won, old = _propose_absorbed(key, v, kn, serial)
            elif kn < old:   # strict: the smaller key wins
                if serial:
                    key[v] = kn
                else:
                    old = atomic_min(key, v, kn)
                won = kn < old
            else:
                won = False
            if won and (old >> _DS) > nb and (old >> _DS) == np.uint64(bitcast(dv, np.uint32)):
                tbuf[j0 + nt] = v
                nt += 1
    return nt


@njit(cache=True, nogil=True, parallel=True)
def _apply_par(nchunks, nrec, rstart, offsets, recv_i, recv_f, dist, key, tbuf, cnt):
    for c in prange(nchunks):
        cnt[c, 1] = _apply_run(c * nrec // nchunks, (c + 1) * nrec // nchunks, rstart, offsets,
                               recv_i, recv_f, dist, key, tbuf, False)


@njit(cache=True, nogil=True)
def _apply(recv_i, recv_f, recvcounts, offsets, dist, key, tbuf, cnt, inv_delta, cur, nslots,
           bits, count, dcount, par):
    """Apply the received records (the smallest key wins, whatever their order) and place
    what they lowered."""
    nranks = len(recvcounts)
    rstart = np.zeros(nranks + 1, dtype=np.int64)   # records per sender, prefix sums
    for r in range(nranks):
        rstart[r + 1] = rstart[r] + recvcounts[r] // 3
    nrec = rstart[nranks]
    nchunks = _nchunks(nrec, par)
    if nchunks == 1:
        nt = _apply_run(0, nrec, rstart, offsets, recv_i, recv_f, dist, key, tbuf, True)
        _place(tbuf, 0, nt, key, dist, inv_delta, cur, nslots, bits, count)
        return
    _apply_par(nchunks, nrec, rstart, offsets, recv_i, recv_f, dist, key, tbuf, cnt)
    _place_par(nchunks, nrec, cnt, tbuf, key, dist, inv_delta, cur, nslots, bits, count, dcount)


@njit(cache=True, nogil=True)
def _settled_view(settled, nsettled, dist, out, par):
    """The local block's distances on the settled set, inf elsewhere. Returns the smallest
    of them (inf when the set is empty)."""
    nchunks = _nchunks(len(out) + nsettled, par)
    if nchunks > 1:
        return _settled_view_par(nchunks, settled, nsettled, dist, out)
    out[:] = np.inf
    dm = np.float32(np.inf)
    for i in range(nsettled):
        v = settled[i]
        out[v] = dist[v]
        dm = min(dm, dist[v])
    return dm


@njit(cache=True, nogil=True, parallel=True)
def _settled_view_par(nchunks, settled, nsettled, dist, out):
    n = len(out)
    for c in prange(nchunks):
        for v in range(c * n // nchunks, (c + 1) * n // nchunks):
            out[v] = np.inf
    mins = np.empty(nchunks, dtype=np.float32)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        dm = np.float32(np.inf)
        for i in range(c * nsettled // nchunks, (c + 1) * nsettled // nchunks):
            v = settled[i]
            out[v] = dist[v]
            dm = min(dm, dist[v])
        mins[c] = dm
    return mins.min()


@njit(cache=True, nogil=True)
def _pull_run(a, b, rowptr, heavy, col, weight, thr, dmin, sdist, dist, key, touched):
    nt = 0
    for v in range(a, b):
        # Prefetch the settled distance of the first heavy neighbour AHEAD_ROWS vertices
        # on: most vertices read only that one (rows sorted by weight, see below); and,
        # twice as far, that entry itself, which the first prefetch reads.
        y = v + 2 * AHEAD_ROWS
        if y < b:
            prefetch(col, heavy[y])
            prefetch(weight, heavy[y])
        x = v + AHEAD_ROWS
        if x < b and dist[x] >= thr and heavy[x] < rowptr[x + 1]:
            prefetch(sdist, col[heavy[x]])
        dv = dist[v]
        if dv < thr:
            continue
        best = dv
        bk = _NONE   # the best key found (v's own is read only on an equal distance)
        for k in range(heavy[v], rowptr[v + 1]):
            w = weight[k]
            if dmin + w > best:
                break
            u = col[k]
            su = sdist[u]
            nd = su + w
            if nd < best:
                bk = (np.uint64(bitcast(nd, np.uint32)) << _DS) | np.uint64(u) | \
                    (_ABS if nd == su else _ZERO)
                best = nd
            elif nd == best and nd != su and nd < np.inf:   # a strict tie: smaller id wins
                kn = (np.uint64(bitcast(nd, np.uint32)) << _DS) | np.uint64(u)
                if bk == _NONE:
                    bk = key[v]
                if kn < bk:
                    bk = kn
        if bk != _NONE and (best < dv or bk < key[v]):
            key[v] = bk
            if best < dv:   # dist follows in _place
                touched[a + nt] = v
                nt += 1
    return nt


@njit(cache=True, nogil=True, parallel=True)
def _pull_par(nchunks, nv, rowptr, heavy, col, weight, thr, dmin, sdist, dist, key, touched,
              cnt):
    for c in prange(nchunks):
        cnt[c, 1] = _pull_run(c * nv // nchunks, (c + 1) * nv // nchunks, rowptr, heavy, col,
                              weight, thr, dmin, sdist, dist, key, touched)


@njit(cache=True, nogil=True)
def _pull(nv, rowptr, heavy, col, weight, thr, dmin, sdist, dist, key, touched, cnt,
          inv_delta, cur, nslots, bits, count, dcount, par):
    """The heavy phase turned around: every local vertex v that a heavy edge from the
    settled set could still reach at its distance or below (dist >= thr) reads its own heavy
    entries against the settled distances of all vertices (sdist, inf off the set), in
    increasing weight, up to the first weight w with float32(dmin + w) above its best so
    far: no settled u (d(u) >= dmin) can offer v anything along that edge or any heavier
    one. The same keys as pushing, minus those that provably cannot win, and no records.
    Each vertex reads only its own row and writes only itself: chunks of vertices run on
    all threads."""
    nchunks = _nchunks(nv, par)
    if nchunks == 1:
        cnt[0, 1] = _pull_run(0, nv, rowptr, heavy, col, weight, thr, dmin, sdist, dist, key,
                              touched)
        _place(touched, 0, cnt[0, 1], key, dist, inv_delta, cur, nslots, bits, count)
    else:
        _pull_par(nchunks, nv, rowptr, heavy, col, weight, thr, dmin, sdist, dist, key,
                  touched, cnt)
        _place_par(nchunks, nv, cnt, touched, key, dist, inv_delta, cur, nslots, bits, count,
                   dcount)


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
                 pull_ratio=PULL_RATIO, par_min=PAR_MIN):
        if graph.weight is None:
            raise ValueError("SSSP needs edge weights: build the graph with weights")
        if not delta > 0:
            raise ValueError("delta must be positive")
        part = graph.part
        n = part.nlocal
        if n >= 1 << 31:
            raise ValueError("a rank's block must hold fewer than 2^31 vertices")
        if part.nglobal > 1 << 32:
            raise ValueError("the 1-D SSSP kernel keeps parent ids in 32 bits: SCALE 32 at "
                             "most (--layout 2d has no such limit)")
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
        # (float32 bits of dist, absorbed, parent): what relaxations lower ("Parents" above)
        self.key = np.empty(n, dtype=np.uint64)
        self.touched = np.empty(m, dtype=np.int32)
        self.frontier = np.empty(m, dtype=np.int32)
        self.settled = np.empty(m, dtype=np.int32)
        # each settled vertex's heavy row, by place in the settled set (see _extract)
        self.sbegin = np.empty(m, dtype=np.int64)
        # (int32 where every row fits: 4 bytes a vertex less)
        self.slen = np.empty(m, dtype=np.int32 if maxdeg < 1 << 31 else np.int64)
        self.flen = np.empty(m, dtype=self.slen.dtype)   # the frontier's light rows' lengths
        self.sbits = np.zeros(self.nwords, dtype=np.uint64)   # settled in this bucket
        self.lbits = np.empty(self.nwords, dtype=np.uint64)   # rows with light entries
        self.bits = np.empty((0, self.nwords), dtype=np.uint64)
        self.count = np.empty(0, dtype=np.int64)
        self.dcount = np.empty((0, 0), dtype=np.int64)
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
        # Per-chunk parts of the threaded steps (at most 4 chunks per thread).
        maxc = 4 * numba.config.NUMBA_NUM_THREADS
        # a push pass's row starts
        self.epre = np.empty(m + 1, dtype=np.int64)
        self.cnt = np.zeros((maxc, 2), dtype=np.int64)    # records, touched per chunk
        self.cfirst = np.zeros(maxc + 1, dtype=np.int64)  # a light pass's chunks' rows
        self.cpart = np.zeros((maxc, 3), dtype=np.int64)  # a drain's chunks' counts
        self.ccounts = np.zeros((maxc, part.nranks), dtype=np.int64)
        self.dmins = np.empty(maxc, dtype=np.float32)
        self.par_min = int(par_min)
        # Touched vertices of a pass (by entry) or of received records (by record).
        self.tbuf = np.empty(max(cap, m), dtype=np.int32)
        # One row per rank of the round's header (see _Search.agree), sent and received.
        self.hdr_send = np.zeros((part.nranks, _HEADER), dtype=np.int64)
        self.hdr_recv = np.zeros((part.nranks, _HEADER), dtype=np.int64)
        self.vote = np.zeros(1, dtype=np.int64)
        self.agreed = np.zeros(1, dtype=np.int64)
        self.dlocal = np.zeros(1, dtype=np.float32)    # a pull's smallest settled distance
        self.dglobal = np.zeros(1, dtype=np.float32)
        # Both the replicated settled distances and the sweep over the local block cost
        # about one sequential access per vertex; a push costs a random access per entry.
        self.pull_threshold = (part.nglobal + int(np.diff(part.offsets).max())) / pull_ratio
        if part.nglobal <= pull_max_vertices:
            # (one rank writes its view straight into the copy)
            self.sloc = np.empty(n if part.nranks > 1 else 0, dtype=np.float32)
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
        _clear(self.dist, self.key, self.bits, self.count, self.gval, self.gtag)
        self.sbits[:] = 0   # empty after every bucket; a search cut short may leave bits
        self.clean = True

    def _compile_exchange_path(self):
        """Compile (or load from the cache) the record pack/apply steps now, with no records:
        one rank never calls them, so the driver's single-rank warm-up would not, and the
        first multi-rank search would pay for them inside its timed region."""
        par = self.par()
        _pack(0, self.pdst, self.pv, self.pd, self.pu, self.counts, self.ccounts, self.dmins,
              self.send_i, self.send_f, par)
        _apply(self.recv_i, self.recv_i.view(np.float32), self.counts, self.offsets,
               self.dist, self.key, self.tbuf, self.cnt, 1.0, 0, self.nslots, self.bits,
               self.count, self.dcount, par)
        # The heavy phase's steps too: a warm-up on a tiny graph may never push or pull.
        g, p = self.graph, self.graph.part
        _push_step(self.settled, 0, 0, self.sbegin, self.slen, self.col, self.weight, p.lo,
                   p.hi, p.nranks, p.scale, p.shift, self.offsets, self.dist, self.key,
                   self.bits, self.count, self.dcount, self.epre, self.cnt, self.tbuf,
                   self.gval, self.gtag, self.ghost_mask, self.tagged, self.pdst, self.pv,
                   self.pd, self.pu, 0, self.capacity, 1.0, 0, self.nslots, par)
        if self.sdist is not None:
            _settled_view(self.settled, 0, self.dist, self.sloc, par)
            _pull(0, g.rowptr, self.heavy, self.col, self.weight, np.float32(0),
                  np.float32(0), self.sdist, self.dist, self.key, self.touched, self.cnt, 1.0,
                  0, self.nslots, self.bits, self.count, self.dcount, par)

    def par(self):
        return thread_chunks(len(self.cnt), self.par_min)

    def nbytes(self):
        """Bytes held beyond the graph itself (the sorted rows count when they are a copy)."""
        g = self.graph
        shared = {id(self.send_f), id(g.col), id(g.weight)}  # views, or the graph's own
        return sum(a.nbytes for a in vars(self).values()
                   if isinstance(a, np.ndarray) and id(a) not in shared)

    def split_for(self, wdelta):
        """Where each row's heavy part starts, for this delta (float32 like the weights)."""
        if self.split_delta != wdelta:
            split_by_weight(self.graph.rowptr, self.weight, wdelta, self.heavy)
            _light_bits(self.graph.rowptr, self.heavy, self.lbits)
            self.split_delta = wdelta

    def slots_for(self, delta):
        """Records land at most max_weight/delta + 2 buckets ahead of the current one (the
        sender's distance is below the end of its bucket); one slot more absorbs rounding."""
        nslots = int(self.max_weight / delta) + 3
        if len(self.count) != nslots:
            self.bits = np.empty((nslots, self.nwords), dtype=np.uint64)
            self.count = np.empty(nslots, dtype=np.int64)
            self.dcount = np.empty((len(self.cnt), nslots), dtype=np.int64)
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
    _start(np.int64(root), part.lo, part.hi, ws.dist, ws.key, ws.bits, ws.count)
    search = _Search(ws)
    cur = 0  # the root alone is in bucket 0
    n = 0    # records queued, not yet sent
    while cur != NO_BUCKET:
        nsettled, max_push, first = search.light(cur, n)
        cur, n = search.heavy(cur, nsettled, max_push, first)
        _clear_settled(ws.settled, nsettled, ws.sbits)
    nchunks = _nchunks(len(ws.key), search.par)
    if nchunks == 1:
        _parents(0, len(ws.key), ws.key, ws.parent)
    else:
        _parents_par(nchunks, ws.key, ws.parent)
    return ws.dist, ws.parent


class _Search:
    """One search's steps. Each exchange round is one Alltoall of a small header (records
    per destination, and the flags and values the round must agree on), then, only when some
    rank has records, one Alltoallv of the records, with no separate count exchange and no
    vote: every rank reads every rank's header, so all reach the same decisions.

      light(cur) - rounds until bucket cur is empty everywhere with nothing in flight; a
                   rank makes one light pass per round (_light_step says why), and a rank
                   whose pass left work sets "more" even when it sent nothing. The
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
        self.par = ws.par()

    def pack(self, n):
        """Group the n queued records by destination (ws.counts, ws.send_i); returns the
        smallest distance among them."""
        ws = self.ws
        return _pack(n, ws.pdst, ws.pv, ws.pd, ws.pu, ws.counts, ws.ccounts, ws.dmins,
                     ws.send_i, ws.send_f, self.par)

    def agree(self, n, more, first, push):
        """Send this round's header to every rank (the records packed by pack()), return
        every rank's header (rows by rank)."""
        ws = self.ws
        h = ws.hdr_send
        h[:, _COUNT] = 3 * ws.counts
        h[:, _MORE] = more
        h[:, _SENT] = n > 0
        h[:, _FIRST] = first
        h[:, _PUSH] = push
        self.comm.Alltoall(h, ws.hdr_recv)
        return ws.hdr_recv

    def exchange(self, n, hdr, cur):
        """Send the packed records (counts known from the headers), apply what arrives."""
        ws = self.ws
        recv, rcounts = alltoallv_known(self.comm, ws.send_i[:3 * n], 3 * ws.counts,
                                        hdr[:, _COUNT], ws.recv_i)
        ws.recv_i = recv
        if len(ws.tbuf) < len(recv) // 3:   # touched are listed by record (rare growth)
            ws.tbuf = np.empty(len(recv) // 3, dtype=np.int32)
        _apply(recv, recv.view(np.float32), rcounts, ws.offsets, ws.dist, ws.key, ws.tbuf,
               ws.cnt, 1.0 / ws.delta, cur, ws.nslots, ws.bits, ws.count, ws.dcount, self.par)

    def light(self, cur, n):
        """Light phases of bucket cur (n records already queued). Returns (settled count,
        the busiest rank's push work, the next non-empty bucket), agreed by all ranks."""
        ws, g = self.ws, self.g
        lo, hi, nranks, scale, shift = self.args
        inv_delta, nslots = 1.0 / ws.delta, ws.nslots
        pos = nf = nsettled = work = 0
        while True:
            pos, nf, n, nsettled, work = _light_step(
                cur, nslots, inv_delta, pos, nf, ws.frontier, ws.settled, nsettled,
                ws.lbits, ws.sbits, work, g.rowptr, ws.heavy, ws.col, ws.weight, lo, hi, nranks,
                scale, shift, ws.offsets, ws.dist, ws.key, ws.bits, ws.count,
                ws.dcount, ws.gval, ws.gtag, ws.ghost_mask, ws.tagged, ws.pdst, ws.pv, ws.pd,
                ws.pu, n, ws.capacity, ws.sbegin, ws.slen, ws.flen, ws.epre, ws.cnt, ws.cfirst,
                ws.cpart, self.par)
            # the pass stopped at a full queue, or left vertices for the next pass
            more = pos < nf or ws.count[cur % nslots] > 0
            first = 0
            if not n and not more:   # quiet here: what the quiet round must carry
                first = first_bucket(cur, nslots, ws.count)
            if nranks == 1:
                if more:
                    continue
                return nsettled, work, first
            self.pack(n)
            hdr = self.agree(n, more, first, work)
            if not hdr[:, _SENT].any():
                if not hdr[:, _MORE].any():   # quiet everywhere, nothing in flight
                    return nsettled, int(hdr[:, _PUSH].max()), int(hdr[:, _FIRST].min())
            else:
                self.exchange(n, hdr, cur)
            n = 0

    def heavy(self, cur, nsettled, max_push, first):
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
            # The smallest settled distance anywhere (only pulls need it); heavy edges have
            # w >= wdelta, so nothing from the set lands below thr.
            if nranks == 1:   # the local view is the whole copy: no gather, no sweep
                dm = _settled_view(ws.settled, nsettled, ws.dist, ws.sdist, self.par)
            else:
                ws.dlocal[0] = _settled_view(ws.settled, nsettled, ws.dist, ws.sloc, self.par)
                gather_window(comm, ws.offsets, ws.sloc, 0, g.part.nglobal, ws.sdist)
                # one small collective rather than a one-thread sweep of the N gathered
                # floats on every rank (2^27 of them at the largest pulling SCALE)
                comm.Allreduce(ws.dlocal, ws.dglobal, op=MPI.MIN)
                dm = ws.dglobal[0]
            thr = np.float32(dm + ws.wdelta)
            _pull(len(ws.dist), g.rowptr, ws.heavy, ws.col, ws.weight, thr, dm, ws.sdist,
                  ws.dist, ws.key, ws.touched, ws.cnt, inv_delta, cur, nslots, ws.bits,
                  ws.count, ws.dcount, self.par)
            ws.vote[0] = first_bucket(cur, nslots, ws.count)
            comm.Allreduce(ws.vote, ws.agreed, op=MPI.MIN)
            return int(ws.agreed[0]), 0
        pos = 0
        while True:
            pos, n = _push_step(ws.settled, pos, nsettled, ws.sbegin, ws.slen, ws.col,
                                ws.weight, lo, hi, nranks, scale, shift, ws.offsets, ws.dist,
                                ws.key, ws.bits, ws.count, ws.dcount, ws.epre, ws.cnt,
                                ws.tbuf, ws.gval, ws.gtag, ws.ghost_mask, ws.tagged, ws.pdst,
                                ws.pv, ws.pd, ws.pu, 0, ws.capacity, inv_delta, cur, nslots,
                                self.par)
            more = pos < nsettled
            if nranks == 1:
                if more:
                    continue
                return first_bucket(cur, nslots, ws.count), 0
            first = first_bucket(cur, nslots, ws.count)
            dmin_rec = self.pack(n)
            if n:
                # Where the unsent records will land (the receiver clamps the same way).
                b = min(max(int(np.float64(dmin_rec) * inv_delta), cur), cur + nslots - 1)
                first = min(first, b)
            hdr = self.agree(n, more, first, 0)
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
    nslots = int(max_weight / delta) + 3
    # heavy 8, key 8, pass row starts 8, touched/frontier/settled 4 each, the settled rows'
    # starts 8 and lengths 4, the frontier's light lengths 4
    per_vertex = (8 + 8 + 8 + 3 * 4 + 12 + 4) * n
    # a bitmap per slot and a count; the settled and light-row bitmaps
    buckets = (nslots + 2) * ((n + 63) // 64) * 8 + nslots * 8
    slots = 1
    while slots < min(nglobal, ghost_slots):
        slots <<= 1
    ghost = 4 * slots + (ib * slots if slots < nglobal else 0)
    # the record queue holds at least one whole row: the longest row sizes it at large SCALE
    cap = max(1, expected_max_degree(scale, edgefactor),
              min(expected_entries(scale, edgefactor, nranks) // 32, capacity))
    # pdst, pv, pd, pu; send and receive (3 words); the touched list of a pass (by entry)
    records = cap * (4 * 4 + 2 * 3 * 4) + 4 * max(cap, n)
    pull = (4 * n if nranks > 1 else 0) + 4 * nglobal if nglobal <= pull_max_vertices else 0
    outputs = (4 + 8) * n
    return per_vertex + buckets + ghost + records + pull + outputs
