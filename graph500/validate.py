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


@njit(cache=True, nogil=True, parallel=True)
def _next_depth_level(parent, depth, level, front_bits):
    """Give depth level+1 to every undepthed vertex whose parent has depth level."""
    n = 0
    for i in prange(len(parent)):
        p = parent[i]
        if depth[i] == UNSET and p >= 0:
            if (front_bits[p >> 6] >> np.uint64(p & 63)) & np.uint64(1):
                depth[i] = level + 1
                n += 1
    return n


@njit(cache=True, nogil=True)
def _level_bits(depth, level, bits):
    bits[:] = 0
    for i in range(len(depth)):
        if depth[i] == level:
            bits[i >> 6] |= np.uint64(1) << np.uint64(i & 63)


@njit(cache=True, nogil=True)
def _check_tree(parent, depth, lo):
    for i in range(len(parent)):
        if (parent[i] == -1) != (depth[i] == UNSET):
            return i + lo, parent[i]
    return -1, 0


@njit(cache=True, nogil=True)
def _scan_edges(rowptr, col, parent, depth, lo, wlo, whi, window, confirmed):
    """Check every local row entry whose neighbour lies in [wlo, whi); return
    (failing check, u, v, both-reached entries)."""
    both = 0
    for i in range(len(parent)):
        du = depth[i]
        u = i + lo
        for k in range(rowptr[i], rowptr[i + 1]):
            v = col[k]
            if v < wlo or v >= whi:
                continue
            dv = window[v - wlo]
            if du == UNSET and dv == UNSET:
                continue
            if du == UNSET or dv == UNSET:
                return 5, u, v, both
            if du - dv > 1 or dv - du > 1:
                return 6, u, v, both
            both += 1
            if parent[i] == v and du == dv + 1:
                confirmed[i] = True
    return 0, 0, 0, both


@njit(cache=True, nogil=True)
def _check_confirmed(parent, confirmed, lo, root):
    for i in range(len(parent)):
        if parent[i] != -1 and i + lo != root and not confirmed[i]:
            return i + lo, parent[i]
    return -1, 0


def rebuild_depth(comm, part, parent, root):
    """Depth of every local vertex from the parent array alone (UNSET when never reached)."""
    depth = np.full(part.nlocal, UNSET, dtype=np.int32)
    if part.lo <= root < part.hi and parent[root - part.lo] == root:
        depth[root - part.lo] = 0
    nwords = max(part.nglobal >> 6, 1)
    front = np.zeros(nwords, dtype=np.uint64)
    local_words = (part.nlocal + 63) // 64
    mine = np.zeros(max(local_words, 1), dtype=np.uint64)
    offs = part.offsets
    counts = ((offs[1:] - offs[:-1] + 63) // 64).astype(np.int64)
    displs = (offs[:-1] // 64).astype(np.int64)
    level = 0
    while True:
        _level_bits(depth, level, mine)
        comm.Allgatherv([mine[:local_words], MPI.UINT64_T], [front, (counts, displs), MPI.UINT64_T])
        n = _next_depth_level(parent, depth, level, front)
        if comm.allreduce(int(n), op=MPI.SUM) == 0:
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

    depth = rebuild_depth(comm, part, parent, root)
    check, v, x = 0, 0, 0
    if part.lo <= root < part.hi and parent[root - lo] != root:
        check, v, x = CHECK_ROOT, root, parent[root - lo]
    else:
        tv, tx = _check_tree(parent, depth, lo)
        if tv >= 0:
            check, v, x = CHECK_TREE, tv, tx
    fail = agree(comm, check, v, x)
    if fail:
        return fail, -1

    confirmed = np.zeros(part.nlocal, dtype=np.bool_)
    window = np.empty(min(n, WINDOW), dtype=np.int32)
    both = 0
    check, v, x = 0, 0, 0
    for wlo in range(0, n, WINDOW):
        whi = min(n, wlo + WINDOW)
        win = gather_window(comm, part.offsets, depth, wlo, whi, window)
        if check == 0:
            c, u, w, b = _scan_edges(graph.rowptr, graph.col, parent, depth, lo, wlo, whi,
                                     win, confirmed)
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
