"""Kernel 1 audit: prove that the distributed CSR holds exactly the generated edge tuples.

Validation of a search only checks the search against the CSR, so a Kernel 1 bug (a lost or
doubled tuple, a row attached to the wrong vertex, a weight moved by the row sort) would give a
consistent wrong graph that every search and validator accepts, and wrong edge counts for TEPS.
This audit closes that gap once per run, untimed, between construction and the first search.

Each non-self-loop tuple (u, v, w) must appear as two directed CSR entries, (u -> v, w) in u's
row and (v -> u, w) in v's row; self-loops are dropped. So, with w the float32 bit pattern of
the weight (0 for a BFS-only graph), the multiset of directed entries is compared as
  sum over tuples u != v of h(u, v, w) + h(v, u, w)  ==  sum over CSR entries of h(row, col, w)
for two independent 64-bit mixing hashes h, summed with uint64 wrap-around. The sums do not
depend on the order of the entries, on which rank generated a tuple, on the rank count or on
the thread count (addition mod 2^64 is associative and commutative), so each rank hashes what
it holds and one Allreduce decides. Entry counts, the self-loop count (M minus the tuples the
CSR holds) and the row structure are compared exactly besides. A lost, doubled, moved or
re-weighted entry changes a sum by a hash value: it passes only if two independent 64-bit
hashes cancel at once (probability about 2^-128 per corruption).
"""
import numpy as np
from mpi4py import MPI
from numba import get_num_threads, njit, prange

_U = np.uint64
_ZERO = _U(0)
_ONE = _U(1)

# Two unrelated mixers: SplitMix64's finalizer and MurmurHash3's fmix64, with their own seeds.
_A_SEED = _U(0x9E3779B97F4A7C15)
_A_M1 = _U(0xBF58476D1CE4E5B9)
_A_M2 = _U(0x94D049BB133111EB)
_B_SEED = _U(0xD6E8FEB86659FD93)
_B_M1 = _U(0xFF51AFD7ED558CCD)
_B_M2 = _U(0xC4CEB9FE1A85EC53)
_K1 = _U(0x632BE59BD9B4E019)
_K2 = _U(0x8CB92BA72F3D8DD7)

# Entries per parallel task, at least: below this the task overhead shows.
_MIN_CHUNK = 1 << 15

# Slots of the reduced vector (uint64, summed over ranks with wrap-around).
_GEN_A, _GEN_B, _GEN_ENTRIES, _GEN_LOOPS, _GEN_TUPLES = 0, 1, 2, 3, 4
_CSR_A, _CSR_B, _CSR_ENTRIES, _CSR_LOOPS, _CSR_RANGE, _CSR_BAD_ROWS = 5, 6, 7, 8, 9, 10
_NSLOTS = 11


@njit(cache=True, nogil=True, inline="always")
def _mix_a(z):
    z = (z ^ (z >> _U(30))) * _A_M1
    z = (z ^ (z >> _U(27))) * _A_M2
    return z ^ (z >> _U(31))


@njit(cache=True, nogil=True, inline="always")
def _mix_b(z):
    z = (z ^ (z >> _U(33))) * _B_M1
    z = (z ^ (z >> _U(33))) * _B_M2
    return z ^ (z >> _U(33))


@njit(cache=True, nogil=True, inline="always")
def _hash_a(u, v, w):
    """h(u, v, w) for a directed entry; not symmetric in u, v (u -> v differs from v -> u)."""
    h = _mix_a(u ^ _A_SEED)
    h = _mix_a(h ^ (v + _K1))
    return _mix_a(h ^ (w + _K2))


@njit(cache=True, nogil=True, inline="always")
def _hash_b(u, v, w):
    h = _mix_b(u + _B_SEED)
    h = _mix_b(h + (v ^ _K2))
    return _mix_b(h + (w ^ _K1))


@njit(cache=True, nogil=True)
def _chunk_total(part):
    """The per-chunk sums (rows of part) added up, column by column, in chunk order: uint64,
    so the hash sums wrap mod 2^64, the same for any number of chunks."""
    out = np.zeros(part.shape[1], dtype=np.uint64)
    for c in range(part.shape[0]):
        for j in range(part.shape[1]):
            out[j] += part[c, j]
    return out


@njit(cache=True, nogil=True, parallel=True)
def _tuple_sums(src, dst, wbits, use_w, nchunks):
    """(hash A, hash B, directed entries, self-loops) of this rank's generated tuples."""
    n = len(src)
    part = np.zeros((nchunks, 4), dtype=np.uint64)   # per chunk: no scalar reduction in prange
    for c in prange(nchunks):
        sa = _ZERO
        sb = _ZERO
        entries = _ZERO
        loops = _ZERO
        for i in range(c * n // nchunks, (c + 1) * n // nchunks):
            u = _U(src[i])
            v = _U(dst[i])
            if u == v:
                loops += _ONE
                continue
            w = _U(wbits[i]) if use_w else _ZERO
            sa += _hash_a(u, v, w) + _hash_a(v, u, w)
            sb += _hash_b(u, v, w) + _hash_b(v, u, w)
            entries += _U(2)
        part[c, 0] = sa
        part[c, 1] = sb
        part[c, 2] = entries
        part[c, 3] = loops
    return _chunk_total(part)


@njit(cache=True, nogil=True)
def _rows_well_formed(rowptr, ncol):
    """rowptr starts at 0, never decreases and ends at the number of entries."""
    if len(rowptr) == 0 or rowptr[0] != 0 or rowptr[len(rowptr) - 1] != ncol:
        return False
    for i in range(len(rowptr) - 1):
        if rowptr[i + 1] < rowptr[i]:
            return False
    return True


@njit(cache=True, nogil=True, parallel=True)
def _csr_sums(rowptr, col, wbits, use_w, lo, nglobal, nchunks):
    """(hash A, hash B, self-loop entries, out-of-range neighbours) of this rank's CSR entries.
    Chunks split the entries evenly (rows are power-law); each finds its first row by bisection."""
    n = len(col)
    part = np.zeros((nchunks, 4), dtype=np.uint64)
    for c in prange(nchunks):
        a = c * n // nchunks
        b = (c + 1) * n // nchunks
        if a == b:
            continue
        row = np.searchsorted(rowptr, a, side="right") - 1
        sa = _ZERO
        sb = _ZERO
        loops = _ZERO
        outside = _ZERO
        for k in range(a, b):
            while rowptr[row + 1] <= k:
                row += 1
            vert = lo + row
            v = col[k]
            if v == vert:
                loops += _ONE
            if v < 0 or v >= nglobal:
                outside += _ONE
            u = _U(vert)
            vu = _U(v)
            w = _U(wbits[k]) if use_w else _ZERO
            sa += _hash_a(u, vu, w)
            sb += _hash_b(u, vu, w)
        part[c, 0] = sa
        part[c, 1] = sb
        part[c, 2] = loops
        part[c, 3] = outside
    return _chunk_total(part)


def _nchunks(n):
    return max(1, min(n // _MIN_CHUNK, 8 * get_num_threads()))


def _weight_bits(weight, n):
    if weight is None:
        return np.zeros(1, dtype=np.uint32), False
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    if len(weight) != n:
        raise ValueError("weights (%d) not aligned with the %d entries" % (len(weight), n))
    return weight.view(np.uint32), True


def local_sums(graph, src, dst, weight):
    """This rank's contribution to the audit: the _NSLOTS uint64 vector Allreduce sums."""
    if len(src) != len(dst):
        raise ValueError("src and dst differ in length")
    out = np.zeros(_NSLOTS, dtype=np.uint64)
    gw, use_w = _weight_bits(weight, len(src))
    out[_GEN_A:_GEN_TUPLES] = _tuple_sums(src, dst, gw, use_w, _nchunks(len(src)))
    out[_GEN_TUPLES] = len(src)

    if hasattr(graph, "audit_segments"):
        return _segment_sums(graph, out, use_w)
    rowptr, col = graph.rowptr, graph.col
    out[_CSR_ENTRIES] = len(col)
    if len(rowptr) != graph.part.nlocal + 1 or not _rows_well_formed(rowptr, len(col)):
        out[_CSR_BAD_ROWS] = 1
        return out
    cw, cuse_w = _weight_bits(graph.weight, len(col))
    if cuse_w != use_w:
        out[_CSR_BAD_ROWS] = 1    # a weighted graph from unweighted tuples or the reverse
        return out
    a, b, loops, outside = _csr_sums(rowptr, col, cw, cuse_w, np.int64(graph.part.lo),
                                     np.int64(graph.part.nglobal), _nchunks(len(col)))
    out[_CSR_A], out[_CSR_B], out[_CSR_LOOPS], out[_CSR_RANGE] = a, b, loops, outside
    return out


def _segment_sums(graph, out, use_w):
    """The 2-D layout (construct2d.py): a rank's block is R runs of consecutive column
    vertices, each a CSR of (column vertex -> row entries[, weights]) that hashes like a 1-D
    block of rows."""
    if use_w != (graph.weight is not None):
        out[_CSR_BAD_ROWS] = 1    # a weighted graph from unweighted tuples or the reverse
        return out
    out[_CSR_ENTRIES] = len(graph.rows)
    if graph.weight is not None and len(graph.weight) != len(graph.rows):
        out[_CSR_BAD_ROWS] = 1
        return out
    for ptr, col, lo, weight in graph.audit_segments():
        if not _rows_well_formed(ptr, len(col)):
            out[_CSR_BAD_ROWS] = 1
            return out
        cw, cuse_w = _weight_bits(weight, len(col))
        a, b, loops, outside = _csr_sums(ptr, col, cw, cuse_w, np.int64(lo),
                                         np.int64(graph.part.nglobal), _nchunks(len(col)))
        # array additions wrap mod 2^64 silently (scalar ones warn)
        out[[_CSR_A, _CSR_B, _CSR_LOOPS, _CSR_RANGE]] += np.array([a, b, loops, outside],
                                                                   dtype=np.uint64)
    return out


def audit_graph(comm, graph, src, dst, weight, nedge):
    """Collective: compare this rank's DistGraph and generated tuples, summed over all ranks,
    with each other and with nedge (M, the tuples the generator had to produce). Every rank
    returns the same verdict: {"ok", "entries", "self_loops", "check", "message"}; check and
    message are None when ok, else the first check that failed and a one-line explanation."""
    mine = local_sums(graph, src, dst, weight)
    tot = np.empty_like(mine)
    comm.Allreduce(mine, tot, op=MPI.SUM)
    return verdict(tot, nedge)


def verdict(tot, nedge):
    t = [int(x) for x in tot]
    entries, gen_entries = t[_CSR_ENTRIES], t[_GEN_ENTRIES]
    gen_loops = t[_GEN_LOOPS]
    res = {"ok": True, "entries": entries, "self_loops": gen_loops, "check": None,
           "message": None}

    def fail(check, message):
        res.update(ok=False, check=check, message=message)
        return res

    if t[_GEN_TUPLES] != nedge:
        return fail("tuples", "the generator produced %d tuples, not M = %d"
                    % (t[_GEN_TUPLES], nedge))
    if t[_CSR_BAD_ROWS]:
        return fail("rows", "%d rank(s) hold a malformed CSR (row offsets not starting at 0, "
                    "decreasing, or not ending at the entry count; or weights missing)"
                    % t[_CSR_BAD_ROWS])
    if entries != gen_entries:
        return fail("entries", "the CSR holds %d entries, the generated tuples give %d "
                    "(2 per non-self-loop tuple)" % (entries, gen_entries))
    if t[_CSR_LOOPS] or nedge - entries // 2 != gen_loops:
        return fail("self-loops", "the CSR holds %d self-loop entries and %d tuples; "
                    "M = %d with %d generated self-loops"
                    % (t[_CSR_LOOPS], entries // 2, nedge, gen_loops))
    if t[_CSR_RANGE]:
        return fail("range", "%d CSR entries name a vertex outside [0, N)" % t[_CSR_RANGE])
    if t[_CSR_A] != t[_GEN_A] or t[_CSR_B] != t[_GEN_B]:
        return fail("hash", "the CSR's entries differ from the generated tuples (same count, "
                    "different (vertex, neighbour, weight) multiset)")
    return res


def corrupt_graph(graph, how):
    """Test hook (GRAPH500_INJECT_FAILURE=RANK:corrupt-graph-HOW): the Kernel 1 bugs the audit
    must catch, one CSR entry each, near the middle of this rank's rows: drop (a lost tuple
    end), dup (one doubled), move (attached to the next row's vertex instead), weight (one
    weight changed). Rows stay well formed, so the searches would run on and only the audit
    can tell. Raises where this rank has nothing to break."""
    # the 2-D layout's block (construct2d.py) is a CSC: the same surgery on its columns
    ptr_name, col_name = ("colptr", "rows") if hasattr(graph, "colptr") else ("rowptr", "col")
    rowptr, col, weight = getattr(graph, ptr_name), getattr(graph, col_name), graph.weight
    rows = np.flatnonzero(np.diff(rowptr[:-1] if how == "move" else rowptr))
    if how == "weight" and weight is None:
        raise RuntimeError("corrupt-graph-weight needs a weighted graph (--kernels sssp)")
    if how not in ("drop", "dup", "move", "weight") or not len(rows):
        raise RuntimeError("cannot apply corrupt-graph-%s on this rank" % how)
    i = int(rows[len(rows) // 2])
    k = int(rowptr[i])                          # row i's first entry
    if how == "move":
        # row i's last entry becomes row i + 1's first: same arrays, one offset moved
        rowptr[i + 1] -= 1
    elif how == "weight":
        weight[k] += 1.0                        # weights lie in [0, 1): a new value
    else:
        setattr(graph, col_name,
                np.delete(col, k) if how == "drop" else np.insert(col, k, col[k]))
        if weight is not None:
            graph.weight = np.delete(weight, k) if how == "drop" else np.insert(weight, k, weight[k])
        rowptr[i + 1:] += -1 if how == "drop" else 1


# --- memory estimate (used by graph500/memory.py) ---

def audit_bytes(scale, edgefactor, nranks, weights):
    """Bytes the audit adds while the edge list and the graph are both held: it streams over
    both, keeping only per-chunk partial sums (4 words per chunk), so a fixed small amount."""
    return 1 << 16
