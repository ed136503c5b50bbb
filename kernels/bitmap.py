"""Vertex bitmaps: one bit per vertex, bit v & 63 of uint64 word v >> 6.

A rank's *slice* covers its own block (local index i = v - lo), the *global* bitmap all N
vertices. Blocks are whole 64-vertex words (partition.py), so every rank's slice is a run of
whole words of the global bitmap and one Allgatherv assembles it, no shifting (GlobalBitmap).
The bottom-up BFS step reads its frontier this way, and the BFS validator its levels.
"""
import numpy as np
from mpi4py import MPI
from numba import njit, prange

from .intrinsics import popcount

ONE = np.uint64(1)

# De Bruijn sequence for the index of a word's lowest set bit (Numba has no ctz intrinsic):
# the lowest bit times this constant puts a distinct 6-bit pattern in the top bits.
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_INDEX = np.array([
    0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
    62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
    63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
    46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6], dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def test_bit(bits, v):
    """1 (as uint64) when v's bit is set, else 0."""
    return (bits[v >> 6] >> np.uint64(v & 63)) & ONE


@njit(cache=True, nogil=True, inline="always")
def set_bit(bits, v):
    bits[v >> 6] |= ONE << np.uint64(v & 63)


@njit(cache=True, nogil=True, inline="always")
def clear_bit(bits, v):
    bits[v >> 6] &= ~(ONE << np.uint64(v & 63))


@njit(cache=True, nogil=True, inline="always")
def lowest_bit(x):
    """x's lowest set bit alone (x & -x); x != 0."""
    return x & (~x + ONE)


@njit(cache=True, nogil=True, inline="always")
def bit_index(low):
    """The index (0..63) of a word with exactly one bit set (from lowest_bit)."""
    return _DEBRUIJN_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]


@njit(cache=True, nogil=True, inline="always")
def next_set(bits, w1, w, rest):
    """A cursor over the set bits of bits[..w1]: (word index, that word's bits not yet
    taken), started as (first word - 1, 0). Returns the cursor moved past the next set bit
    and that bit's index, or -1 at the end. Loops that ask the cache for data a few set
    bits ahead run one of these in front of their own walk."""
    while rest == 0:
        w += 1
        if w >= w1:
            return w, rest, -1
        rest = bits[w]
    low = lowest_bit(rest)
    return w, rest ^ low, w * 64 + bit_index(low)


@njit(cache=True, nogil=True)
def from_queue(queue, nq, bits):
    """bits = the set of queue[0:nq] (local indices)."""
    bits[:] = 0
    for qi in range(nq):
        set_bit(bits, queue[qi])


@njit(cache=True, nogil=True, parallel=True)
def chunk_offsets(bits, parts):
    """For listing the set bits of `bits` in order on all threads, cut into len(parts) chunks
    of words (chunk c: words c * W // n .. (c + 1) * W // n): parts[c, 0] = how many set bits
    the chunks before c hold, where chunk c's list starts (a popcount per chunk, on all
    threads, then a prefix sum). Returns the total."""
    nchunks = len(parts)
    nw = len(bits)
    for c in prange(nchunks):
        n = 0
        for w in range(c * nw // nchunks, (c + 1) * nw // nchunks):
            n += popcount(bits[w])
        parts[c, 0] = n
    n = 0
    for c in range(nchunks):
        k = parts[c, 0]
        parts[c, 0] = n
        n += k
    return n


@njit(cache=True, nogil=True)
def to_queue(bits, nlocal, queue):
    """The set bits below nlocal, in increasing order, into queue; returns how many."""
    n = 0
    for w in range(len(bits)):
        b = bits[w]
        while b:
            low = lowest_bit(b)
            i = w * 64 + bit_index(low)
            if i < nlocal:
                queue[n] = i
                n += 1
            b ^= low
    return n


class GlobalBitmap:
    """A global N-bit bitmap assembled from every rank's slice.

    `mine` is this rank's slice (local indices; written by the kernels), `bits` the global
    bitmap that gather() fills, or any other N-bit buffer passed to it."""

    def __init__(self, comm, part):
        self.comm = comm
        self.nwords = max(part.nglobal >> 6, 1)
        self.local_words = (part.nlocal + 63) // 64
        self.mine = np.zeros(max(self.local_words, 1), dtype=np.uint64)
        self.bits = np.zeros(self.nwords, dtype=np.uint64)
        offs = part.offsets
        self.counts = ((offs[1:] - offs[:-1] + 63) // 64).astype(np.int64)
        self.displs = (offs[:-1] // 64).astype(np.int64)

    def gather(self, out=None):
        """Every rank's slice into `out` (default self.bits); returns it."""
        out = self.bits if out is None else out
        self.comm.Allgatherv([self.mine[:self.local_words], MPI.UINT64_T],
                             [out, (self.counts, self.displs), MPI.UINT64_T])
        return out

