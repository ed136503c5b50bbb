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
scanning the local rows sees each tuple from both ends and each owner confirms its own
vertices. The depth rebuild goes level by level with a global bitmap of each level (one
Allgatherv of N bits per level, as in the bottom-up BFS). Rule 5 is checked with those same
bitmaps instead of depth values: a vertex of level L needs every neighbour in levels L-1, L
or L+1, which is one bit test in the union of three level bitmaps (N/8 bytes, small enough to
stay in cache, unlike an N-entry depth array); an unreached vertex needs no neighbour in the
bitmap of all reached vertices. Confirmation needs only that the row holds the parent: the
rebuilt depth of the parent is one less by construction. This is exact for any depth.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

# Check numbers; the first failing check (lowest number, then lowest vertex) is reported.
CHECK_RANGE, CHECK_TREE, CHECK_ROOT, CHECK_REACH, CHECK_LEVEL, CHECK_CONFIRM, CHECK_NEDGE = \
    1, 3, 4, 5, 6, 7, 8
_CHECK_EDGE = 9        # internal: a neighbour outside the three levels, classified at the end

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
def check_parent_range(parent, lo, n):
    for i in range(len(parent)):
        p = parent[i]
        if p < -1 or p >= n:
            return i + lo, p
    return -1, 0


@njit(cache=True, nogil=True, inline="always")
def _bit(bits, v):
    return (bits[v >> 6] >> np.uint64(v & 63)) & np.uint64(1)


@njit(cache=True, nogil=True)
def _pending(parent, lo, root):
    """Local vertices that have a parent but no depth yet (all but the root)."""
    out = np.empty(len(parent), dtype=np.int64)
    n = 0
    for i in range(len(parent)):
        if parent[i] != -1 and i + lo != root:
            out[n] = i
            n += 1
    return out, n


@njit(cache=True, nogil=True)
def _next_level(parent, front_bits, pending, npending, mine, order, filled):
    """Pending vertices whose parent is in the current level form the next level: their bits
    go to `mine`, they are appended to `order`, the rest stay pending.
    Returns (new filled, vertices left pending)."""
    mine[:] = 0
    left = 0
    for t in range(npending):
        i = pending[t]
        if _bit(front_bits, parent[i]):
            mine[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
            order[filled] = i
            filled += 1
        else:
            pending[left] = i
            left += 1
    return filled, left


@njit(cache=True, nogil=True, parallel=True)
def _scan_rows(rowptr, col, parent, lo, verts, allowed, want, nchunks):
    """Rows of `verts` must have every neighbour's bit in `allowed` equal to `want`
    (1: inside the allowed levels; 0: outside the reached set), and, for want == 1, hold
    their parent. `allowed` ends with a sentinel word. Branch-free per entry; only a
    failing row is scanned again.
    Returns (check, u, v, row entries scanned); the lowest failing chunk wins, so the answer
    does not depend on the thread count."""
    n = len(verts)
    sentinel = len(allowed) - 1
    fails = np.zeros((nchunks, 3), dtype=np.int64)
    counts = np.zeros(nchunks, dtype=np.int64)   # per chunk: no scalar reduction in prange
    w = np.uint64(want)
    for c in prange(nchunks):
        cnt = 0
        for t in range(c * n // nchunks, (c + 1) * n // nchunks):
            i = verts[t]
            p = parent[i]
            u = i + lo
            has_parent = False
            # Rule 5 is symmetric, so each tuple is tested from its smaller end only; the
            # other entries read the sentinel word (always passes, always cached) instead of
            # branching, which halves the random reads.
            if want:
                acc = np.uint64(1)
                for k in range(rowptr[i], rowptr[i + 1]):
                    v = col[k]
                    mine = v > u
                    word = (v >> 6) if mine else sentinel
                    acc &= allowed[word] >> np.uint64(v & 63)
                    has_parent |= v == p
                bad = (acc & np.uint64(1)) == 0
            else:
                acc = np.uint64(0)
                for k in range(rowptr[i], rowptr[i + 1]):
                    v = col[k]
                    word = (v >> 6) if v > u else sentinel
                    acc |= allowed[word] >> np.uint64(v & 63)
                bad = (acc & np.uint64(1)) != 0
            cnt += rowptr[i + 1] - rowptr[i]
            if fails[c, 0] != 0:
                continue
            if bad:
                for k in range(rowptr[i], rowptr[i + 1]):
                    if col[k] > u and _bit(allowed, col[k]) != w:
                        fails[c, 0] = _CHECK_EDGE if want else CHECK_REACH
                        fails[c, 1], fails[c, 2] = i + lo, col[k]
                        break
            elif want and not has_parent and p != i + lo:
                fails[c, 0], fails[c, 1], fails[c, 2] = CHECK_CONFIRM, i + lo, p
        counts[c] = cnt
    entries = counts.sum()
    for c in range(nchunks):
        if fails[c, 0] != 0:
            return fails[c, 0], fails[c, 1], fails[c, 2], entries
    return 0, 0, 0, entries


class _LevelBitmaps:
    """Global bitmaps of three consecutive levels, their union, and the reached set.
    The union and the reached set carry one extra sentinel word that passes every test
    (all ones for "inside the levels", zero for "not reached"): see _scan_rows."""

    def __init__(self, comm, part):
        self.comm = comm
        nwords = max(part.nglobal >> 6, 1)
        self.nwords = nwords
        self.prev, self.cur, self.next = (np.zeros(nwords, dtype=np.uint64) for _ in range(3))
        self.union = np.zeros(nwords + 1, dtype=np.uint64)
        self.union[nwords] = ~np.uint64(0)
        self.reached = np.zeros(nwords + 1, dtype=np.uint64)
        self.local_words = (part.nlocal + 63) // 64
        offs = part.offsets
        self.counts = ((offs[1:] - offs[:-1] + 63) // 64).astype(np.int64)
        self.displs = (offs[:-1] // 64).astype(np.int64)

    def gather_next(self, mine):
        self.comm.Allgatherv([mine[:self.local_words], MPI.UINT64_T],
                             [self.next, (self.counts, self.displs), MPI.UINT64_T])
        np.bitwise_or(self.reached[:self.nwords], self.next, out=self.reached[:self.nwords])

    def advance(self):
        self.prev, self.cur, self.next = self.cur, self.next, self.prev

    def allowed(self):
        u = self.union[:self.nwords]
        np.bitwise_or(self.prev, self.cur, out=u)
        np.bitwise_or(u, self.next, out=u)
        return self.union


def validate_bfs(comm, graph, root, parent, nedge):
    """Collective. Returns (failure or None, validator's edge count); same on every rank."""
    part = graph.part
    lo = part.lo
    nchunks = 4 * numba.get_num_threads()

    v, x = check_parent_range(parent, lo, part.nglobal)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1
    # The root's own entry first: without it no depth exists and every vertex would fail.
    bad_root = part.lo <= root < part.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    bm = _LevelBitmaps(comm, part)
    mine = np.zeros(max(bm.local_words, 1), dtype=np.uint64)
    order = np.empty(part.nlocal, dtype=np.int64)
    filled = 0
    if part.lo <= root < part.hi:
        i = root - lo
        mine[i >> 6] = np.uint64(1) << np.uint64(i & 63)
        order[0] = i
        filled = 1
    pending, npending = _pending(parent, lo, root)
    bm.gather_next(mine)                       # level 0: the root
    bm.advance()
    first = (0, 0, 0)
    entries = 0
    start = 0
    while True:
        # Level L = current: find level L+1, then check level L's rows against L-1..L+1.
        end = filled
        filled, npending = _next_level(parent, bm.cur, pending, npending, mine, order, filled)
        bm.gather_next(mine)
        c, u, w, e = _scan_rows(graph.rowptr, graph.col, parent, lo, order[start:end],
                                bm.allowed(), 1, nchunks)
        entries += e
        if c and not first[0]:
            first = (c, u, w)
        start = end
        if comm.allreduce(filled - end, op=MPI.SUM) == 0:
            break
        bm.advance()

    check, v, x = first
    if check == _CHECK_EDGE:   # now that every level is known: unreached, or too far?
        check = CHECK_LEVEL if _bit(bm.reached, x) else CHECK_REACH
    if npending and (not check or check > CHECK_TREE):
        check, v, x = CHECK_TREE, pending[0] + lo, parent[pending[0]]
    if not check:
        unreached = np.flatnonzero(parent == -1)
        c, u, w, _ = _scan_rows(graph.rowptr, graph.col, parent, lo, unreached, bm.reached, 0,
                                nchunks)
        if c:
            check, v, x = c, u, w
    fail = agree(comm, check, v, x)
    if fail:
        return fail, -1

    counted = int(comm.allreduce(int(entries), op=MPI.SUM)) // 2
    if counted != nedge:
        return ValidationFailure(CHECK_NEDGE, nedge, counted), counted
    return None, counted
