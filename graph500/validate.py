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
The CSR holds every non-self-loop tuple once in each endpoint's row, so scanning the local
rows sees each tuple from both ends, and each owner confirms its own vertices. A remote
endpoint's depth is read from a window of the depth array replicated on every rank
(`gather_window`): one Allgatherv per window instead of one message per edge.
"""
import numpy as np
from mpi4py import MPI
import numba
from numba import njit, prange

from kernels.exchange import gather_window

# Vertices per replicated window: 64 MiB of int32 depths per rank at most.
WINDOW = 1 << 24

UNSET = -1

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
def check_parent_range(parent, lo, n):
    for i in range(len(parent)):
        p = parent[i]
        if p < -1 or p >= n:
            return i + lo, p
    return -1, 0


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
def _next_depth_level(parent, depth, level, front_bits, pending, npending, mine):
    """Give depth level+1 to the pending vertices whose parent has depth level; they become
    the next level's frontier bits (`mine`), the rest stay pending. Returns (set, left)."""
    mine[:] = 0
    left = 0
    done = 0
    for t in range(npending):
        i = pending[t]
        p = parent[i]
        if (front_bits[p >> 6] >> np.uint64(p & 63)) & np.uint64(1):
            depth[i] = level + 1
            mine[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
            done += 1
        else:
            pending[left] = i
            left += 1
    return done, left


@njit(cache=True, nogil=True)
def _check_tree(parent, depth, lo):
    for i in range(len(parent)):
        if (parent[i] == -1) != (depth[i] == UNSET):
            return i + lo, parent[i]
    return -1, 0


@njit(cache=True, nogil=True)
def _first_bad_neighbour(rowptr, col, i, du, unset, wlo, whi, window):
    """The slow path, only after a row is known to fail: which neighbour, which rule."""
    for k in range(rowptr[i], rowptr[i + 1]):
        v = col[k]
        if v < wlo or v >= whi:
            continue
        dv = np.int64(window[v - wlo])
        if (du == unset) != (dv == unset):
            return 5, v
        if du != unset and (du - dv > 1 or dv - du > 1):
            return 6, v
    return 0, 0


@njit(cache=True, nogil=True, parallel=True)
def _scan_edges(rowptr, col, parent, depth, unset, lo, wlo, whi, window, nchunks, confirmed):
    """Check the local row entries (u, v) with v in [wlo, whi).

    Each row is checked without branches on the data: an unreached u needs every neighbour
    unreached; a reached u needs every neighbour at depth du-1, du or du+1, which is one
    unsigned comparison (an unreached neighbour, 255 or -1, falls outside it too). Only a
    row that fails is scanned again to name the neighbour. u is confirmed when its row holds
    its parent one level up. Returns (failing check, u, v, entries with both ends reached);
    threads take whole chunks of rows and the lowest failing chunk is reported, so the answer
    does not depend on the thread count.
    """
    n = len(parent)
    fails = np.zeros((nchunks, 3), dtype=np.int64)
    both = 0
    for c in prange(nchunks):
        a = c * n // nchunks
        b = (c + 1) * n // nchunks
        cnt = 0
        for i in range(a, b):
            du = np.int64(depth[i])
            p = parent[i]
            bad = False
            has_parent = False
            inside = 0
            for k in range(rowptr[i], rowptr[i + 1]):
                v = col[k]
                if v < wlo or v >= whi:
                    continue
                inside += 1
                dv = np.int64(window[v - wlo])
                if du == unset:
                    bad |= dv != unset
                else:
                    bad |= np.uint64(dv + 1 - du) > np.uint64(2)
                has_parent |= v == p
            if has_parent and du != unset and du == np.int64(window[p - wlo]) + 1:
                confirmed[i] = True
            if du != unset:
                cnt += inside
            if bad and fails[c, 0] == 0:
                check, v = _first_bad_neighbour(rowptr, col, i, du, unset, wlo, whi, window)
                fails[c, 0], fails[c, 1], fails[c, 2] = check, i + lo, v
        both += cnt
    for c in range(nchunks):
        if fails[c, 0] != 0:
            return fails[c, 0], fails[c, 1], fails[c, 2], both
    return 0, 0, 0, both


@njit(cache=True, nogil=True)
def _check_confirmed(parent, confirmed, lo, root):
    for i in range(len(parent)):
        if parent[i] != -1 and i + lo != root and not confirmed[i]:
            return i + lo, parent[i]
    return -1, 0


def rebuild_depth(comm, part, parent, root):
    """Depth of every local vertex from the parent array alone (UNSET when never reached).
    Only vertices still pending are looked at on each level, so the work shrinks as it goes."""
    depth = np.full(part.nlocal, UNSET, dtype=np.int32)
    nwords = max(part.nglobal >> 6, 1)
    front = np.zeros(nwords, dtype=np.uint64)
    local_words = (part.nlocal + 63) // 64
    mine = np.zeros(max(local_words, 1), dtype=np.uint64)
    if part.lo <= root < part.hi and parent[root - part.lo] == root:
        i = root - part.lo
        depth[i] = 0
        mine[i >> 6] = np.uint64(1) << np.uint64(i & 63)
    pending, npending = _pending(parent, part.lo, root)
    offs = part.offsets
    counts = ((offs[1:] - offs[:-1] + 63) // 64).astype(np.int64)
    displs = (offs[:-1] // 64).astype(np.int64)
    level = 0
    while True:
        comm.Allgatherv([mine[:local_words], MPI.UINT64_T], [front, (counts, displs), MPI.UINT64_T])
        done, npending = _next_depth_level(parent, depth, level, front, pending, npending, mine)
        if comm.allreduce(int(done), op=MPI.SUM) == 0:
            return depth
        level += 1


def validate_bfs(comm, graph, root, parent, nedge):
    """Collective. Returns (failure or None, validator's edge count); same on every rank."""
    part = graph.part
    lo, n = part.lo, part.nglobal

    v, x = check_parent_range(parent, lo, n)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1

    # The root's own entry first: without it no depth exists and every vertex would fail.
    bad_root = part.lo <= root < part.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    depth = rebuild_depth(comm, part, parent, root)
    tv, tx = _check_tree(parent, depth, lo)
    fail = agree(comm, CHECK_TREE if tv >= 0 else 0, tv, tx)
    if fail:
        return fail, -1

    # Depths are small in practice; one byte each makes the replicated window four times
    # smaller, so the scan's random reads stay in cache. Exact while every depth is < 255.
    maxdepth = comm.allreduce(int(depth.max()) if len(depth) else 0, op=MPI.MAX)
    if maxdepth < 255:
        depth, unset = depth.astype(np.uint8), 255     # UNSET (-1) wraps to 255
    else:
        unset = UNSET
    confirmed = np.zeros(part.nlocal, dtype=np.bool_)
    window = np.empty(min(n, WINDOW), dtype=depth.dtype)
    both = 0
    check, v, x = 0, 0, 0
    for wlo in range(0, n, WINDOW):
        whi = min(n, wlo + WINDOW)
        win = gather_window(comm, part.offsets, depth, wlo, whi, window)
        if check == 0:
            c, u, w, b = _scan_edges(graph.rowptr, graph.col, parent, depth, unset, lo, wlo, whi,
                                     win, 4 * numba.get_num_threads(), confirmed)
            both += b
            if c:
                check, v, x = c, u, w
    fail = agree(comm, check, v, x)
    if fail:
        return fail, -1

    cv, cx = _check_confirmed(parent, confirmed, lo, root)
    fail = agree(comm, CHECK_CONFIRM if cv >= 0 else 0, cv, cx)
    if fail:
        return fail, -1

    counted = int(comm.allreduce(int(both), op=MPI.SUM)) // 2
    if counted != nedge:
        return ValidationFailure(CHECK_NEDGE, nedge, counted), counted
    return None, counted
