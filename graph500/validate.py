"""BFS validation (spec section 5), distributed and untimed.

Accepts and rejects what the reference's validator does, check by check:
  1. every parent is -1 or a vertex id in [0, N);
  2. depth is rebuilt from the parent array alone, level by level from the root (a vertex
     whose parent chain never reaches the root, e.g. one on a cycle, never gets a depth);
  3. parent == -1 exactly when the depth is unset;
  4. parent[root] == root (and so depth[root] == 0);
  5. for every non-self-loop input tuple (u, v): both unreached - skip; exactly one
     reached - error; depths differing by more than one - error; u is confirmed when
     parent[u] == v and depth(u) == depth(v) + 1;
  6. every reached vertex other than the root is confirmed;
  7. the kernel's edge count equals the number of tuples with both ends reached.

How, distributed: the CSR holds every non-self-loop tuple once in each endpoint's row, so
scanning every local row sees each tuple from both ends, and each owner confirms its own
vertices. Depths are rebuilt level by level (one Allgatherv of the level's N bits each), and
each level's rows are scanned as soon as the level is known: a vertex of level L needs no
neighbour in levels 0..L-2, an unreached vertex no reached neighbour. Together these are
rule 5 (why: _levels_and_scan), and every tested set is read through a summary that stays
in cache. Confirmation needs only that the row holds the parent: the rebuilt depth of the
parent is one less by construction. This is exact for any depth; no depth array is kept,
and the bitmaps are a few times N/8 bytes whatever the depth.

Each tuple can be checked from either end, so each level reads the fewer entries: a level's
own rows (the deep side), or, for rule 5, the rows of the levels two and more above (the
shallow side), and for rule 6, those of the level above (the parents' side). On a Kronecker
graph the hubs' rows are most entries and sit in the first levels, where they are then read
only up to the parent, or not at all (_levels_and_scan).
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.bitmap import (ONE, GlobalBitmap, bit_index, lowest_bit, next_set, set_bit,
                                     test_bit)
from graph500.kernels.exchange import alltoallv, chunk_starts
from graph500.kernels.intrinsics import atomic_or, prefetch
from graph500.kernels.partition import owner

# Check numbers; the first failing check (lowest number, then lowest vertex) is reported.
CHECK_RANGE, CHECK_TREE, CHECK_ROOT, CHECK_REACH, CHECK_LEVEL, CHECK_CONFIRM, CHECK_NEDGE = \
    1, 3, 4, 5, 6, 7, 8

_MESSAGES = {
    CHECK_RANGE: "vertex {v}: parent {x} is not -1 or a vertex id",
    CHECK_TREE: "vertex {v}: parent {x} but not reachable from the root through the parent "
                "array (a cycle or a broken chain)",
    CHECK_ROOT: "root {v}: parent[root] is {x}, not the root itself",
    CHECK_REACH: "edge ({v}, {x}) joins a reached and an unreached vertex",
    CHECK_LEVEL: "edge ({v}, {x}) joins vertices whose levels differ by more than one",
    CHECK_CONFIRM: "vertex {v}: its parent {x} is not joined to it by an edge one level up",
    CHECK_NEDGE: "edge count {v} reported by the kernel, {x} counted by the validator",
}


class ValidationFailure:
    def __init__(self, check, v, x):
        self.check, self.v, self.x = check, v, x

    def message(self):
        return _MESSAGES[self.check].format(v=self.v, x=self.x)


def agree(comm, check, v, x):
    """All ranks agree on the first failure (check 0 = none). Returns a ValidationFailure or None."""
    BIG = np.iinfo(np.int64).max
    key = (int(check) if check else BIG, int(v), int(x))
    worst = comm.allreduce(key, op=MPI.MIN)
    return None if worst[0] == BIG else ValidationFailure(*worst)


@njit(cache=True, nogil=True)
def _parent_range_run(parent, lo, n, root, i0, i1, pending, at):
    """check_parent_range on parent[i0:i1], the pending vertices written from pending[at]."""
    k = 0
    for i in range(i0, i1):
        p = parent[i]
        if p < -1 or p >= n:
            return i + lo, p, k
        if p != -1 and i + lo != root:
            pending[at + k] = i
            k += 1
    return -1, 0, k


@njit(cache=True, nogil=True, parallel=True)
def _parent_range_par(parent, lo, n, root, cuts, pending, res):
    """Chunk c of the block lists its pending vertices from pending[cuts[c]] (it has at most
    cuts[c+1] - cuts[c]); res[c] = (first bad vertex or -1, its parent, count)."""
    for c in prange(len(cuts) - 1):
        b, p, k = _parent_range_run(parent, lo, n, root, cuts[c], cuts[c + 1], pending, cuts[c])
        res[c, 0], res[c, 1], res[c, 2] = b, p, k


def check_parent_range(parent, lo, n, root, pending, nchunks=1):
    """Rule 1, and in the same pass the list of vertices waiting for a depth (those with a
    parent, all but the root), in order, into `pending`. Returns (first bad vertex or -1,
    its parent, pending count). nchunks > 1: on all threads, the chunks' lists then moved
    together."""
    if nchunks == 1:
        return _parent_range_run(parent, lo, n, root, 0, len(parent), pending, 0)
    cuts = np.linspace(0, len(parent), nchunks + 1).astype(np.int64)
    res = np.zeros((nchunks, 3), dtype=np.int64)
    _parent_range_par(parent, lo, n, root, cuts, pending, res)
    k = 0
    for c in range(nchunks):
        b, p, kc = (int(x) for x in res[c])
        if b >= 0:
            return b, p, k
        pending[k:k + kc] = pending[cuts[c]:cuts[c] + kc]
        k += kc
    return -1, 0, k


_NO_VERTEX = np.uint64(0xFFFFFFFFFFFFFFFF)    # no row holds it: the unreached rows' "parent"

_NO_BITS = np.zeros(1, dtype=np.uint64)      # `below` and summary of a confirm-only scan

# Rows ahead whose first entries a level's row scan asks the cache for.
CONFIRM_AHEAD = 16
# An entry read on the parents' side of a confirmation (_confirm_up: a random bitmap test,
# a random parent read or a pair sent, in two passes) against one read on the deep side (a
# compare in a sequential run, _holds): about 30 times slower, measured at SCALE 22.
UP_ENTRY_COST = 32

# Pending vertices are grouped by their parent's high bits before the rebuild, so that each
# level's parent tests read the level bitmap in increasing order, one 16 KiB slice at a time
# (cache-resident) instead of at random over N/8 bytes (SCALE 26: 8 MiB per rank, a cache
# miss per test; the rebuild then took 2.8 s of a 5.4 s search).
_PARENT_SLICE_SHIFT = 17


@njit(cache=True, nogil=True)
def _segments(pending, npending, nseg):
    """Cut points of pending[:npending] (vertex order) into nseg runs of about equal length,
    each owning whole 64-vertex words, so that threads working on different runs never set
    bits of the same word."""
    cuts = np.zeros(nseg + 1, dtype=np.int64)
    cuts[nseg] = npending
    for c in range(1, nseg):
        t = max(c * npending // nseg, cuts[c - 1])
        while 0 < t < npending and pending[t] >> 6 == pending[t - 1] >> 6:
            t += 1
        cuts[c] = t
    return cuts


@njit(cache=True, nogil=True)
def _group_run(parent, pending, t0, t1, nbuckets, shift, idx, par):
    """pending[t0:t1] (local indices) and their parents into idx/par[t0:t1], grouped by
    parent >> shift (a stable counting sort)."""
    start = np.zeros(nbuckets + 1, dtype=np.int64)
    for t in range(t0, t1):
        start[(parent[pending[t]] >> shift) + 1] += 1
    start[0] = t0
    for b in range(nbuckets):
        start[b + 1] += start[b]
    for t in range(t0, t1):
        i = pending[t]
        p = parent[i]
        b = p >> shift
        idx[start[b]] = i
        par[start[b]] = p
        start[b] += 1


@njit(cache=True, nogil=True, parallel=True)
def _group_par(parent, pending, cuts, nbuckets, shift, idx, par):
    for c in prange(len(cuts) - 1):
        _group_run(parent, pending, cuts[c], cuts[c + 1], nbuckets, shift, idx, par)


@njit(cache=True, nogil=True)
def _next_run(front, idx, par, t0, n, mine):
    """The n pending vertices from t0 whose parent is in the level `front` (global bits)
    form the next level: their bits go to `mine` (local); the rest stay pending, compacted
    in place from t0 in the same order. Returns how many stay pending."""
    left = t0
    for t in range(t0, t0 + n):
        p = par[t]
        if test_bit(front, p):
            set_bit(mine, idx[t])
        else:
            idx[left] = idx[t]
            par[left] = p
            left += 1
    return left - t0


@njit(cache=True, nogil=True, parallel=True)
def _next_par(front, idx, par, cuts, left, mine):
    for c in prange(len(left)):
        left[c] = _next_run(front, idx, par, cuts[c], left[c], mine)


class _Pending:
    """The vertices still waiting for a depth, in runs (one per thread's piece; one run at
    one thread), each grouped by parent: idx (local index) and par (its parent)."""

    def __init__(self, graph, parent, pending, npending, nseg):
        ids = graph.col.dtype          # local indices and parents both fit the vertex id type
        self.idx = np.empty(npending, dtype=ids)
        self.par = np.empty(npending, dtype=ids)
        self.cuts = _segments(pending, npending, nseg)
        self.left = np.diff(self.cuts)
        nbuckets = (graph.part.nglobal >> _PARENT_SLICE_SHIFT) + 1
        if nseg == 1:                  # one thread: no parallel wrapper
            _group_run(parent, pending, 0, npending, nbuckets, _PARENT_SLICE_SHIFT, self.idx,
                       self.par)
        else:
            _group_par(parent, pending, self.cuts, nbuckets, _PARENT_SLICE_SHIFT, self.idx,
                       self.par)

    def next_level(self, front, mine):
        """The pending vertices whose parent is in `front` into `mine` (cleared first)."""
        mine[:] = 0
        if len(self.left) == 1:
            self.left[0] = _next_run(front, self.idx, self.par, 0, self.left[0], mine)
        else:
            _next_par(front, self.idx, self.par, self.cuts, self.left, mine)

    def count(self):
        return int(self.left.sum())

    def lowest(self):
        """(local index, parent) of the lowest vertex still pending."""
        best = None
        for c in range(len(self.left)):
            run = self.idx[self.cuts[c]:self.cuts[c] + self.left[c]]
            if len(run):
                k = self.cuts[c] + int(np.argmin(run))
                if best is None or self.idx[k] < self.idx[best]:
                    best = k
        return int(self.idx[best]), int(self.par[best])


@njit(cache=True, nogil=True)
def _add_level(below, summary, bits):
    """below |= bits, and summary marks every word of `below` that has a bit set."""
    for w in range(len(bits)):
        if bits[w]:
            below[w] |= bits[w]
            summary[w >> 6] |= ONE << np.uint64(w & 63)


@njit(cache=True, nogil=True)
def _summarize(bits, summary):
    """summary = one bit per word of `bits`, set when the word has a bit set."""
    summary[:] = 0
    for w in range(len(bits)):
        if bits[w]:
            summary[w >> 6] |= ONE << np.uint64(w & 63)


@njit(cache=True, nogil=True, inline="always")
def _row_test(colu, a, b, below, summary, p, base=0):
    """For the row colu[a:b]: whether a neighbour is in `below`, and whether p is a
    neighbour. The summary (one bit per word of `below`, N/4096 bytes: in L2 cache up to
    SCALE 30) answers almost every test: a valid tree has no neighbour in the sets tested,
    and those are small or hold the few vertices of the first levels, so `below` itself
    (N/8 bytes, a cache miss per read at SCALE 26) is read only for false positives.
    base: the vertex of bit 0 of `below` (validate2d.py: its row strip's first vertex)."""
    six, low, twelve = np.uint64(6), np.uint64(63), np.uint64(12)
    acc = np.uint64(0)
    has = False
    for k in range(a, b):
        v = np.uint64(colu[k]) - np.uint64(base)
        has |= v == p
        if (summary[v >> twelve] >> ((v >> six) & low)) & ONE:
            acc |= below[v >> six] >> (v & low)
    return (acc & ONE) != 0, has


@njit(cache=True, nogil=True)
def _scan(rowptr, colu, parent, lo, rows, w0, w1, below, summary, reached, confirm_only=False):
    """The rows whose bits are set in rows[w0:w1] (local indices, in order) must have no
    neighbour in `below`. reached=True: they are one level's rows, `below` is the set of
    levels at least two above, and each must also hold its parent (rule 6); a failure is
    CHECK_LEVEL. reached=False: they are the unreached rows, `below` is every reached
    vertex; a failure is CHECK_REACH. Returns (check, u, v, entries of the rows if reached)
    for the first failing row, a level failure before a parent failure (the lower check
    number wins), or (0, 0, 0, entries).
    confirm_only (with reached): rule 6 alone, when rule 5 is checked from the shallow side
    (_levels_and_scan): each row is read only up to its parent (_holds; a level's rows hold
    most of the graph's entries, and the parent sits at 0.29 of a hub's row on average at
    SCALE 22), and a failure is CHECK_CONFIRM."""
    entries = 0
    conf_u, conf_p = -1, -1
    # Read ahead in a level's rows (_ask_ahead); the unreached rows are mostly isolated
    # vertices' empty rows, for which asking made the scan 3-4x slower.
    cw, cr = _start_ahead(rowptr, colu, rows, w0, w1 if reached else w0)
    for w in range(w0, w1):
        word = rows[w]
        while word:
            lowb = lowest_bit(word)
            word ^= lowb
            i = w * 64 + bit_index(lowb)
            if reached:
                cw, cr = _ask_ahead(rowptr, colu, rows, w1, cw, cr)
            a, b = rowptr[i], rowptr[i + 1]
            u = i + lo
            if reached:
                entries += b - a
            p = np.uint64(parent[i]) if reached else _NO_VERTEX
            if confirm_only:        # the root needs no neighbour
                if conf_u < 0 and p != np.uint64(u) and not _holds(colu, a, b, p):
                    conf_u, conf_p = u, np.int64(p)
                continue
            hit, has = _row_test(colu, a, b, below, summary, p)
            if hit:
                for k in range(a, b):              # only a failing row is read again
                    if test_bit(below, np.uint64(colu[k])):
                        return (CHECK_LEVEL if reached else CHECK_REACH), u, \
                            np.int64(colu[k]), entries
            # the root need not be its own neighbour
            if reached and not has and conf_u < 0 and p != np.uint64(u):
                conf_u, conf_p = u, np.int64(p)
    if conf_u >= 0:
        return CHECK_CONFIRM, conf_u, conf_p, entries
    return 0, 0, 0, entries


@njit(cache=True, nogil=True, inline="always")
def _holds(colu, a, b, p):
    """Whether colu[a:b] holds p: blocks of 16 entries tested with no branch inside (the
    compiler turns a block into vector compares), then the rest one by one."""
    k = a
    while k + 16 <= b:
        hit = False
        for t in range(16):
            hit |= np.uint64(colu[k + t]) == p
        if hit:
            return True
        k += 16
    for t in range(k, b):
        if np.uint64(colu[t]) == p:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def _ask_ahead(rowptr, colu, rows, w1, cw, cr):
    """Move a read-ahead cursor over the set rows of rows[..w1] (bitmap.next_set) by one row
    and ask the cache for that row's first entries: a level's rows are scattered over the
    block, each a cache miss. (A second cursor further on asking for the rows' rowptr and
    parent entries made dense levels 2-4x slower and sparse ones no faster.)"""
    cw, cr, j = next_set(rows, w1, cw, cr)
    if j >= 0:
        prefetch(colu, rowptr[j])
    return cw, cr


@njit(cache=True, nogil=True, inline="always")
def _start_ahead(rowptr, colu, rows, w0, w1):
    """The cursor of _ask_ahead for rows[w0:w1], CONFIRM_AHEAD rows on."""
    cw, cr = w0 - 1, np.uint64(0)
    for _ in range(CONFIRM_AHEAD):
        cw, cr = _ask_ahead(rowptr, colu, rows, w1, cw, cr)
    return cw, cr


@njit(cache=True, nogil=True)
def _confirm_up(rowptr, colu, parent, lo, hi, rows, w0, w1, front, nranks, scale, shift,
                confirmed, counts, pos, out):
    """Rule 6 from the parents' side, for the rows of level L-1 set in rows[w0:w1] (local
    bits) and level L (`front`, global bits). A neighbour v in level L whose parent is this
    row's vertex x is confirmed: by setting its bit in `confirmed` (atomically: threads
    share its words) when v is local, else by a pair (v, x) for v's owner
    (_confirm_pairs). The CSR holds each tuple in both rows, so "x's row holds v" is "v's
    row holds x". Two passes: without `out` (empty) it confirms the local neighbours and
    counts the pairs per rank into counts[q]; with `out` it writes them there from the
    cursors pos[q], grouped by rank."""
    fill = len(out) > 0
    if not fill:
        counts[:] = 0
    cw, cr = w0 - 1, np.uint64(0)
    while True:
        cw, cr, i = next_set(rows, w1, cw, cr)
        if i < 0:
            break
        x = i + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            v = np.int64(colu[k])
            if not test_bit(front, v):
                continue
            if lo <= v < hi:
                j = v - lo
                if not fill and parent[j] == x:
                    atomic_or(confirmed, j >> 6, ONE << np.uint64(j & 63))
                continue
            q = owner(v, nranks, scale, shift)
            if fill:
                out[2 * pos[q]] = v
                out[2 * pos[q] + 1] = x
                pos[q] += 1
            else:
                counts[q] += 1


@njit(cache=True, nogil=True, parallel=True)
def _confirm_up_par(rowptr, colu, parent, lo, hi, rows, bounds, front, nranks, scale, shift,
                    confirmed, counts, pos, out):
    """_confirm_up over the word ranges bounds[c]:bounds[c+1], counts and cursors per range."""
    for c in prange(len(bounds) - 1):
        _confirm_up(rowptr, colu, parent, lo, hi, rows, bounds[c], bounds[c + 1], front, nranks,
                    scale, shift, confirmed, counts[c], pos[c], out)


@njit(cache=True, nogil=True)
def _confirm_up_one(rowptr, colu, parent, lo, hi, rows, bounds, front, nranks, scale, shift,
                    confirmed, counts, pos, out):
    """_confirm_up_par's one-range case, with no parallel wrapper (one thread)."""
    _confirm_up(rowptr, colu, parent, lo, hi, rows, bounds[0], bounds[1], front, nranks, scale,
                shift, confirmed, counts[0], pos[0], out)


@njit(cache=True, nogil=True)
def _confirm_pairs(pairs, parent, lo, confirmed):
    """The received pairs (v, x): v is confirmed when its parent is x."""
    for t in range(len(pairs) // 2):
        j = pairs[2 * t] - lo
        if parent[j] == pairs[2 * t + 1]:
            set_bit(confirmed, j)


@njit(cache=True, nogil=True)
def _unconfirmed(rowptr, parent, lo, rows, confirmed):
    """After _confirm_up: (CHECK_CONFIRM, u, parent) for the first row of `rows` not
    confirmed, or (0, 0, 0); and the entries of all the rows (rule 7)."""
    entries = 0
    res = (0, 0, 0)
    for w in range(len(rows)):
        word = rows[w]
        if res[0] == 0 and word & ~confirmed[w]:
            i = w * 64 + bit_index(lowest_bit(word & ~confirmed[w]))
            res = (CHECK_CONFIRM, i + lo, parent[i])
        while word:
            lowb = lowest_bit(word)
            word ^= lowb
            i = w * 64 + bit_index(lowb)
            entries += rowptr[i + 1] - rowptr[i]
    return res[0], res[1], res[2], entries


@njit(cache=True, nogil=True, parallel=True)
def _scan_par(rowptr, colu, parent, lo, rows, bounds, below, summary, reached,
              confirm_only=False):
    """_scan over the word ranges bounds[c]:bounds[c+1]; the lowest check, then the lowest
    chunk wins, so the answer does not depend on the thread count."""
    nchunks = len(bounds) - 1
    res = np.zeros((nchunks, 4), dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        r = _scan(rowptr, colu, parent, lo, rows, bounds[c], bounds[c + 1], below, summary,
                  reached, confirm_only)
        res[c, 0], res[c, 1], res[c, 2], res[c, 3] = r[0], r[1], r[2], r[3]
    best = -1
    for c in range(nchunks):
        if res[c, 0] != 0 and (best < 0 or res[c, 0] < res[best, 0]):
            best = c
    entries = res[:, 3].sum()
    if best < 0:
        return 0, 0, 0, entries
    return res[best, 0], res[best, 1], res[best, 2], entries


def _chunk_bounds(rowptr, nwords, nchunks):
    """Word boundaries of nchunks ranges holding about the same number of CSR entries (the
    hubs' rows are most of the entries, so equal vertex counts would not balance)."""
    at_words = rowptr[np.minimum(np.arange(nwords + 1) * 64, len(rowptr) - 1)]
    targets = np.linspace(0, rowptr[-1], nchunks + 1)
    bounds = np.searchsorted(at_words, targets).astype(np.int64)
    bounds[0], bounds[-1] = 0, nwords
    return np.maximum.accumulate(bounds)


class _RowScan:
    """The row scan with this rank's CSR and chunking: one call per set of rows."""

    def __init__(self, graph, parent, nwords, nchunks):
        self.args = (graph.rowptr, graph.col.view(np.uint32 if graph.col.itemsize == 4
                                                  else np.uint64), parent, graph.part.lo)
        self.nwords = nwords
        self.bounds = _chunk_bounds(graph.rowptr, nwords, nchunks) if nchunks > 1 else None

    def __call__(self, rows, below, summary, reached):
        if self.bounds is None:         # one thread: no parallel wrapper
            return _scan(*self.args, rows, 0, self.nwords, below, summary, reached)
        return _scan_par(*self.args, rows, self.bounds, below, summary, reached)

    def confirm(self, rows):
        """Rule 6 alone for a level's rows (_scan's confirm_only)."""
        if self.bounds is None:
            return _scan(*self.args, rows, 0, self.nwords, _NO_BITS, _NO_BITS, True, True)
        return _scan_par(*self.args, rows, self.bounds, _NO_BITS, _NO_BITS, True, True)

    def confirm_up(self, comm, part, up_rows, rows, front):
        """Rule 6 for the level `rows` (local bits; `front` its global bits) from the rows of
        the level above (up_rows). Collective. Returns (check, u, v, entries of `rows`)."""
        rowptr, colu, parent, lo = self.args
        bounds = self.bounds if self.bounds is not None else np.array([0, self.nwords])
        nchunks = len(bounds) - 1
        confirmed = np.zeros_like(rows)
        counts = np.zeros((nchunks, part.nranks), dtype=np.int64)
        pos = np.zeros_like(counts)
        args = (rowptr, colu, parent, lo, part.hi, up_rows, bounds, front, part.nranks,
                part.scale, part.shift, confirmed, counts)
        ids = np.zeros(0, dtype=colu.dtype.str.replace("u", "i"))
        run = _confirm_up_par if nchunks > 1 else _confirm_up_one
        run(*args, pos, ids)
        pos, totals = chunk_starts(counts)
        out = np.empty(2 * int(totals.sum()), dtype=ids.dtype)
        run(*args, pos, out)
        pairs, _ = alltoallv(comm, out, 2 * totals)
        _confirm_pairs(pairs, parent, lo, confirmed)
        return _unconfirmed(rowptr, parent, lo, rows, confirmed)


def _first(a, b):
    """The failure to keep of two (check, u, v) triples: the lower check, else the first."""
    if not b[0] or (a[0] and a[0] <= b[0]):
        return a
    return b


def _levels_and_scan(comm, graph, parent, root, pending, nchunks, exact=False):
    """Rules 2-6 for this rank's rows, level by level. Returns ((check, u, v, entries of the
    reached rows), suspect); `pending` (a _Pending) keeps the vertices that never got a
    depth.

    Level L+1 is the pending vertices whose parent is in level L (one Allgatherv of level
    L's bits per level). Rule 5, why this is complete: the CSR holds every non-self-loop
    tuple {u, v} as v in u's row and u in v's row (Kernel 1 writes both; the audit proved
    the CSR equals the generated tuples), and every row is scanned: the rows of level L
    check that no neighbour lies in levels 0..L-2 (`below`), and the unreached rows that no
    neighbour is reached. A tuple with both ends reached and levels two or more apart is
    caught in the row of its deeper end; a tuple with one end reached, in the row of the
    other. Nothing else is flagged. Both scans test sets through a summary that stays in
    cache (_row_test), so the random reads of N/8-byte bitmaps that made this 4x the search at
    SCALE 26 are gone; the CSR is read in order within each level.

    A tuple between level L and levels 0..L-2 can as well be caught from its shallow end:
    the rows of levels 0..L-2 must have no neighbour in level L. On a Kronecker graph the
    first levels hold few rows and the middle ones most entries, so each level (agreed by
    all ranks, one small Allreduce) takes the shallow side when its rows have fewer entries
    than the rows not yet scanned (a bound on the deep side's, known before scanning); the
    deep side's rows then only confirm their parents (_scan's confirm_only: up to the parent).
    The shallow side
    only says whether such a tuple exists: if one does anywhere (`suspect`, agreed at the
    end), the caller runs this again with exact=True, the deep side at every level, which
    names the same failure as always. exact=True is also what tests compare against."""
    part = graph.part
    bm = GlobalBitmap(comm, part)
    scan = _RowScan(graph, parent, bm.local_words, nchunks)
    below = np.zeros(bm.nwords, dtype=np.uint64)
    summary = np.zeros((bm.nwords + 63) >> 6, dtype=np.uint64)
    front_summary = np.zeros_like(summary)
    reached_local = np.zeros_like(bm.mine)
    prev_mine = None                   # this rank's bits of level L-1
    prev_entries = 0                   # and its rows' entries
    seen_entries = 0                   # entries of this rank's rows in levels 0..L-1
    total_entries = int(graph.rowptr[-1])
    # The parents' side sends at most one pair per entry of level L-1, and a rank receives
    # at most all of them: at most half a block's vertices bounds the two pair buffers by
    # two vertex ids per local vertex (validate_bfs_bytes).
    max_pairs = int(part.offsets[1] - part.offsets[0]) // 2
    costs = np.zeros(3, dtype=np.int64)
    suspect = False
    bm.mine[:] = 0
    if part.lo <= root < part.hi:
        set_bit(bm.mine, root - part.lo)
    cur = bm.gather()                  # bm.bits: the first of the three rotating level buffers
    window = [None, None]              # the global bits of levels L-2 and L-1
    first, entries = (0, 0, 0), 0
    while cur.any():                   # the same global bitmap on every rank: no vote needed
        if window[0] is not None:
            _add_level(below, summary, window[0])      # below = levels 0..L-2
        np.bitwise_or(reached_local, bm.mine, out=reached_local)
        below_entries = seen_entries - prev_entries      # this rank's rows in levels 0..L-2
        scanning = first[0] != CHECK_LEVEL   # after one, the rows cannot change the verdict
        deep, up = exact, False
        if not exact:
            # The deep side reads this level's rows, at most the entries not yet seen; the
            # shallow side the rows of levels 0..L-2, and the parents' side those of level
            # L-1. Every rank, every level.
            costs[:] = total_entries - seen_entries, below_entries, prev_entries
            comm.Allreduce(MPI.IN_PLACE, costs, op=MPI.SUM)
            deep = costs[0] <= costs[1]
            up = (not deep and prev_mine is not None and costs[2] * UP_ENTRY_COST < costs[0]
                  and costs[2] <= max_pairs)
        e = 0
        if up:          # collective: every rank, scanning or not
            c, u, v, e = scan.confirm_up(comm, part, prev_mine, bm.mine, cur)
        if scanning and deep:
            c, u, v, e = scan(bm.mine, below, summary, True)
            first = _first(first, (c, u, v))
        elif scanning:
            if not up:
                c, u, v, e = scan.confirm(bm.mine)
            first = _first(first, (c, u, v))
            if below_entries:          # levels 0..L-2 exist (L >= 2): prev_mine is set
                below_local = reached_local & ~bm.mine
                below_local &= ~prev_mine
                _summarize(cur, front_summary)
                if scan(below_local, cur, front_summary, False)[0]:
                    suspect = True
        entries += e
        seen_entries += e
        prev_entries = e
        if prev_mine is None:
            prev_mine = np.empty_like(bm.mine)
        np.copyto(prev_mine, bm.mine)
        pending.next_level(cur, bm.mine)
        spare = window[0]
        window = [window[1], cur]
        cur = bm.gather(spare if spare is not None else _fresh(bm))
    for bits in window:
        if bits is not None:
            _add_level(below, summary, bits)           # below = every reached vertex
    if not first[0] or first[0] > CHECK_REACH:
        unreached = ~reached_local
        tail = part.nlocal - 64 * (bm.local_words - 1)   # bits past nlocal are no rows
        if bm.local_words:
            unreached[bm.local_words - 1] &= ~np.uint64(0) >> np.uint64(64 - tail)
        c, u, v, _ = scan(unreached[:bm.local_words], below, summary, False)
        first = _first((c, u, v), first) if c else first
    if not exact:
        suspect = bool(comm.allreduce(suspect, op=MPI.LOR))
    return first + (entries,), suspect


def _fresh(bm):
    return np.empty(bm.nwords, dtype=np.uint64)


def validate_bfs(comm, graph, root, parent, nedge, nchunks=None, exact=False):
    """Collective. Returns (failure or None, validator's edge count); same on every rank.
    nchunks: the row scan's pieces (default 4 per thread, one at one thread); tests force
    several at one thread to check that the answer does not depend on it. exact: check rule
    5 from the deep end of every tuple only (see _levels_and_scan; the same answer)."""
    part = graph.part
    lo = part.lo
    if nchunks is None:
        nthreads = numba.get_num_threads()
        nchunks = 4 * nthreads if nthreads > 1 else 1

    pending = np.empty(part.nlocal, dtype=graph.col.dtype)    # local indices fit the id type
    v, x, npending = check_parent_range(parent, lo, part.nglobal, root, pending, nchunks)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1
    # The root's own entry first: without it no depth exists and every vertex would fail.
    bad_root = part.lo <= root < part.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    waiting = _Pending(graph, parent, pending, npending, nchunks)
    del pending
    (check, v, x, entries), suspect = _levels_and_scan(comm, graph, parent, root, waiting,
                                                       nchunks, exact)
    if suspect:     # a tuple spans two levels or more: name it as the deep side's scan does
        pending = np.empty(part.nlocal, dtype=graph.col.dtype)
        npending = check_parent_range(parent, lo, part.nglobal, root, pending, nchunks)[2]
        waiting = _Pending(graph, parent, pending, npending, nchunks)
        del pending
        (check, v, x, entries), _ = _levels_and_scan(comm, graph, parent, root, waiting,
                                                     nchunks, True)
    if waiting.count() and (not check or check > CHECK_TREE):
        i, p = waiting.lowest()                        # the lowest vertex without a depth
        check, v, x = CHECK_TREE, i + lo, p
    return conclude(comm, check, v, x, entries, nedge)


def conclude(comm, check, v, x, entries, nedge):
    """The last step, shared with the 2-D validator (validate2d.py): the failure every rank
    agrees on (this rank's first is check, v, x; check 0 for none), else the edge count
    (`entries` this rank saw with both ends reached, two per tuple) against nedge.
    Returns (failure or None, the validator's edge count, -1 after a failure)."""
    fail = agree(comm, check, v, x)
    if fail:
        return fail, -1
    counted = int(comm.allreduce(int(entries), op=MPI.SUM)) // 2
    if counted != nedge:
        return ValidationFailure(CHECK_NEDGE, nedge, counted), counted
    return None, counted


def verdict(comm, graph, root, parent, nedge):
    """Collective. What the benchmark records of one validation, whichever device searched:
    None, or (message, the spec's check number)."""
    fail, _ = validate_bfs(comm, graph, root, parent, nedge)
    return (fail.message(), fail.check) if fail else None


# --- memory estimate (used by graph500/memory.py) ---

def validate_bfs_bytes(scale, edgefactor, nranks):
    """Bytes validate_bfs holds at its peak on one rank: the pending vertices as local
    indices and parents (two vertex ids per local vertex) and, at most, either the pending
    list they are grouped from (one id) or the parents' side's pair buffers (two ids), and
    the bitmaps: three levels, the levels two above, the two summaries, and the local
    level, the level above, reached, unreached, levels two above (made when read, with a
    temporary), and confirmed bits."""
    from graph500.kernels.construct import max_block_vertices
    from graph500.kernels.graph import vertex_dtype
    n = max_block_vertices(scale, nranks)
    ids = np.dtype(vertex_dtype(scale)).itemsize
    bitmap = max((1 << scale) >> 6, 1) * 8
    return 4 * ids * n + 4 * bitmap + 2 * (bitmap // 64) + 7 * (n // 8 + 8)
