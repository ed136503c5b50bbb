"""MPI exchanges between Numba steps: flat NumPy buffers, uppercase (buffer) mpi4py calls only.

`alltoallv` sends a buffer already grouped by destination (counts per rank); `gather_window`
replicates a window [wlo, whi) of a block-distributed vertex array on every rank, which is how
validation reads the value of a remote endpoint without one message per edge.
"""
from functools import lru_cache

import numpy as np
from mpi4py import MPI
from mpi4py.util import dtlib
from numba import njit

# Count arguments of MPI calls are C ints: keep every message below this many elements.
MAX_MSG = 1 << 30


@lru_cache(maxsize=None)
def _mpi_type(dtype):
    t = dtlib.from_numpy_dtype(dtype)
    t.Commit()
    return t


def mpi_type(array):
    """The MPI datatype of an array's elements (mpi4py's public dtlib; one per dtype)."""
    return _mpi_type(array.dtype)


@njit(cache=True, nogil=True)
def starts(counts):
    """Where each destination's records begin in a send buffer grouped by destination
    (exclusive prefix sum); the fill passes advance these cursors as they write."""
    pos = np.zeros(len(counts), dtype=np.int64)
    for r in range(1, len(counts)):
        pos[r] = pos[r - 1] + counts[r - 1]
    return pos


@njit(cache=True, nogil=True)
def chunk_starts(counts):
    """For records counted per (chunk of the input, destination): pos[c, q] is where chunk
    c's first record for destination q goes in a buffer grouped by destination, the chunks in
    input order inside a group; so threads that fill one chunk each write disjoint slots and
    the buffer is the serial one. Also returns the per-destination totals."""
    nchunks, ndest = counts.shape
    pos = np.empty((nchunks, ndest), dtype=np.int64)
    totals = np.zeros(ndest, dtype=np.int64)
    p = 0
    for q in range(ndest):
        for c in range(nchunks):
            pos[c, q] = p
            p += counts[c, q]
        totals[q] = p - pos[0, q] if nchunks else 0
    return pos, totals


@njit(cache=True, nogil=True)
def _segments(sub):
    seg = np.empty(len(sub), dtype=np.int64)
    p = 0
    for i in range(len(sub)):
        seg[i] = p
        p += sub[i]
    return seg


def alltoallv_pieces(comm, sendbuf, counts, npiece, stride, recvbuf=None):
    """Alltoallv of records grouped by (destination rank, piece of its rows): `counts` has
    nranks * npiece entries, records of `stride` items. Returns (recvbuf, seg, sub): the
    records from sender s for piece b are the sub[s*npiece + b] records starting at record
    seg[s*npiece + b] (received grouped by sender, then piece), so the receiver can give
    each piece to one thread. One rank needs no MPI at all: the send buffer is the result."""
    nranks = comm.Get_size()
    if nranks == 1:
        return sendbuf, _segments(counts), counts
    if npiece == 1:
        # One piece per rank: alltoallv's own count exchange already says it all.
        recvbuf, rc = alltoallv(comm, sendbuf, stride * counts, recvbuf)
        sub = rc // stride
        return recvbuf, _segments(sub), sub
    sub = np.empty_like(counts)
    comm.Alltoall(counts, sub)          # npiece counts to each rank
    recvbuf, _ = alltoallv(comm, sendbuf, stride * counts.reshape(nranks, npiece).sum(axis=1),
                           recvbuf)
    return recvbuf, _segments(sub), sub


def exchange_counts(comm, sendcounts):
    recvcounts = np.empty_like(sendcounts)
    comm.Alltoall(sendcounts, recvcounts)
    return recvcounts


def displacements(counts):
    displs = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=displs[1:])
    return displs


def alltoallv(comm, sendbuf, sendcounts, recvbuf=None):
    """Exchange `sendbuf` (grouped by destination, `sendcounts[r]` items for rank r).

    Returns (recvbuf, recvcounts). A preallocated `recvbuf` large enough is reused (its leading
    part holds the result), so hot loops do not allocate per level.
    """
    sendcounts = np.ascontiguousarray(sendcounts, dtype=np.int64)
    return alltoallv_known(comm, sendbuf, sendcounts, exchange_counts(comm, sendcounts),
                           recvbuf)


def gather_window(comm, offsets, local, wlo, whi, out):
    """Fill out[0:whi-wlo] with the global array's entries [wlo, whi).

    `local` is this rank's block (global ids offsets[rank]..offsets[rank+1]); each rank
    contributes its block's intersection with the window.
    """
    rank = comm.Get_rank()
    lo = np.clip(offsets[:-1], wlo, whi) - wlo
    hi = np.clip(offsets[1:], wlo, whi) - wlo
    counts = (hi - lo).astype(np.int64)
    mine = local[lo[rank] + wlo - offsets[rank]: hi[rank] + wlo - offsets[rank]]
    mpitype = mpi_type(local)
    comm.Allgatherv([np.ascontiguousarray(mine), mpitype],
                    [out, (counts, lo.astype(np.int64)), mpitype])
    return out[: whi - wlo]


def alltoallv_known(comm, sendbuf, sendcounts, recvcounts, recvbuf=None):
    """As alltoallv, when every rank already knows what it will receive (the counts sent
    ahead, e.g. in a round's header): one collective instead of two."""
    sendcounts = np.ascontiguousarray(sendcounts, dtype=np.int64)
    recvcounts = np.ascontiguousarray(recvcounts, dtype=np.int64)
    total = int(recvcounts.sum())
    if recvbuf is None or len(recvbuf) < total:
        recvbuf = np.empty(total, dtype=sendbuf.dtype)
    if max(int(sendcounts.sum()), total) >= MAX_MSG:
        raise OverflowError("alltoallv message of %d items exceeds the MPI count limit; "
                            "lower the chunk size" % max(int(sendcounts.sum()), total))
    mpitype = mpi_type(sendbuf)
    comm.Alltoallv([sendbuf, (sendcounts, displacements(sendcounts)), mpitype],
                   [recvbuf, (recvcounts, displacements(recvcounts)), mpitype])
    return recvbuf, recvcounts
