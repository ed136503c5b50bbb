"""SSSP validation (spec section 5), distributed and untimed.

Accepts and rejects what the reference's validator does, check by check (numbers as in the
spec; check 2 is the BFS depth rebuild, which SSSP replaces by the returned distances):
  1. every parent is -1 or a vertex id in [0, N);
  3. parent == -1 exactly when the distance is unset (inf);
  4. parent[root] == root and dist[root] == 0;
  5. for every non-self-loop input tuple (u, v, w): both unreached - skip; exactly one
     reached - error; float32(d(u) + w) < d(v) or float32(d(v) + w) < d(u) - error; u is
     confirmed when parent[u] == v and d(u) == float32(d(v) + w), exactly;
  6. every reached vertex other than the root is confirmed;
  7. the kernel's edge count equals the number of tuples with both ends reached.
The CSR holds every non-self-loop tuple once in each endpoint's row, so scanning the local
rows sees each tuple from both ends and each owner confirms its own vertices; only the
remote endpoint's distance is needed, read from a window of the distance array replicated
on every rank (`gather_window`: one Allgatherv per window instead of a message per edge).
Every rank returns the same verdict: the first failure (lowest check, then lowest vertex)
is agreed with one Allgather.
"""
import numpy as np
from mpi4py import MPI
from numba import njit

from kernels.exchange import gather_window

# Vertices per replicated window: 64 MiB of float32 distances per rank at most.
WINDOW = 1 << 24

# Failure kinds in the order they are reported (the spec's checks 1, 3, 4, 5 in two parts,
# 6, 7; 0 for arrays that cannot be checked at all).
CHECK_INPUT, CHECK_RANGE, CHECK_UNSET, CHECK_ROOT, CHECK_REACH, CHECK_WEIGHT, CHECK_CONFIRM, \
    CHECK_NEDGE = 0, 1, 3, 4, 5, 6, 7, 8
_NONE = 1 << 60

# A failure is (check, vertex, other, d_vertex, d_other, weight): ids as float64 are exact
# below 2^53, far beyond any SCALE that fits in memory.
_FIELDS = 6


def _message(root, f):
    check, v, x = int(f[0]), int(f[1]), int(f[2])
    dv, dx, w = ("%.9g" % np.float32(t) for t in f[3:6])
    if check == CHECK_INPUT:
        body = "the output is not a float32 distance and an integer parent array per vertex " \
               "of each rank's block (rank %d)" % v
    elif check == CHECK_RANGE:
        body = "vertex %d: parent %d is not -1 or a vertex id" % (v, x)
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
    else:
        body = "edge count %d reported by the kernel, %d counted by the validator" % (v, x)
    return "SSSP root %d: %s" % (root, body)


@njit(cache=True, nogil=True)
def _record(fail, check, v, x, dv, dx, w):
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
def _check_vertices(root, lo, nglobal, dist, parent, fail):
    """Checks 1, 3 and 4 on the local block."""
    for i in range(len(dist)):
        g = lo + i
        p = parent[i]
        d = dist[i]
        if p < -1 or p >= nglobal:
            _record(fail, CHECK_RANGE, g, p, d, 0.0, 0.0)
        unset = d == np.inf
        if (p == -1) != unset:
            _record(fail, CHECK_UNSET, g, p, d, 0.0, 0.0)
        if g == root and (p != root or d != 0.0):
            _record(fail, CHECK_ROOT, g, p, d, 0.0, 0.0)


@njit(cache=True, nogil=True)
def _check_edges(lo, rowptr, col, weight, dist, parent, window, wlo, whi, confirmed, fail):
    """Check 5 for the local entries whose neighbour lies in [wlo, whi); marks confirmed
    local vertices and returns the number of entries with both ends reached."""
    both = np.int64(0)
    for i in range(len(dist)):
        du = dist[i]
        u_reached = du != np.inf
        pu = parent[i]
        for k in range(rowptr[i], rowptr[i + 1]):
            v = col[k]
            if v < wlo or v >= whi:
                continue
            dv = window[v - wlo]
            v_reached = dv != np.inf
            if not u_reached and not v_reached:
                continue
            w = weight[k]
            if u_reached != v_reached:
                if u_reached:
                    _record(fail, CHECK_REACH, v, lo + i, dv, du, w)
                else:
                    _record(fail, CHECK_REACH, lo + i, v, du, dv, w)
                continue
            both += 1
            # float32 sums, exactly as the kernel relaxes (spec section 5, check 5)
            if du + w < dv or dv + w < du:
                _record(fail, CHECK_WEIGHT, min(lo + i, v), max(lo + i, v),
                        du if lo + i < v else dv, dv if lo + i < v else du, w)
            if pu == v and du == dv + w:
                confirmed[i] = 1
    return both


@njit(cache=True, nogil=True)
def _check_confirmed(root, lo, dist, confirmed, parent, fail):
    """Check 6: every reached vertex but the root has a parent edge giving its distance."""
    for i in range(len(dist)):
        if dist[i] != np.inf and lo + i != root and confirmed[i] == 0:
            _record(fail, CHECK_CONFIRM, lo + i, parent[i], dist[i], 0.0, 0.0)


def validate_sssp(comm, graph, root, dist, parent, nedge, window=WINDOW):
    """Collective. Returns (ok, message or None, nedge_counted), the same on every rank."""
    part = graph.part
    fail = np.array([_NONE, 0, 0, 0, 0, 0], dtype=np.float64)
    dist = np.asarray(dist)
    parent = np.asarray(parent)
    # float32 exactly: check 5's equality is defined on float32 sums. A rank cannot simply
    # raise here: the others would wait in the collectives below.
    usable = (dist.shape == (part.nlocal,) and parent.shape == (part.nlocal,)
              and dist.dtype == np.float32 and np.issubdtype(parent.dtype, np.integer))
    bad_rank = comm.allreduce(comm.Get_rank() if not usable else comm.Get_size(), op=MPI.MIN)
    if bad_rank < comm.Get_size():
        return False, _message(root, (CHECK_INPUT, bad_rank, 0, 0, 0, 0)), 0
    parent = parent.astype(np.int64, copy=False)
    if not 0 <= root < part.nglobal:  # no rank owns it: say so as "never reached"
        fail[:] = (CHECK_ROOT, root, -1, np.inf, 0, 0)
    _check_vertices(np.int64(root), np.int64(part.lo), np.int64(part.nglobal), dist, parent,
                    fail)

    confirmed = np.zeros(part.nlocal, dtype=np.uint8)
    buf = np.empty(min(window, part.nglobal), dtype=np.float32)
    both = 0
    for wlo in range(0, part.nglobal, window):
        whi = min(wlo + window, part.nglobal)
        win = gather_window(comm, part.offsets, dist, wlo, whi, buf)
        both += _check_edges(np.int64(part.lo), graph.rowptr, graph.col, graph.weight, dist,
                             parent, win, np.int64(wlo), np.int64(whi), confirmed, fail)
    _check_confirmed(np.int64(root), np.int64(part.lo), dist, confirmed, parent, fail)

    counts = np.array([both], dtype=np.int64)
    total = np.empty_like(counts)
    comm.Allreduce(counts, total, op=MPI.SUM)
    counted = int(total[0]) // 2
    if counted != nedge:
        _record_py(fail, CHECK_NEDGE, nedge, counted)

    fails = np.empty((comm.Get_size(), _FIELDS), dtype=np.float64)
    comm.Allgather(fail, fails)
    first = fails[np.lexsort((fails[:, 2], fails[:, 1], fails[:, 0]))[0]]
    if first[0] == _NONE:
        return True, None, counted
    return False, _message(root, first), counted


def _record_py(fail, check, v, x):
    if check < fail[0]:
        fail[:] = (check, v, x, 0, 0, 0)


# --- memory estimate (used by graph500/memory.py) ---

def validate_sssp_bytes(scale, edgefactor, nranks, window=WINDOW):
    """Bytes validate_sssp holds on one rank: the confirmed flags (1 per local vertex) and
    the replicated distance window (4 bytes per vertex, at most `window` vertices)."""
    from kernels.construct import max_block_vertices
    return max_block_vertices(scale, nranks) + 4 * min(window, 1 << scale)
