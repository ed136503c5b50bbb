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

Threads, results the same for any thread count (sssp.py's "threads and atomics" in 2-D form):
every step over entries, records or vertices runs in chunks on all threads above a cut-off
(the workspace's par_min; below it one chunk on the calling thread, same code, same result):
  relax  - a pass is whole columns whose entries fit in the queue's room (a function of the
           column lengths and the queue, never of the threads); each chunk of its entries
           queues, into its own slice, the proposals that beat the ghost cache as it was
           when the pass began (read only); the merge then walks the chunks in order and
           applies the cache exactly as one thread in entry order would, moving the kept
           proposals down: the queue is the same for any chunking;
  pack   - counts per (chunk, destination), then each chunk fills its own slots;
  apply  - the received proposals are grouped by ranges of the local block, in receive
           order inside a range, and each range is applied by one thread in that order:
           every vertex sees its proposals in the order one thread would (the tie parent
           is order-dependent), and no two threads touch one vertex;
  unpack, extract and the settled set's words are per item.
A pass on one thread with an untagged cache filters as it relaxes (_relax_serial, the same
queue). The merge is serial: at P = 1 most proposals pass the pre-filter (the cache says
little before the first exchange), so there the relaxation hardly spreads over threads
(bench/sssp2d_phases.py, SCALE 18: _relax wall about equal to its CPU time at 2 threads,
_apply 2.7x faster); grouping the proposals by cache slot, as _apply groups by vertex,
would thread it.

Heavy phases always push here: a pull (sssp.py's) replicates the settled distances of all
N vertices on every rank, which is exactly the N-sized gather this layout exists to avoid;
the 2-D equivalent would gather N/C distances along the column per heavy phase, more bytes
than the settled set's (vertex, distance) words whenever the set is under N/(2C) vertices,
which it is for all but the first buckets.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .bitmap import set_bit
from .buckets import (NO_BUCKET, drain_bucket, first_bucket, move_to_bucket, slot_array,
                      slot_dtype, slot_of)
from .exchange import alltoallv_known, chunk_starts, mpi_type
from .intrinsics import prefetch
from .partition import owner
from .sssp import AHEAD_ENTRIES, PAR_MIN, _nchunks, row_of_entry, split_by_weight, thread_chunks
from .sssp import DEFAULT_DELTA as DEFAULT_DELTA_1D

# Bucket width: the 1-D kernel's. bench/sssp2d_bench.py (2-D TEPS and median search time per
# delta, 3 roots, one thread per rank; this 2-core machine, so 4 ranks oversubscribe it):
#   SCALE 21, 2 ranks (grid 1 x 2): 0.01 0.842 s, 0.015 0.839, 0.02 0.875, 0.03 0.885,
#     0.05 1.111, 0.1 1.200, 0.2 1.411, 0.5 2.121 (1389 collectives per search at 0.01,
#     783 at 0.02, 110 at 0.5); 1 rank x 2 threads: 0.01 0.887, 0.02 0.874, 0.05 0.990,
#     0.5 1.981;
#   SCALE 19, 4 ranks (2 x 2): 0.02 0.244 s, 0.05 0.232, 0.1 0.251, 0.5 0.360;
#   SCALE 20, 4 ranks: 0.02 0.412 s, 0.03 0.394, 0.05 0.414, 0.1 0.436, 0.5 0.670.
# A wider bucket re-relaxes more entries (and moves more bytes: 16 MB per search per rank
# at 0.02, 44 MB at 0.5, SCALE 20, 4 ranks) to save collectives; the plateau is 0.01-0.05.
# On a network the collectives cost more than here (alpha, bench/scaling.py), but by the
# SCALE 21 numbers 0.05 beats 0.02 only above 0.4 ms per collective. (An earlier default,
# 0.5, came from SCALE 16-17 at 4 oversubscribed ranks, where a search is a few
# milliseconds of work and the collectives' waits were all there was to measure.)
DEFAULT_DELTA = DEFAULT_DELTA_1D

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
    cslot = cur % nslots
    for t in range(nt):
        v = touched[t]
        move_to_bucket(v, slot_of(dist[v], inv_delta, cur, cslot, nslots), bits, count, bkt)
        mark[v] = _CLEAN


@njit(cache=True, nogil=True, inline="always")
def _word(v, dist_bits):
    """Vertex v and its distance as one gathered word: index in block << 32 | float32 bits."""
    return (np.int64(v) << 32) | np.int64(dist_bits[v])


@njit(cache=True, nogil=True, parallel=True)
def _words_par(nchunks, vertices, n, dist_bits, out, in_settled, clear):
    for c in prange(nchunks):
        for t in range(c * n // nchunks, (c + 1) * n // nchunks):
            v = vertices[t]
            out[t] = _word(v, dist_bits)
            if clear:
                in_settled[v] = 0


@njit(cache=True, nogil=True)
def _words(vertices, n, dist_bits, out, in_settled, clear, par):
    """out[t] = _word(vertices[t]) for t < n (out may be vertices itself: each item reads
    and writes only its own place); clear: also take them out of the settled set."""
    nchunks = _nchunks(n, par)
    if nchunks == 1:
        for t in range(n):
            v = vertices[t]
            out[t] = _word(v, dist_bits)
            if clear:
                in_settled[v] = 0
    else:
        _words_par(nchunks, vertices, n, dist_bits, out, in_settled, clear)


@njit(cache=True, nogil=True)
def _extract(cur, nslots, bits, count, bkt, dist_bits, frontier, settled, nsettled,
             in_settled, par):
    """Empty bucket cur (buckets.py: the cyclic bucket array): its vertices, in order,
    packed as _word()s for the column gather; all join the settled set (once each).
    Returns (frontier size, settled size)."""
    nf, nsettled = drain_bucket(cur, nslots, bits, count, bkt, frontier, settled, nsettled,
                                in_settled)
    _words(frontier, nf, dist_bits, frontier, in_settled, False, par)
    return nf, nsettled


@njit(cache=True, nogil=True)
def _pack_settled(settled, nsettled, dist_bits, in_settled, out, par):
    """The settled set with its (now final for this bucket) distances, as _extract packs;
    the set is emptied for the next bucket."""
    _words(settled, nsettled, dist_bits, out, in_settled, True, par)


# ---------------------------------------------------------------- expand, relax, fold

@njit(cache=True, nogil=True)
def _unpack_run(a, b, fq, sstart, col_base, col_lo, fcol, fglob, fdist_bits):
    g = 0
    for t in range(a, b):
        while t >= sstart[g + 1]:   # the segment holding word t (R is small)
            g += 1
        w = fq[t]
        x = w >> 32
        fcol[t] = col_base[g] + x
        fglob[t] = col_lo[g] + x
        fdist_bits[t] = np.uint32(w & _LOW32)


@njit(cache=True, nogil=True, parallel=True)
def _unpack_par(nchunks, n, fq, sstart, col_base, col_lo, fcol, fglob, fdist_bits):
    for c in prange(nchunks):
        _unpack_run(c * n // nchunks, (c + 1) * n // nchunks, fq, sstart, col_base, col_lo,
                    fcol, fglob, fdist_bits)


@njit(cache=True, nogil=True)
def _unpack_frontier(fq, counts, col_base, col_lo, fcol, fglob, fdist_bits, par):
    """Gathered words of the column strip's owners (grid row g's block is segment g) as
    (padded column index, global id, distance bits). Returns how many."""
    sstart = np.zeros(len(counts) + 1, dtype=np.int64)
    for g in range(len(counts)):
        sstart[g + 1] = sstart[g] + counts[g]
    n = sstart[len(counts)]
    nchunks = _nchunks(n, par)
    if nchunks == 1:
        _unpack_run(0, n, fq, sstart, col_base, col_lo, fcol, fglob, fdist_bits)
    else:
        _unpack_par(nchunks, n, fq, sstart, col_base, col_lo, fcol, fglob, fdist_bits)
    return n


@njit(cache=True, nogil=True)
def _relax_run(e0, e1, fcol, fglob, fdist, epre, pos, end, light, colptr, heavy, rows, weight,
               row_lo, offsets, nranks, scale, shift, rowbase, gval, gtag, gmask, tagged,
               pdst, pv, pd, pu, qbase):
    """Entries e0..e1 of a pass over the columns fcol[pos:end] (numbered across the pass,
    column i's first at epre[i - pos]): the proposals that beat the ghost cache as it was
    when the pass began, queued at qbase + e0 on. The cache is only read here (the merge
    writes it, in entry order). Returns the proposals queued."""
    if e0 >= e1:
        return 0
    i = row_of_entry(epre, end - pos, e0)    # the column holding entry e0
    nr = 0
    q = qbase + e0
    e = e0
    while e < e1:
        v = fcol[pos + i]
        if light:
            k0 = colptr[v]
        else:
            k0 = heavy[v]
        k1 = k0 + min(epre[i + 1], e1) - epre[i]
        k0 += e - epre[i]
        dv = fdist[pos + i]
        pw = 2 * fglob[pos + i]
        for k in range(k0, k1):
            if k + AHEAD_ENTRIES < k1:    # the cache slots are random: ask ahead
                prefetch(gval, (rows[k + AHEAD_ENTRIES] - row_lo) & gmask)
            nd = dv + weight[k]
            tie = nd == dv
            u = rows[k]
            ui = u - row_lo
            s = ui & gmask
            if not tagged or gtag[s] == ui:
                gs = gval[s]
                if nd > gs or (nd == gs and tie):
                    continue
            r = owner(u, nranks, scale, shift)
            pdst[q + nr] = r - rowbase
            pv[q + nr] = u - offsets[r]
            pd[q + nr] = nd
            pu[q + nr] = pw + (1 if tie else 0)
            nr += 1
        e += k1 - k0
        i += 1
    return nr


@njit(cache=True, nogil=True, parallel=True)
def _relax_par(nchunks, ne, fcol, fglob, fdist, epre, pos, end, light, colptr, heavy, rows,
               weight, row_lo, offsets, nranks, scale, shift, rowbase, gval, gtag, gmask,
               tagged, pdst, pv, pd, pu, qbase, cnt):
    for c in prange(nchunks):
        cnt[c] = _relax_run(c * ne // nchunks, (c + 1) * ne // nchunks, fcol, fglob, fdist,
                            epre, pos, end, light, colptr, heavy, rows, weight, row_lo,
                            offsets, nranks, scale, shift, rowbase, gval, gtag, gmask, tagged,
                            pdst, pv, pd, pu, qbase)


@njit(cache=True, nogil=True)
def _merge(nchunks, ne, n, cnt, row_lo, offsets, rowbase, gval, gtag, gmask, tagged, pdst,
           pv, pd, pu):
    """The chunks' proposals, in chunk (so entry) order, each kept unless this rank already
    sent its vertex a smaller distance (or the same one, for a tie: it could change
    nothing), the cache learning what is kept: exactly what one thread relaxing the pass's
    entries in order with the cache would queue (what the chunks dropped against the cache
    as it was, it drops too: the cached values only fall during a pass). The kept ones move
    down to the end of the queue (never ahead of what is still to be read). Returns the
    queue's length."""
    q = n
    for c in range(nchunks):
        j0 = n + c * ne // nchunks
        for j in range(j0, j0 + cnt[c]):
            d = pd[j]
            ui = pv[j] + offsets[pdst[j] + rowbase] - row_lo
            s = ui & gmask
            if tagged and gtag[s] != ui:
                gtag[s] = ui
                gval[s] = d
            else:
                gs = gval[s]
                if d > gs or (d == gs and (pu[j] & 1) != 0):
                    continue
                if d < gs:
                    gval[s] = d
            pdst[q] = pdst[j]
            pv[q] = pv[j]
            pd[q] = d
            pu[q] = pu[j]
            q += 1
    return q


@njit(cache=True, nogil=True)
def _relax_serial(fcol, fglob, fdist, pos, end, light, colptr, heavy, rows, weight, row_lo,
                  offsets, nranks, scale, shift, rowbase, gval, gmask, pdst, pv, pd, pu, n):
    """A pass on one thread with an untagged cache (a slot per vertex of the strip): the
    cache applied entry by entry as _merge does. The same queue as _relax_run + _merge:
    untagged, a slot's value only falls, so whatever those drop against the cache as it
    was when the pass began, this drops too (with a tagged cache an evicted slot would let
    this keep it, hence the two steps there at any chunking). Returns the queue's length."""
    q = n
    for i in range(pos, end):
        v = fcol[i]
        if light:
            a = colptr[v]
            b = heavy[v]
        else:
            a = heavy[v]
            b = colptr[v + 1]
        dv = fdist[i]
        pw = 2 * fglob[i]
        for k in range(a, b):
            if k + AHEAD_ENTRIES < b:     # the cache slots are random: ask ahead
                prefetch(gval, (rows[k + AHEAD_ENTRIES] - row_lo) & gmask)
            nd = dv + weight[k]
            tie = nd == dv
            u = rows[k]
            s = (u - row_lo) & gmask
            gs = gval[s]
            if nd > gs or (nd == gs and tie):
                continue
            if nd < gs:
                gval[s] = nd
            r = owner(u, nranks, scale, shift)
            pdst[q] = r - rowbase
            pv[q] = u - offsets[r]
            pd[q] = nd
            pu[q] = pw + (1 if tie else 0)
            q += 1
    return q


@njit(cache=True, nogil=True)
def _relax(fcol, fglob, fdist, pos, nf, light, colptr, heavy, rows, weight, row_lo, offsets,
           nranks, scale, shift, rowbase, gval, gtag, gmask, tagged, pdst, pv, pd, pu, cap,
           epre, cnt, par):
    """Relax the light (or heavy) entries of the expanded columns fcol[pos:nf], pass after
    pass, until the record queue could overflow. A pass takes whole columns while the queue
    has room for all their entries (one column at least when it is empty: the capacity
    holds the longest), so where passes and exchanges begin depends on the column lengths
    and on the queue (the same for any thread count) only. Returns (next pos, records
    queued)."""
    n = 0
    while pos < nf:
        ne = 0
        i = pos
        epre[0] = 0
        while i < nf:
            v = fcol[i]
            if light:
                ln = heavy[v] - colptr[v]
            else:
                ln = colptr[v + 1] - heavy[v]
            if n + ne + ln > cap and (n > 0 or i > pos):
                break
            ne += ln
            i += 1
            epre[i - pos] = ne
        if i == pos:
            break   # the queue is full: exchange first
        nchunks = _nchunks(ne, par)
        if nchunks == 1 and not tagged:
            n = _relax_serial(fcol, fglob, fdist, pos, i, light, colptr, heavy, rows, weight,
                              row_lo, offsets, nranks, scale, shift, rowbase, gval, gmask,
                              pdst, pv, pd, pu, n)
            pos = i
            continue
        if nchunks == 1:
            cnt[0] = _relax_run(0, ne, fcol, fglob, fdist, epre, pos, i, light, colptr, heavy,
                                rows, weight, row_lo, offsets, nranks, scale, shift, rowbase,
                                gval, gtag, gmask, tagged, pdst, pv, pd, pu, n)
        else:
            _relax_par(nchunks, ne, fcol, fglob, fdist, epre, pos, i, light, colptr, heavy,
                       rows, weight, row_lo, offsets, nranks, scale, shift, rowbase, gval,
                       gtag, gmask, tagged, pdst, pv, pd, pu, n, cnt)
        n = _merge(nchunks, ne, n, cnt, row_lo, offsets, rowbase, gval, gtag, gmask, tagged,
                   pdst, pv, pd, pu)
        pos = i
    return pos, n


@njit(cache=True, nogil=True)
def _pack_count(a, b, pdst, out):
    out[:] = 0
    for t in range(a, b):
        out[pdst[t]] += 1


@njit(cache=True, nogil=True)
def _pack_fill(a, b, pdst, pv, pd_bits, pu, cursor, send):
    """Records a..b into their destinations' groups, from cursor[r] on (advanced)."""
    for t in range(a, b):
        r = pdst[t]
        j = cursor[r]
        cursor[r] = j + 1
        send[2 * j] = (pv[t] << 32) | np.int64(pd_bits[t])
        send[2 * j + 1] = pu[t]


@njit(cache=True, nogil=True, parallel=True)
def _pack_par(nchunks, n, pdst, pv, pd_bits, pu, ccounts, send):
    for c in prange(nchunks):
        _pack_count(c * n // nchunks, (c + 1) * n // nchunks, pdst, ccounts[c])
    pos, totals = chunk_starts(ccounts[:nchunks])
    for c in prange(nchunks):
        _pack_fill(c * n // nchunks, (c + 1) * n // nchunks, pdst, pv, pd_bits, pu, pos[c],
                   send)
    return totals


@njit(cache=True, nogil=True)
def _pack(n, pdst, pv, pd_bits, pu, counts, ccounts, send, par):
    """Group the queued records by grid-row destination: (index << 32 | distance bits,
    2 * parent + tie), two int64 words each, in queue order inside a group (per-chunk
    counts, then each chunk fills its own slots: the buffer is the serial one)."""
    nchunks = _nchunks(n, par)
    if nchunks == 1:
        _pack_count(0, n, pdst, counts)
        cursor = ccounts[0]
        p = 0
        for r in range(len(counts)):
            cursor[r] = p
            p += counts[r]
        _pack_fill(0, n, pdst, pv, pd_bits, pu, cursor, send)
    else:
        counts[:] = _pack_par(nchunks, n, pdst, pv, pd_bits, pu, ccounts, send)


@njit(cache=True, nogil=True, inline="always")
def _apply_one(recv, t, dist_bits, parent, ptie, mark, touched, nt):
    """Proposal t: kept if it lowers the distance; at an equal distance a strict proposal
    replaces a tie parent or a larger parent id (see the module notes). Distances compare
    as bit patterns: non-negative float32s (inf included) order like them. A vertex
    improved for the first time since its last re-bucketing is listed at touched[nt].
    Returns the new nt."""
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


@njit(cache=True, nogil=True, inline="always")
def _range_lo(b, nb, nwords):
    """First local vertex of range b of nb: ranges are whole bitmap words (the word of x,
    x >> 6, is in range (x >> 6) * nb // nwords), so no two ranges share a bucket word."""
    return ((b * nwords + nb - 1) // nb) << 6


@njit(cache=True, nogil=True, parallel=True)
def _apply_par(nchunks, nrec, recv, dist_bits, parent, ptie, mark, touched, dist, inv_delta,
               cur, nslots, bits, count, bkt, acounts, order, cdelta):
    """_apply with the proposals grouped by nchunks ranges of the block (per-chunk counts,
    then per-chunk fills, in receive order inside a range) and a thread per range, which
    then re-buckets what it touched (listed in touched from the range's first vertex on: it
    cannot touch more than it holds), counting its bucket moves apart (cdelta), summed
    after."""
    nb = nchunks
    nwords = (len(dist_bits) + 63) >> 6
    for c in prange(nchunks):
        row = acounts[c]
        for b in range(nb):
            row[b] = 0
        for t in range(c * nrec // nchunks, (c + 1) * nrec // nchunks):
            row[((recv[2 * t] >> 32) >> 6) * nb // nwords] += 1
    pos, totals = chunk_starts(acounts[:nchunks, :nb])
    rstart = pos[0].copy()
    for c in prange(nchunks):
        p = pos[c]
        for t in range(c * nrec // nchunks, (c + 1) * nrec // nchunks):
            b = ((recv[2 * t] >> 32) >> 6) * nb // nwords
            order[p[b]] = t
            p[b] += 1
    for b in prange(nb):
        m0 = _range_lo(b, nb, nwords)
        m = m0
        k1 = rstart[b] + totals[b]
        for k in range(rstart[b], k1):
            if k + AHEAD_ENTRIES < k1:
                prefetch(dist_bits, recv[2 * order[k + AHEAD_ENTRIES]] >> 32)
            m = _apply_one(recv, order[k], dist_bits, parent, ptie, mark, touched, m)
        cd = cdelta[b]
        cd[:] = 0
        _rebucket(touched[m0:m], m - m0, mark, dist, inv_delta, cur, nslots, bits, cd, bkt)
    for b in range(nb):
        for s in range(nslots):
            count[s] += cdelta[b, s]


@njit(cache=True, nogil=True)
def _apply(recv, nrec, dist_bits, parent, ptie, mark, touched, dist, inv_delta, cur, nslots,
           bits, count, bkt, acounts, order, cdelta, par):
    """Apply the received proposals (_apply_one) as one thread would in receive order (in
    chunks, every vertex still sees its own proposals in that order), then place the
    vertices they improved in the buckets of their distances (the bucket state does not
    depend on the order of the moves). The targets are random: each record asks the cache
    for a later one's distance, as the 1-D kernel's apply does."""
    nchunks = _nchunks(nrec, par)
    if nchunks == 1:
        nt = 0
        for t in range(nrec):
            if t + AHEAD_ENTRIES < nrec:
                prefetch(dist_bits, recv[2 * (t + AHEAD_ENTRIES)] >> 32)
            nt = _apply_one(recv, t, dist_bits, parent, ptie, mark, touched, nt)
        _rebucket(touched, nt, mark, dist, inv_delta, cur, nslots, bits, count, bkt)
    else:
        _apply_par(nchunks, nrec, recv, dist_bits, parent, ptie, mark, touched, dist,
                   inv_delta, cur, nslots, bits, count, bkt, acounts, order, cdelta)


# ---------------------------------------------------------------- workspace

class SSSP2DWorkspace:
    """Buffers reused by every search on one weighted Graph2D (allocated once, untimed),
    and the search's fixed arguments (the communicator and delta), as SSSPWorkspace.
    reset() clears what a search starts from; the driver calls it before the timer."""

    def __init__(self, graph, comm, delta=DEFAULT_DELTA, capacity=CAPACITY,
                 ghost_slots=GHOST_SLOTS, par_min=PAR_MIN):
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
        self.bkt = None   # the slot of each vertex's bucket: reset allocates it
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
        # Per-chunk parts of the threaded steps (at most 4 chunks per thread, see par()).
        maxc = 4 * numba.config.NUMBA_NUM_THREADS
        self.par_min = int(par_min)
        self.cnt = np.zeros(maxc, dtype=np.int64)              # proposals per relax chunk
        self.ccounts = np.zeros((maxc, g.C), dtype=np.int64)   # per chunk and destination
        self.acounts = np.zeros((maxc, maxc), dtype=np.int64)  # per chunk and block range
        # received proposals grouped by block range (grown with the receive buffer)
        self.order = np.empty(cap, dtype=np.int64)
        self.hdr_send = np.zeros((g.C, 2), dtype=np.int64)
        self.hdr_recv = np.zeros((g.C, 2), dtype=np.int64)
        # the gathered column-strip words, grown on demand (at most the strip: N/C)
        self.fq = np.empty(1 << 12, dtype=np.int64)
        self.fcol = np.empty(1 << 12, dtype=np.int64)
        self.fglob = np.empty(1 << 12, dtype=np.int64)
        self.fdist = np.empty(1 << 12, dtype=np.float32)
        self.epre = np.empty((1 << 12) + 1, dtype=np.int64)   # a relax pass's column starts
        self.par_now = self.par()   # set again by every search (the thread count then)
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
            # bucket moves per block range of a threaded apply (see _apply_par)
            self.cdelta = np.empty((len(self.cnt), self.nslots), dtype=np.int64)
        self.bkt = slot_array(self.nslots, len(self.dist), self.bkt)
        _clear(self.dist, self.parent, self.ptie, self.bits, self.count, self.bkt, self.mark,
               self.gval, self.gtag, self.in_settled)
        self.clean = True

    def par(self):
        return thread_chunks(len(self.cnt), self.par_min)

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
            self.epre = np.empty(size + 1, dtype=np.int64)
        if g.R > 1:
            displs = np.zeros(g.R, dtype=np.int64)
            np.cumsum(counts[:-1], out=displs[1:])
            t = mpi_type(self.fq)
            g.col_comm.Allgatherv([words[:nw], t], [self.fq, (counts, displs), t])
        else:   # a one-rank column: nothing to gather
            self.fq[:nw] = words[:nw]
        return _unpack_frontier(self.fq, counts, self.col_base, self.col_lo, self.fcol,
                                self.fglob, self.fdist.view(np.uint32), self.par_now)

    def _round(self, words, nw, light, cur):
        """Relax the light (or heavy) entries of the expanded vertices; deliver and apply
        the proposals along the grid row, in as many exchanges as the queue needs (the row
        agrees on "more?" in the count exchange); re-bucket what improved."""
        g, gr = self.grid, self.graph
        nf = self._expand(words, nw)
        inv_delta = 1.0 / self.delta
        par = self.par_now
        pos = 0
        while True:
            pos, n = _relax(self.fcol, self.fglob, self.fdist, pos, nf, light, gr.colptr,
                            self.heavy, gr.rows, gr.weight, g.row_lo, self.offsets, g.nranks,
                            g.scale, g.shift, g.i * g.C, self.gval, self.gtag,
                            self.ghost_mask, self.tagged, self.pdst, self.pv, self.pd, self.pu,
                            self.capacity, self.epre, self.cnt, par)
            _pack(n, self.pdst, self.pv, self.pd_bits, self.pu, self.counts, self.ccounts,
                  self.send, par)
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
            if len(self.order) < nrec:
                self.order = np.empty(len(recv) // 2, dtype=np.int64)
            _apply(recv, nrec, self.dist_bits, self.parent, self.ptie, self.mark,
                   self.touched, self.dist, inv_delta, cur, self.nslots, self.bits,
                   self.count, self.bkt, self.acounts, self.order, self.cdelta, par)
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
    ws.par_now = ws.par()
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
                                    ws.frontier, ws.settled, nsettled, ws.in_settled,
                                    ws.par_now)
            ws._round(ws.frontier, nf, True, cur)
            vote[0] = ws.count[cur % ws.nslots]
            _agree(comm, vote, agreed, MPI.MAX)
            if agreed[0] == 0:
                break
        # heavy round: the settled set once, with its final distances
        _pack_settled(ws.settled, nsettled, ws.dist_bits, ws.in_settled, ws.frontier,
                      ws.par_now)
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
    nslots = int(max_weight / delta) + 3
    # dist 4, parent 8, ptie/mark/in_settled 1 each, bkt (slot_dtype), touched/frontier/
    # settled 8 each
    per_vertex = (4 + 8 + 3 + np.dtype(slot_dtype(nslots)).itemsize + 3 * 8) * n
    heavy = 8 * R * n
    buckets = nslots * ((n + 63) // 64) * 8 + nslots * 8
    slots = 1
    while slots < min(C * n, ghost_slots):
        slots <<= 1
    ghost = 4 * slots + (8 * slots if slots < C * n else 0)
    cap = max(1, expected_max_degree(scale, edgefactor),
              min(expected_entries(scale, edgefactor, nranks) // 32, capacity))
    # queue; send and receive (2 words); received proposals grouped for the threads
    records = cap * (8 + 8 + 4 + 8 + 2 * 2 * 8 + 8)
    # the gathered column words at most (a heavy round expands the settled sets), and a
    # relax pass's column starts
    gathered = (8 + 8 + 8 + 4 + 8) * R * n
    return per_vertex + heavy + buckets + ghost + records + gathered
