"""1-D block partition of the vertices [0, N) over P ranks.

Blocks are contiguous and whole 64-vertex words (so each rank's slice of a global bitmap is a
run of whole uint64 words, which the bottom-up BFS step gathers with one Allgatherv), and as
even as possible in words: rank r owns words [ceil(r*W/P), ceil((r+1)*W/P)), W = N/64. With
that choice the owner of a vertex is a multiply and two shifts, no division, because N is a
power of two: owner(v) = ((v >> 6) * P) >> (SCALE - 6). Ranks may own no vertex at all
(P > W, or N < 64), and every kernel must cope with an empty block.
"""
import numpy as np
from numba import njit

WORD_BITS = 64


def word_shift(scale):
    """log2 of the block unit: 64 vertices, or all N when N < 64 (one word holds the graph)."""
    return min(6, scale)


def block_offsets(scale, nranks):
    """offsets[r] .. offsets[r+1] is rank r's vertex range; len nranks + 1, int64."""
    shift = word_shift(scale)
    units = (1 << scale) >> shift
    r = np.arange(nranks + 1, dtype=np.int64)
    return ((r * units + nranks - 1) // nranks) << shift


@njit(cache=True, nogil=True, inline="always")
def owner(v, nranks, scale, shift):
    return ((v >> shift) * nranks) >> (scale - shift)


class Partition:
    """The partition seen from one rank: its range, and the owner function's parameters."""

    def __init__(self, scale, nranks, rank):
        self.scale = scale
        self.nglobal = 1 << scale
        self.nranks = nranks
        self.rank = rank
        self.shift = word_shift(scale)
        self.offsets = block_offsets(scale, nranks)
        self.lo = int(self.offsets[rank])
        self.hi = int(self.offsets[rank + 1])
        self.nlocal = self.hi - self.lo



def row_blocks(nranks, nthreads):
    """Row blocks per rank for the threaded receive steps (Kernel 1's fill, BFS's top-down
    claims): each rank's block is cut into this many word-aligned pieces, one thread each.
    The pieces are the blocks of the same partition over nranks * nblk *virtual* ranks:
    floor(floor(x) / nblk) = floor(x / nblk), so virtual rank q = owner(v, nranks * nblk)
    lies inside real rank q // nblk, as its piece q % nblk. Bounded so that count matrices
    of threads x ranks x pieces stay small however many ranks there are."""
    return max(1, min(int(nthreads), (1 << 16) // int(nranks)))
