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
vertices; rule 5, being symmetric, is tested from the tuple's smaller end only (why that is
complete: _scan_reached). The depth rebuild also groups the reached vertices by level, in
vertex order, for the row scan. The depth rebuild goes level by level with a global bitmap of each level (one
Allgatherv of N bits per level, as in the bottom-up BFS). Rule 5 is checked with those same
bitmaps instead of depth values: a vertex of level L needs every neighbour in levels L-1, L
or L+1, which is one bit test in the union of three level bitmaps (N/8 bytes, small enough to
stay in cache, unlike an N-entry depth array); an unreached vertex needs no neighbour in the
bitmap of all reached vertices. Confirmation needs only that the row holds the parent: the
rebuilt depth of the parent is one less by construction. This is exact for any depth. The
rows are scanned level by level (one union in cache at a time); the level bitmaps are kept
from the rebuild (a few levels x N/8 bytes), so no collective runs between levels; past
LEVEL_BYTES_BUDGET each level's bitmap is gathered again instead.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from graph500.kernels.bitmap import GlobalBitmap, set_bit, test_bit

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
def check_parent_range(parent, lo, n, root, pending):
    """Rule 1, and in the same pass the list of vertices waiting for a depth (those with a
    parent, all but the root). Returns (first bad vertex or -1, its parent, pending count)."""
    npending = 0
    for i in range(len(parent)):
        p = parent[i]
        if p < -1 or p >= n:
            return i + lo, p, npending
        if p != -1 and i + lo != root:
            pending[npending] = i
            npending += 1
    return -1, 0, npending


@njit(cache=True, nogil=True)
def _next_level(parent, front_bits, pending, npending, level, depth, mine, verts, nverts):
    """Pending vertices whose parent is in the current level form the next level: they get
    depth level+1, their bits go to `mine`, and they are appended to verts[nverts:]; the rest
    stay pending. `pending` stays in vertex order (it is only compacted), so each level's
    run of `verts` is in vertex order too: the row scan then reads the CSR forwards.
    Returns (vertices in `verts` now, vertices left pending)."""
    mine[:] = 0
    left = 0
    for t in range(npending):
        i = pending[t]
        if test_bit(front_bits, parent[i]):
            set_bit(mine, i)
            depth[i] = level + 1
            verts[nverts] = i
            nverts += 1
        else:
            pending[left] = i
            left += 1
    return nverts, left


@njit(cache=True, nogil=True)
def _level_bits(depth, level, mine):
    mine[:] = 0
    for i in range(len(depth)):
        if depth[i] == level:
            set_bit(mine, i)


@njit(cache=True, nogil=True)
def _scan_run(rowptr, colu, parent, lo, verts, t0, t1, allowed, want):
    """Rows verts[t0:t1] must have every neighbour's bit in `allowed` equal to `want` (1: inside
    the allowed levels; 0: outside the reached set), and, for want == 1, hold their parent.
    `colu` is the CSR's col viewed as unsigned (uint32 for int32 ids): unsigned ids need no
    sign handling in the shift, the word index or the array access, which made this loop
    3-25 % faster than with signed ids (one process, SCALE 20, loaded machine). `allowed` ends with a sentinel word that passes
    every test. Returns (check, u, v, row entries scanned) for the first failing row, or
    (0, 0, 0, entries)."""
    sentinel = np.uint64(len(allowed) - 1)
    six, low = np.uint64(6), np.uint64(63)
    entries = 0
    for t in range(t0, t1):
        i = verts[t]
        u = np.uint64(i + lo)
        a, b = np.uint64(rowptr[i]), np.uint64(rowptr[i + 1])
        entries += rowptr[i + 1] - rowptr[i]
        p = u
        # Rule 5 is symmetric, so each tuple is tested from its smaller end only (see
        # _scan_reached for why that is complete); the other entries read the sentinel word
        # (always passes, always cached) instead of branching, which halves the random reads.
        if want:
            p = np.uint64(parent[i])          # a reached vertex's parent is a vertex id
            acc = np.uint64(1)
            has_parent = False
            k = a
            while k < b:
                v = np.uint64(colu[k])
                word = (v >> six) if v > u else sentinel
                acc &= allowed[word] >> (v & low)
                has_parent |= v == p
                k += np.uint64(1)
            bad = (acc & np.uint64(1)) == 0
        else:
            acc = np.uint64(0)
            k = a
            while k < b:
                v = np.uint64(colu[k])
                word = (v >> six) if v > u else sentinel
                acc |= allowed[word] >> (v & low)
                k += np.uint64(1)
            bad = (acc & np.uint64(1)) != 0
            has_parent = True
        if bad:                                # only a failing row is scanned again
            k = a
            while k < b:
                v = np.uint64(colu[k])
                if v > u and test_bit(allowed, v) != want:
                    return (_CHECK_EDGE if want else CHECK_REACH), np.int64(u), np.int64(v), \
                        entries
                k += np.uint64(1)
        if not has_parent and p != u:          # the root need not be its own neighbour
            return CHECK_CONFIRM, np.int64(u), np.int64(p), entries
    return 0, 0, 0, entries


@njit(cache=True, nogil=True, parallel=True)
def _scan_run_par(rowptr, colu, parent, lo, verts, allowed, want, nchunks):
    """_scan_run over nchunks contiguous pieces of verts; the lowest failing chunk wins, so
    the answer does not depend on the thread count."""
    n = len(verts)
    res = np.zeros((nchunks, 4), dtype=np.int64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        r = _scan_run(rowptr, colu, parent, lo, verts, c * n // nchunks,
                      (c + 1) * n // nchunks, allowed, want)
        res[c, 0], res[c, 1], res[c, 2], res[c, 3] = r[0], r[1], r[2], r[3]
    entries = res[:, 3].sum()
    for c in range(nchunks):
        if res[c, 0] != 0:
            return res[c, 0], res[c, 1], res[c, 2], entries
    return 0, 0, 0, entries


def _scan_rows(graph, parent, lo, verts, allowed, want, nchunks):
    """Returns (check, u, v, row entries scanned) for the rows of verts (see _scan_run). One
    thread: the chunk function is called directly, without its parallel wrapper."""
    colu = graph.col.view(np.uint32 if graph.col.itemsize == 4 else np.uint64)
    if nchunks <= 1:
        return _scan_run(graph.rowptr, colu, parent, lo, verts, 0, len(verts), allowed, want)
    return _scan_run_par(graph.rowptr, colu, parent, lo, verts, allowed, want, nchunks)


# The level bitmaps of the depth rebuild are kept for the row scan, so no collective runs
# between its levels, while they fit in this many bytes per rank; beyond it (deep graphs at
# large SCALE) each level's bitmap is gathered again from the depths when its rows are scanned.
LEVEL_BYTES_BUDGET = 256 << 20


def _scan_table(bm, fill):
    """A global bitmap for _scan_rows, with one extra sentinel word that passes every test
    (all ones for "inside the levels", zero for "not reached")."""
    t = np.zeros(bm.nwords + 1, dtype=np.uint64)
    t[bm.nwords] = fill
    return t


def _fresh(bm):
    return np.empty(bm.nwords, dtype=np.uint64)


def _rebuild_depth(comm, part, parent, root, pending, npending, bm, keep):
    """Depths from the parent array, level by level (one Allgatherv of the level's bitmap
    each). Returns (depth, levels, the level bitmaps if `keep` and they fit, else None,
    vertices left pending, verts, starts): the reached local vertices grouped by depth, each
    group in vertex order, level L's being verts[starts[L]:starts[L+1]]."""
    depth = np.full(part.nlocal, -1, dtype=np.int32)
    verts = np.empty(part.nlocal, dtype=np.int64)
    nverts = 0
    bm.mine[:] = 0
    if part.lo <= root < part.hi:
        i = root - part.lo
        depth[i] = 0
        set_bit(bm.mine, i)
        verts[0] = i
        nverts = 1
    starts = [0, nverts]
    kept = [] if keep else None
    cur = bm.gather(_fresh(bm) if keep else None)
    nlev = 0
    while cur.any():              # the same global bitmap on every rank: no vote needed
        nlev += 1
        if kept is not None:
            kept.append(cur)
            if len(kept) * bm.nwords * 8 > LEVEL_BYTES_BUDGET:
                kept = None
        nverts, npending = _next_level(parent, cur, pending, npending, nlev - 1, depth,
                                       bm.mine, verts, nverts)
        starts.append(nverts)
        cur = bm.gather(_fresh(bm) if kept is not None else cur)
    return depth, nlev, kept, npending, verts, starts


def _scan_reached(graph, parent, lo, depth, nlev, kept, bm, verts, starts, nchunks):
    """Rule 5 and confirmation for every reached row. Returns (check, u, v, entries, reached)
    where `reached` is the global bitmap of reached vertices with its sentinel.

    Why testing each entry (u, v) only when v > u is a complete check of rule 5: the CSR
    holds every non-self-loop tuple {u, v} twice, as v in u's row and u in v's row (Kernel 1
    writes both, and the audit proved the CSR equals the generated tuples). Every row is
    scanned: the reached rows here, the unreached ones by the last scan in validate_bfs. So
    the tuple's entry in the row of its smaller end min(u, v) is tested, wherever that row
    lives: a reached smaller end needs the other end in its levels L-1..L+1 (so reached, and
    at most one level apart); an unreached one needs the other end unreached. Those are the
    rule's conditions, which are symmetric in u and v; the mirror entry would test the same.
    Confirmation (rule 6) reads every entry of the reached rows, so it is not halved.

    Level by level: the rows of level L read one bitmap, the union of levels L-1..L+1 (N/8
    bytes). Scanning all levels' rows in one pass would need every level's union at once
    (levels x N/8 bytes: 1 MiB at SCALE 20, beyond the caches at SCALE 26, where it made
    validation 4x the search); one union at a time stays in cache at every SCALE this runs
    at. The level bitmaps come from the depth rebuild when it kept them, else each is
    gathered again from the depths (one Allgatherv per level)."""
    reached = _scan_table(bm, 0)
    union = _scan_table(bm, ~np.uint64(0))
    if kept is None:
        levels = [np.zeros(bm.nwords, dtype=np.uint64) for _ in range(3)]   # L-1, L, L+1
        _level_bits(depth, 0, bm.mine)
        bm.gather(levels[1])
    first, entries = (0, 0, 0), 0
    for lev in range(nlev):
        if kept is None:
            _level_bits(depth, lev + 1, bm.mine)
            bm.gather(levels[2])
            below, here, above = levels
        else:
            below = kept[lev - 1] if lev > 0 else None
            here = kept[lev]
            above = kept[lev + 1] if lev + 1 < nlev else None
        np.bitwise_or(reached[:-1], here, out=reached[:-1])
        union[:-1] = here
        for bits in (below, above):
            if bits is not None:
                np.bitwise_or(union[:-1], bits, out=union[:-1])
        c, u, v, e = _scan_rows(graph, parent, lo, verts[starts[lev]:starts[lev + 1]], union, 1,
                                nchunks)
        entries += e
        if c and not first[0]:
            first = (c, u, v)
        if kept is None:
            levels = [levels[1], levels[2], levels[0]]
    return first + (entries, reached)


def validate_bfs(comm, graph, root, parent, nedge, keep_levels=True):
    """Collective. Returns (failure or None, validator's edge count); same on every rank.
    keep_levels=False forces the level-by-level scan (for tests of that path)."""
    part = graph.part
    lo = part.lo
    nthreads = numba.get_num_threads()
    nchunks = 4 * nthreads if nthreads > 1 else 1

    pending = np.empty(part.nlocal, dtype=np.int64)
    v, x, npending = check_parent_range(parent, lo, part.nglobal, root, pending)
    fail = agree(comm, CHECK_RANGE if v >= 0 else 0, v, x)
    if fail:
        return fail, -1
    # The root's own entry first: without it no depth exists and every vertex would fail.
    bad_root = part.lo <= root < part.hi and parent[root - lo] != root
    fail = agree(comm, CHECK_ROOT if bad_root else 0, root, parent[root - lo] if bad_root else 0)
    if fail:
        return fail, -1

    bm = GlobalBitmap(comm, part)
    depth, nlev, kept, npending, verts, starts = _rebuild_depth(comm, part, parent, root,
                                                                pending, npending, bm,
                                                                keep_levels)
    check, v, x, entries, reached = _scan_reached(graph, parent, lo, depth, nlev, kept, bm,
                                                  verts, starts, nchunks)
    del verts
    if check == _CHECK_EDGE:   # now that every level is known: unreached, or too far?
        check = CHECK_LEVEL if test_bit(reached, x) else CHECK_REACH
    if npending and (not check or check > CHECK_TREE):
        check, v, x = CHECK_TREE, pending[0] + lo, parent[pending[0]]
    if not check:
        unreached = np.flatnonzero(depth < 0)
        c, u, w, _ = _scan_rows(graph, parent, lo, unreached, reached, 0, nchunks)
        if c:
            check, v, x = c, u, w
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

# BFS depth of the benchmark graph (Kronecker, edgefactor 16): under 10 levels up to SCALE 26
# here; sized generously, and capped by what the level scan keeps anyway.
ESTIMATE_LEVELS = 16


def validate_bfs_bytes(scale, edgefactor, nranks):
    """Bytes validate_bfs holds at its peak on one rank: pending (8 per local vertex),
    depth (4), the reached vertices grouped by level (8), the kept level bitmaps (levels x
    N/8, bounded by LEVEL_BYTES_BUDGET), the one three-level union the row scan reads, the
    reached bitmap and the gathered current level."""
    from graph500.kernels.construct import max_block_vertices
    n = max_block_vertices(scale, nranks)
    bitmap = max((1 << scale) >> 6, 1) * 8 + 8
    levels = min(ESTIMATE_LEVELS * bitmap, LEVEL_BYTES_BUDGET + bitmap)
    return (8 + 4 + 8) * n + levels + 3 * bitmap
