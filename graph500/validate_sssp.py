"""SSSP validation (spec section 5), distributed and untimed.

Accepts and rejects what the reference's validator does, check by check (numbers as in the
spec), plus the two checks the reference lacks (2 and 8 below), without which a separate
component marked reached at a huge or infinite distance, its parents in a 2-cycle, passes and
inflates the edge count:
  1. every parent is -1 or a vertex id in [0, N);
  2. every reached distance is finite and non-negative (the spec's check 2 is the BFS depth
     rebuild; SSSP uses the returned distances, so they must be ones a path can give);
  3. parent == -1 exactly when the distance is unset (inf);
  4. parent[root] == root and dist[root] == 0;
  5. for every non-self-loop input tuple (u, v, w): both unreached - skip; exactly one
     reached - error; float32(d(u) + w) < d(v) or float32(d(v) + w) < d(u) - error; u is
     confirmed when parent[u] == v and d(u) == float32(d(v) + w), exactly;
  6. every reached vertex other than the root is confirmed;
  7. (numbered 8 here) every reached vertex's parent chain ends at the root: no cycle;
  8. (numbered 9 here) the kernel's edge count equals the number of tuples with both ends
     reached.
With 1-6 and 7 the reached set is exactly the root's component: check 5 makes it a union of
components, and every chain runs along confirmed (real) edges to the root.

Check 7 cheaply: weights are non-negative (spec: [0, 1)), so along a confirmed parent edge
d(parent) <= d(v) (float32 addition of w >= 0 never goes down), and a parent cycle can only
join vertices of equal distance. Equality is rare in a correct result (a zero weight, or a
weight below half an ulp of the distance), so the scan marks each vertex confirmed by an
edge from a parent at the same distance (a "tie"), and only ties are followed: a tie whose
chain of ties reaches a vertex that is not a tie is fine, since from there the distance
strictly drops. Ties are followed by pointer jumping (each round, every unresolved tie asks
its current target's owner for that target's state and target, doubling the distance
jumped), so a chain of k ties needs about log2(k) rounds, and ties left unresolved after
SCALE + 1 rounds lie on or lead into a cycle. A correct result with no ties costs nothing
beyond a number folded into the edge-count Allreduce.

The CSR holds every non-self-loop tuple once in each endpoint's row, so scanning the local
rows sees each tuple from both ends and each owner confirms its own vertices; only the
remote endpoint's distance is needed, read from the distance array replicated on every rank
(`gather_window`: one Allgatherv instead of a message per edge). The whole array is one
window whenever it fits window_bytes() (every SCALE this benchmark runs at on a few ranks),
so the rows are scanned once; beyond that it is gathered and scanned in windows.
The row scan runs on all threads (chunks of rows, a failure and a count per chunk, merged
in chunk order: the verdict does not depend on the thread count).
Every rank returns the same verdict: the first failure (lowest check, then lowest vertex)
is agreed with one Allgather.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.exchange import alltoallv, gather_window
from graph500.kernels.intrinsics import prefetch
from graph500.kernels.partition import owner

# The replicated distance window: the whole array when it takes at most this many bytes, or
# an eighth of the local graph's bytes if that is more (the window is then small next to
# the graph); otherwise windows of this size.
WINDOW_BYTES = 256 << 20

# Entries ahead whose neighbour's distance the edge scan asks the cache for (see
# kernels/intrinsics.py prefetch): far enough to cover a miss, near enough to stay cached.
PREFETCH_AHEAD = 16

# Failure kinds in the order they are reported (the spec's checks 1-6, 5 in two parts, the
# chain check, the edge count; 0 for arrays that cannot be checked at all).
CHECK_INPUT, CHECK_RANGE, CHECK_FINITE, CHECK_UNSET, CHECK_ROOT, CHECK_REACH, CHECK_WEIGHT, \
    CHECK_CONFIRM, CHECK_CHAIN, CHECK_NEDGE = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
NO_FAILURE = 1 << 60

# confirmed[] marks: not confirmed / by a parent strictly nearer the root / by a parent at
# the same distance (a tie, see check 8).
STRICT, TIE = 1, 2

# A failure is (check, vertex, other, d_vertex, d_other, weight): ids as float64 are exact
# below 2^53, far beyond any SCALE that fits in memory.
FAIL_FIELDS = 6


def window_size(part, graph_bytes, window_bytes=WINDOW_BYTES):
    """Vertices per replicated window: all N when 4N bytes fit the budget."""
    budget = max(window_bytes, graph_bytes // 8)
    return part.nglobal if 4 * part.nglobal <= budget else max(1, budget // 4)


def _message(root, f):
    check, v, x = int(f[0]), int(f[1]), int(f[2])
    dv, dx, w = ("%.9g" % np.float32(t) for t in f[3:6])
    if check == CHECK_INPUT:
        body = "the output is not a float32 distance and an integer parent array per vertex " \
               "of each rank's block (rank %d)" % v
    elif check == CHECK_RANGE:
        body = "vertex %d: parent %d is not -1 or a vertex id" % (v, x)
    elif check == CHECK_FINITE:
        body = "vertex %d: distance %s is not a finite non-negative number (parent %d)" \
               % (v, dv, x)
    elif check == CHECK_UNSET:
        body = "vertex %d: parent %d with distance %s (parent -1 must go with an unset, " \
               "infinite distance and only with it)" % (v, x, dv)
    elif check == CHECK_ROOT:
        body = "root %d has parent %d and distance %s, not itself and 0" % (v, x, dv)
    elif check == CHECK_REACH:
        body = "edge (%d, %d) weight %s joins an unreached vertex %d to a reached one " \
               "(distance %s)" % (v, x, w, v, dx)
    elif check == CHECK_WEIGHT:
        body = "edge (%d, %d) weight %s: distances %s and %s differ by more than the " \
               "weight" % (v, x, w, dv, dx)
    elif check == CHECK_CONFIRM:
        body = "vertex %d: parent %d is not joined to it by an edge giving its distance " \
               "exactly (distance %s)" % (v, x, dv)
    elif check == CHECK_CHAIN:
        body = "vertex %d: parent %d, but its parent chain never reaches the root (a " \
               "cycle, distance %s)" % (v, x, dv)
    else:
        body = "edge count %d reported by the kernel, %d counted by the validator" % (v, x)
    return "SSSP root %d: %s" % (root, body)


@njit(cache=True, nogil=True)
def record_failure(fail, check, v, x, dv, dx, w):
    """Keep the first failure by (check, vertex, other)."""
    if (check < fail[0] or (check == fail[0] and (v < fail[1] or
                                                   (v == fail[1] and x < fail[2])))):
        fail[0] = check
        fail[1] = v
        fail[2] = x
        fail[3] = dv
        fail[4] = dx
        fail[5] = w


@njit(cache=True, nogil=True)
def merge_failures(fails, fail):
    for c in range(fails.shape[0]):
        f = fails[c]
        record_failure(fail, f[0], f[1], f[2], f[3], f[4], f[5])


@njit(cache=True, nogil=True, parallel=True)
def _check_vertices(root, lo, nglobal, dist, parent, fail, nchunks):
    """Checks 1-4 on the local block."""
    n = len(dist)
    fails = np.full((nchunks, FAIL_FIELDS), np.float64(NO_FAILURE))
    for c in prange(nchunks):
        f = fails[c]
        for i in range(c * n // nchunks, (c + 1) * n // nchunks):
            g = lo + i
            p = parent[i]
            d = dist[i]
            if p < -1 or p >= nglobal:
                record_failure(f, CHECK_RANGE, g, p, d, 0.0, 0.0)
            unset = d == np.inf
            if not unset and not (d >= 0.0 and d < np.inf):   # NaN, -inf, negative
                record_failure(f, CHECK_FINITE, g, p, d, 0.0, 0.0)
            if (p == -1) != unset:
                record_failure(f, CHECK_UNSET, g, p, d, 0.0, 0.0)
            if g == root and (p != root or d != 0.0):
                record_failure(f, CHECK_ROOT, g, p, d, 0.0, 0.0)
    merge_failures(fails, fail)


@njit(cache=True, nogil=True, parallel=True)
def _check_edges(lo, rowptr, col, weight, dist, parent, window, wlo, whi, confirmed, fail,
                 nchunks):
    """Check 5 for the local entries whose neighbour lies in [wlo, whi); marks confirmed
    local vertices (TIE when the parent's distance equals theirs) and returns twice the
    number of tuples with both ends reached that it tested (from their smaller end)."""
    n = len(dist)
    fails = np.full((nchunks, FAIL_FIELDS), np.float64(NO_FAILURE))
    counts = np.zeros(nchunks, dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        f = fails[c]
        both = 0
        i0, i1 = c * n // nchunks, (c + 1) * n // nchunks
        kend = rowptr[i1]
        for i in range(i0, i1):
            du = dist[i]
            u_reached = du != np.inf
            pu = parent[i]
            for k in range(rowptr[i], rowptr[i + 1]):
                if k + PREFETCH_AHEAD < kend:
                    prefetch(window, col[k + PREFETCH_AHEAD] - wlo)
                v = col[k]
                if v < wlo or v >= whi:
                    continue
                if v < lo + i:
                    # Check 5 is symmetric and its failures are recorded the same from
                    # either end, so each tuple is tested from its smaller end only (v's row
                    # holds it too, here or on v's owner): half the random reads. The
                    # parent edge is still confirmed here.
                    if pu == v:
                        dv = window[v - wlo]
                        if du == dv + weight[k]:
                            confirmed[i] = TIE if dv == du else STRICT
                    continue
                dv = window[v - wlo]
                v_reached = dv != np.inf
                if not u_reached and not v_reached:
                    continue
                w = weight[k]
                if u_reached != v_reached:
                    if u_reached:
                        record_failure(f, CHECK_REACH, v, lo + i, dv, du, w)
                    else:
                        record_failure(f, CHECK_REACH, lo + i, v, du, dv, w)
                    continue
                both += 2   # for both entries of the tuple
                # float32 sums, exactly as the kernel relaxes (spec section 5, check 5)
                if du + w < dv or dv + w < du:
                    record_failure(f, CHECK_WEIGHT, min(lo + i, v), max(lo + i, v),
                                   du if lo + i < v else dv, dv if lo + i < v else du, w)
                if pu == v and du == dv + w:
                    confirmed[i] = TIE if dv == du else STRICT
        counts[c] = both
    merge_failures(fails, fail)
    return counts.sum()


@njit(cache=True, nogil=True, parallel=True)
def _check_confirmed(root, lo, dist, confirmed, parent, fail, nchunks):
    """Check 6: every reached vertex but the root has a parent edge giving its distance.
    Returns the number of ties (see check 8). (One thread's pass here was 18 ms of a 510 ms
    SCALE 22 validation at 2 threads.)"""
    n = len(dist)
    fails = np.full((nchunks, FAIL_FIELDS), np.float64(NO_FAILURE))
    counts = np.zeros(nchunks, dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        f = fails[c]
        ties = 0
        for i in range(c * n // nchunks, (c + 1) * n // nchunks):
            if dist[i] != np.inf and lo + i != root and confirmed[i] == 0:
                record_failure(f, CHECK_CONFIRM, lo + i, parent[i], dist[i], 0.0, 0.0)
            if confirmed[i] == TIE:
                ties += 1
        counts[c] = ties
    merge_failures(fails, fail)
    return counts.sum()


# ---------------------------------------------------------------- check 8: pointer jumping

@njit(cache=True, nogil=True)
def _requests(live, nxt, nranks, scale, shift, counts, order):
    """The unresolved ties' targets grouped by owner: order[j] is the tie asking j-th."""
    counts[:] = 0
    nl = 0
    for t in range(len(live)):
        if live[t]:
            counts[owner(nxt[t], nranks, scale, shift)] += 1
            nl += 1
    pos = np.zeros(len(counts), dtype=np.int64)
    for r in range(1, len(counts)):
        pos[r] = pos[r - 1] + counts[r - 1]
    targets = np.empty(nl, dtype=np.int64)
    for t in range(len(live)):
        if live[t]:
            r = owner(nxt[t], nranks, scale, shift)
            targets[pos[r]] = nxt[t]
            order[pos[r]] = t
            pos[r] += 1
    return targets


@njit(cache=True, nogil=True)
def _answers(asked, lo, ties, live, nxt):
    """For each asked vertex (owned here): -1 when its chain is resolved (not a tie, or a
    resolved tie), else its current target. Read before any of this round's updates."""
    out = np.empty(len(asked), dtype=np.int64)
    for j in range(len(asked)):
        i = asked[j] - lo
        t = np.searchsorted(ties, i)
        if t < len(ties) and ties[t] == i and live[t]:
            out[j] = nxt[t]
        else:
            out[j] = -1
    return out


@njit(cache=True, nogil=True)
def _update(replies, order, live, nxt):
    left = 0
    for j in range(len(replies)):
        t = order[j]
        if replies[j] < 0:
            live[t] = False
        else:
            nxt[t] = replies[j]
            left += 1
    return left


def _check_chains(comm, part, dist, parent, confirmed, nlive, fail):
    """Check 8 (collective; `nlive` = ties over all ranks, the same everywhere)."""
    ties = np.flatnonzero(confirmed == TIE)
    nxt = parent[ties].astype(np.int64)
    live = np.ones(len(ties), dtype=np.bool_)
    counts = np.zeros(part.nranks, dtype=np.int64)
    order = np.empty(len(ties), dtype=np.int64)
    rounds = 0
    # A chain is shorter than N = 2^SCALE, and round k jumps 2^k steps.
    while nlive and rounds <= part.scale + 1:
        targets = _requests(live, nxt, part.nranks, part.scale, part.shift, counts, order)
        asked, asked_counts = alltoallv(comm, targets, counts)
        replies = _answers(asked[:int(asked_counts.sum())], np.int64(part.lo), ties, live, nxt)
        back, _ = alltoallv(comm, replies, asked_counts)
        left = _update(back[:len(targets)], order, live, nxt)
        nlive = comm.allreduce(left, op=MPI.SUM)
        rounds += 1
    if nlive:
        t = np.flatnonzero(live)
        if len(t):
            i = ties[t[0]]
            record_failure(fail, CHECK_CHAIN, part.lo + i, parent[i], dist[i], 0.0, 0.0)


def check_owned(comm, part, root, dist, parent, nchunks):
    """Collective. What each rank checks on its own block before any edge, shared with the
    2-D validator (validate_sssp2d.py): usable arrays on every rank, then checks 1-4.
    Returns (message, fail, dist, parent): message names the unusable input (the same on
    every rank; nothing else is checked then) or is None; fail holds this rank's first
    failure of checks 1-4 (NO_FAILURE when none); parent comes back as int64."""
    fail = np.array([NO_FAILURE, 0, 0, 0, 0, 0], dtype=np.float64)
    dist = np.asarray(dist)
    parent = np.asarray(parent)
    # float32 exactly: check 5's equality is defined on float32 sums. A rank cannot simply
    # raise here: the others would wait in the collectives that follow.
    usable = (dist.shape == (part.nlocal,) and parent.shape == (part.nlocal,)
              and dist.dtype == np.float32 and np.issubdtype(parent.dtype, np.integer))
    bad_rank = comm.allreduce(comm.Get_rank() if not usable else comm.Get_size(), op=MPI.MIN)
    if bad_rank < comm.Get_size():
        return _message(root, (CHECK_INPUT, bad_rank, 0, 0, 0, 0)), fail, dist, parent
    parent = parent.astype(np.int64, copy=False)
    if not 0 <= root < part.nglobal:  # no rank owns it: say so as "never reached"
        fail[:] = (CHECK_ROOT, root, -1, np.inf, 0, 0)
    _check_vertices(np.int64(root), np.int64(part.lo), np.int64(part.nglobal), dist, parent,
                    fail, nchunks)
    return None, fail, dist, parent


def validate_sssp(comm, graph, root, dist, parent, nedge, window=None):
    """Collective. Returns (ok, message or None, nedge_counted), the same on every rank.
    `window`: vertices per replicated window (default: window_size())."""
    part = graph.part
    nchunks = 4 * numba.get_num_threads()
    message, fail, dist, parent = check_owned(comm, part, root, dist, parent, nchunks)
    if message:
        return False, message, 0

    if window is None:
        gbytes = graph.rowptr.nbytes + graph.col.nbytes + graph.weight.nbytes
        window = window_size(part, comm.allreduce(gbytes, op=MPI.MIN))
    confirmed = np.zeros(part.nlocal, dtype=np.uint8)
    buf = np.empty(min(window, part.nglobal), dtype=np.float32)
    both = 0
    for wlo in range(0, part.nglobal, window):
        whi = min(wlo + window, part.nglobal)
        win = gather_window(comm, part.offsets, dist, wlo, whi, buf)
        both += _check_edges(np.int64(part.lo), graph.rowptr, graph.col, graph.weight, dist,
                             parent, win, np.int64(wlo), np.int64(whi), confirmed, fail,
                             nchunks)
    return conclude(comm, part, root, dist, parent, confirmed, both, nedge, fail)


def conclude(comm, part, root, dist, parent, confirmed, both, nedge, fail):
    """The steps after the edge scan, shared with the 2-D validator (validate_sssp2d.py):
    the confirmed parents, the parent chains, the edge count against nedge, and the one
    failure every rank agrees on (lowest check, then vertex). `confirmed` marks this rank's
    vertices whose parent edge was seen, `both` counts entries with both ends reached.
    Returns (ok, message or None, the validator's edge count)."""
    ties = _check_confirmed(np.int64(root), np.int64(part.lo), dist, confirmed, parent, fail,
                            4 * numba.get_num_threads())
    counts = np.array([both, ties], dtype=np.int64)
    total = np.empty_like(counts)
    comm.Allreduce(counts, total, op=MPI.SUM)
    _check_chains(comm, part, dist, parent, confirmed, int(total[1]), fail)
    counted = int(total[0]) // 2
    if counted != nedge:
        _record_py(fail, CHECK_NEDGE, nedge, counted)

    fails = np.empty((comm.Get_size(), FAIL_FIELDS), dtype=np.float64)
    comm.Allgather(fail, fails)
    first = fails[np.lexsort((fails[:, 2], fails[:, 1], fails[:, 0]))[0]]
    if first[0] == NO_FAILURE:
        return True, None, counted
    return False, _message(root, first), counted


def _record_py(fail, check, v, x):
    if check < fail[0]:
        fail[:] = (check, v, x, 0, 0, 0)


def verdict(comm, graph, root, dist, parent, nedge):
    """Collective. What the benchmark records of one validation, whichever device searched:
    None, or (message, None): the message names the failed check in words."""
    ok, message, _ = validate_sssp(comm, graph, root, dist, parent, nedge)
    return None if ok else (message, None)


# --- memory estimate (used by graph500/memory.py) ---

def validate_sssp_bytes(scale, edgefactor, nranks, window_bytes=WINDOW_BYTES):
    """Bytes validate_sssp holds on one rank: the confirmed flags (1 per local vertex) and
    the replicated distances (4 bytes per vertex of window_size's window: all N when they
    fit its budget). The tie-chasing arrays are sized by tied vertices, none in practice."""
    from graph500.kernels.construct import graph_bytes, max_block_vertices
    budget = max(window_bytes, graph_bytes(scale, edgefactor, nranks, True) // 8)
    nglobal = 1 << scale
    window = nglobal if 4 * nglobal <= budget else max(1, budget // 4)
    return max_block_vertices(scale, nranks) + 4 * window
