"""Kernel 1: build the distributed CSR from each rank's share of the edge list.

Steps (each a Numba pass between MPI exchanges, all in chunks of the local edge list so the
message buffers stay bounded whatever the SCALE):
  1. count: every non-self-loop tuple (u, v) contributes one entry to u's row and one to v's
     row; send each endpoint to its owner, which counts its rows' lengths (the tuple degrees);
  2. rowptr: prefix sum of the degrees;
  3. fill: send (u, v[, w]) to owner(u) and (v, u[, w]) to owner(v), one record each with
     the weight's bits inside it; the owner writes the neighbour (and weight) into the next
     free slot of the row;
  4. with weights, sort each row by weight: SSSP's light edges are then a prefix of the row
     and its heavy edges the rest. This is building the search structure, so it is timed
     here, as the spec requires of everything derived from the edge list.
Counting by exchange (rather than a replicated N-length degree array) keeps memory per rank
proportional to the rank's share of the graph. Self-loops are dropped here: they never count
for TEPS and never matter for a search. Duplicates are kept, so a row's length is the tuple
degree TEPS needs.
"""
import numba
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .exchange import alltoallv_pieces, chunk_starts
from .graph import DistGraph
from .partition import Partition, owner, row_blocks

# Edges per exchange round: the send and receive buffers hold 2 records of 2 ids per edge
# (8 MiB each for int32 ids at 2^19): small next to the graph, which keeps the Kernel 1
# peak (edge list + CSR + buffers) low, and large enough that rounds stay few.
CHUNK_EDGES = 1 << 19


# Threads: the sender splits its round of edges into one contiguous chunk per thread, and
# each chunk writes its records into its own slots (cursors from per-chunk counts), so inside
# each destination the records keep edge order whatever the thread count. Records are grouped
# by *row block* (partition.row_blocks: the owner's rows cut into nblk word-aligned pieces,
# found by the owner function over nranks * nblk virtual ranks). The receiver gives one
# thread each piece: rows never shared, no atomics, and inside a row the entries still come
# in sender order, then edge order: the CSR is the same for any thread count (and rank count).


# Each prange body calls a plain njit function for its chunk, whose cursors or counts are a
# fresh local array: written inline in the prange body, or through a view of the shared
# matrix (which the compiler must assume may alias the output), the same loop ran 1.5-5x
# slower on one thread (Numba 0.68, SCALE 18). The chunk's *input* comes as a slice, indexed
# from 0: a loop over range(a, b) cannot prove its index non-negative, so every read pays
# Numba's negative-index wraparound (_count_rows_run ran 1.7x slower that way;
# bench/construct_ab.py --phases).


@njit(cache=True, nogil=True)
def _route_counts_run(src, dst, nvirt, scale, shift, out):
    counts = np.zeros(nvirt, dtype=np.int64)
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            counts[owner(u, nvirt, scale, shift)] += 1
            counts[owner(v, nvirt, scale, shift)] += 1
    out[:] = counts


@njit(cache=True, nogil=True)
def _route_counts_1(src, dst, nvirt, scale, shift):
    """_route_counts on one thread, as one chunk."""
    counts = np.zeros((1, nvirt), dtype=np.int64)
    _route_counts_run(src, dst, nvirt, scale, shift, counts[0])
    return counts


@njit(cache=True, nogil=True, parallel=True)
def _route_counts(src, dst, nvirt, scale, shift, nchunks):
    """counts[c, q]: records of chunk c for virtual rank q (two per non-self-loop tuple)."""
    counts = np.zeros((nchunks, nvirt), dtype=np.int64)
    n = len(src)
    for c in prange(nchunks):
        a, b = c * n // nchunks, (c + 1) * n // nchunks
        _route_counts_run(src[a:b], dst[a:b], nvirt, scale, shift, counts[c])
    return counts


@njit(cache=True, nogil=True)
def _route_endpoints_run(src, dst, cursor, nvirt, scale, shift, out):
    pos = cursor.copy()
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            q = owner(u, nvirt, scale, shift)
            out[pos[q]] = u
            pos[q] += 1
            q = owner(v, nvirt, scale, shift)
            out[pos[q]] = v
            pos[q] += 1


@njit(cache=True, nogil=True, parallel=True)
def _route_endpoints(src, dst, pos, nvirt, scale, shift, out):
    """Group the endpoints of the non-self-loop tuples by virtual owner (degree counting)."""
    nchunks = pos.shape[0]
    n = len(src)
    for c in prange(nchunks):
        a, b = c * n // nchunks, (c + 1) * n // nchunks
        _route_endpoints_run(src[a:b], dst[a:b], pos[c], nvirt, scale, shift, out)


@njit(cache=True, nogil=True, parallel=True)
def _route_pairs(src, dst, wbits, stride, pos, nvirt, scale, shift, out):
    """Group (row vertex, neighbour[, weight bits]) records of `stride` words by the row
    vertex's virtual owner. The weight travels as its float32 bit pattern in the same record,
    so a weighted round is still one exchange. The two records are written out in place: a
    shared inline helper for them measured 40 % slower at SCALE 22."""
    nchunks = pos.shape[0]
    n = len(src)
    for c in prange(nchunks):
        a, b = c * n // nchunks, (c + 1) * n // nchunks
        # no weights: wbits is a 1-word dummy, never read (stride 2)
        _route_pairs_run(src[a:b], dst[a:b], wbits[a:b] if stride == 3 else wbits, stride,
                         pos[c], nvirt, scale, shift, out)


@njit(cache=True, nogil=True)
def _route_pairs_run(src, dst, wbits, stride, cursor, nvirt, scale, shift, out):
    pos = cursor.copy()
    for i in range(len(src)):
        u = src[i]
        v = dst[i]
        if u != v:
            q = owner(u, nvirt, scale, shift)
            p = pos[q] * stride
            out[p] = u
            out[p + 1] = v
            if stride == 3:
                out[p + 2] = wbits[i]
            pos[q] += 1
            q = owner(v, nvirt, scale, shift)
            p = pos[q] * stride
            out[p] = v
            out[p + 1] = u
            if stride == 3:
                out[p + 2] = wbits[i]
            pos[q] += 1


@njit(cache=True, nogil=True)
def _count_rows_run(recv, lo, degree):
    for i in range(len(recv)):
        degree[recv[i] - lo] += 1


@njit(cache=True, nogil=True, parallel=True)
def _count_rows(recv, seg, sub, nblk, lo, degree):
    nsend = len(sub) // nblk
    for b in prange(nblk):
        for s in range(nsend):
            a = seg[s * nblk + b]
            _count_rows_run(recv[a:a + sub[s * nblk + b]], lo, degree)


@njit(cache=True, nogil=True)
def _place_run(recv, stride, lo, cursor, col, wbits):
    for i in range(len(recv) // stride):
        q = i * stride
        row = recv[q] - lo
        p = cursor[row]
        col[p] = recv[q + 1]
        if stride == 3:
            wbits[p] = recv[q + 2]
        cursor[row] = p + 1


@njit(cache=True, nogil=True, parallel=True)
def _place(recv, seg, sub, nblk, stride, lo, cursor, col, wbits):
    nsend = len(sub) // nblk
    for b in prange(nblk):
        for s in range(nsend):
            a = seg[s * nblk + b]
            _place_run(recv[a * stride:(a + sub[s * nblk + b]) * stride], stride, lo, cursor,
                       col, wbits)


@njit(cache=True, nogil=True, parallel=True)
def _sort_rows_packed(rowptr, col, weight, nchunks):
    """int32 ids: sort (weight bits, id) packed in one uint64 per entry. Weights are
    non-negative, so their float32 bit patterns order like the values; one key array moves
    instead of two, and ties fall in id order, so a row's order does not depend on the order
    its entries arrived in (the CSR is the same for any number of ranks). Rows are cut into
    `nchunks` runs, one scratch buffer each: rows are independent, so any cut gives the same
    result."""
    wbits = weight.view(np.uint32)
    nrows = len(rowptr) - 1
    for c in prange(nchunks):
        _sort_rows_run(rowptr[c * nrows // nchunks:(c + 1) * nrows // nchunks + 1], col, wbits)


@njit(cache=True, nogil=True)
def _sort_rows_run(rowptr, col, wbits):
    """The rows of `rowptr` (a slice of the row pointers: rows r0..r1 as rowptr[r0:r1+1])."""
    maxlen = 0
    for i in range(len(rowptr) - 1):
        maxlen = max(maxlen, rowptr[i + 1] - rowptr[i])
    buf = np.empty(maxlen, dtype=np.uint64)
    for i in range(len(rowptr) - 1):
        a = rowptr[i]
        n = rowptr[i + 1] - a
        if n < 2:
            continue
        for j in range(n):
            buf[j] = (np.uint64(wbits[a + j]) << np.uint64(32)) | np.uint64(np.uint32(col[a + j]))
        if n <= 32:
            for k in range(1, n):
                key = buf[k]
                j = k - 1
                while j >= 0 and buf[j] > key:
                    buf[j + 1] = buf[j]
                    j -= 1
                buf[j + 1] = key
        else:
            buf[:n].sort()
        for j in range(n):
            col[a + j] = np.int32(buf[j] & np.uint64(0xFFFFFFFF))
            wbits[a + j] = np.uint32(buf[j] >> np.uint64(32))


@njit(cache=True, nogil=True, parallel=True)
def _sort_rows_lexsort(rowptr, col, weight):
    """int64 ids: a stable argsort of each row's weights, then ties in id order."""
    for i in prange(len(rowptr) - 1):
        a = rowptr[i]
        b = rowptr[i + 1]
        if b - a < 2:
            continue
        c = col[a:b].copy()
        w = weight[a:b].copy()
        byid = np.argsort(c, kind="mergesort")
        order = byid[np.argsort(w[byid], kind="mergesort")]
        for j in range(b - a):
            col[a + j] = c[order[j]]
            weight[a + j] = w[order[j]]


def sort_rows_by_weight(rowptr, col, weight):
    """Sort each row's entries by increasing weight (ties by neighbour id), in place."""
    if col.dtype == np.int32:
        nrows = len(rowptr) - 1
        if numba.get_num_threads() == 1:
            _sort_rows_run(rowptr, col, weight.view(np.uint32))
        else:
            _sort_rows_packed(rowptr, col, weight,
                              max(1, min(nrows, 64 * numba.get_num_threads())))
    else:
        _sort_rows_lexsort(rowptr, col, weight)


def _rounds(comm, nedges, chunk):
    """Every rank must take part in every exchange round, so all agree on the most rounds."""
    return int(comm.allreduce((nedges + chunk - 1) // chunk, op=MPI.MAX))


def construct_graph(comm, scale, src, dst, weight=None, chunk=CHUNK_EDGES):
    """Collective. src/dst[/weight] are this rank's share of the edge list (any share: the
    union over ranks is the edge list). Returns this rank's DistGraph."""
    part = Partition(scale, comm.Get_size(), comm.Get_rank())
    nranks, shift = part.nranks, part.shift
    nthreads = numba.get_num_threads()
    nblk = row_blocks(nranks, nthreads)
    nvirt = nranks * nblk
    # One thread: the chunk functions are called directly, without their parallel wrappers
    # (4 % less CPU at SCALE 20 on 2 ranks, bench/construct_ab.py; still about 10 % above the
    # code before the threads work, cause not found).
    par = nthreads > 1
    use_w = weight is not None
    nedges = len(src)
    rounds = _rounds(comm, nedges, chunk)

    degree = np.zeros(part.nlocal, dtype=np.int64)
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        pos, counts = chunk_starts(_route_counts(s, d, nvirt, scale, shift, nthreads)
                                   if par else _route_counts_1(s, d, nvirt, scale, shift))
        out = np.empty(int(counts.sum()), dtype=src.dtype)
        if par:
            _route_endpoints(s, d, pos, nvirt, scale, shift, out)
        else:
            _route_endpoints_run(s, d, pos[0], nvirt, scale, shift, out)
        recv, seg, sub = alltoallv_pieces(comm, out, counts, nblk, 1)
        if par:
            _count_rows(recv, seg, sub, nblk, part.lo, degree)
        else:
            _count_rows_run(recv[:int(sub.sum())], part.lo, degree)
        del out, recv

    rowptr = np.zeros(part.nlocal + 1, dtype=np.int64)
    np.cumsum(degree, out=rowptr[1:])
    nentries = int(rowptr[-1])
    col = np.empty(nentries, dtype=src.dtype)
    wcol = np.empty(nentries if use_w else 0, dtype=np.float32)
    cursor = degree                 # the degrees are in rowptr now: reuse their memory
    cursor[:] = rowptr[:-1]
    stride = 3 if use_w else 2
    # float32 weights move as int32 bit patterns: exact, and inside the id records
    wbits = weight.view(np.int32) if use_w else np.zeros(1, dtype=np.int32)
    wcol_bits = wcol.view(np.int32)
    for r in range(rounds):
        a, b = min(r * chunk, nedges), min((r + 1) * chunk, nedges)
        s, d = src[a:b], dst[a:b]
        pos, counts = chunk_starts(_route_counts(s, d, nvirt, scale, shift, nthreads)
                                   if par else _route_counts_1(s, d, nvirt, scale, shift))
        out = np.empty(stride * int(counts.sum()), dtype=src.dtype)
        w = wbits[a:b] if use_w else wbits
        if par:
            _route_pairs(s, d, w, stride, pos, nvirt, scale, shift, out)
        else:
            _route_pairs_run(s, d, w, stride, pos[0], nvirt, scale, shift, out)
        recv, seg, sub = alltoallv_pieces(comm, out, counts, nblk, stride)
        if par:
            _place(recv, seg, sub, nblk, stride, part.lo, cursor, col, wcol_bits)
        else:
            _place_run(recv[:stride * int(sub.sum())], stride, part.lo, cursor, col, wcol_bits)
        del out, recv
    if use_w:
        sort_rows_by_weight(rowptr, col, wcol)
    return DistGraph(part, rowptr, col, wcol if use_w else None)



# --- memory estimate (used by graph500/memory.py) ---
# Bytes per rank, from the allocations above; the preflight sums these, nothing else knows
# them. Rows are assumed even over ranks (the block partition of scrambled ids spreads the
# entries; self-loops, a few per cent, are not subtracted, so entries are slightly high).

# Kronecker initiator A + B (= A + C): the chance that one endpoint's bit is 0 at a level.
_A_PLUS_B = 0.76


def id_bytes(scale):
    """Bytes of one vertex id (kernels/graph.py's vertex_dtype)."""
    from .graph import vertex_dtype
    return np.dtype(vertex_dtype(scale)).itemsize


def max_block_vertices(scale, nranks):
    """The largest vertex block of any rank (blocks are whole 64-vertex words)."""
    from .partition import word_shift
    shift = word_shift(scale)
    units = (1 << scale) >> shift
    return -(-units // nranks) << shift


def expected_entries(scale, edgefactor, nranks):
    """CSR entries of one rank: every tuple is an entry in both endpoints' rows."""
    return -(-2 * (edgefactor << scale) // nranks)


def expected_max_degree(scale, edgefactor):
    """The longest row: the vertex whose bits all fell in the first half at every level of
    the generator (before scrambling), expected 2 * edgefactor * (2 (A + B))^SCALE entries."""
    return int(2 * edgefactor * (2 * _A_PLUS_B) ** scale) + 1


def edge_list_bytes(scale, edgefactor, nranks, weights):
    """The generated share Kernel 1 is handed (src, dst[, weight]); held until it returns."""
    ib = id_bytes(scale)
    return -(-(edgefactor << scale) // nranks) * (2 * ib + (4 if weights else 0))


def graph_bytes(scale, edgefactor, nranks, weights):
    """The DistGraph that Kernel 1 returns: rowptr, col[, weight]."""
    ib = id_bytes(scale)
    return (8 * (max_block_vertices(scale, nranks) + 1)
            + expected_entries(scale, edgefactor, nranks) * (ib + (4 if weights else 0)))


def construct_bytes(scale, edgefactor, nranks, weights, chunk=CHUNK_EDGES):
    """Kernel 1's peak beside its input edge list: the graph it builds, the degree array
    (reused as the fill cursor), and the larger of one fill round's send and receive
    buffers (two records of `stride` ids per edge; a receive holds about what a send does)
    and the row sort's buffer (the longest row, int32 ids only)."""
    ib = id_bytes(scale)
    stride = 3 if weights else 2
    edges = min(chunk, -(-(edgefactor << scale) // nranks))
    rounds = 2 * (2 * edges * stride * ib)
    sort = 8 * expected_max_degree(scale, edgefactor) if weights and ib == 4 else 0
    return (graph_bytes(scale, edgefactor, nranks, weights)
            + 8 * max_block_vertices(scale, nranks) + max(rounds, sort))
