"""The R x C grid of ranks for the 2-D layout (Buluc & Madduri, SC'11), beside partition.py.

P = R x C ranks, as square as P allows (R the largest divisor of P with R <= sqrt(P), so a
prime P gives 1 x P); rank r sits at grid row i = r // C, grid column j = r % C.

Vertex ownership stays the 1-D block partition (partition.py): vertex x belongs to rank
b(x), its block. Block b lies in grid row b // C and grid column b % C, so
  row strip i    = blocks i*C .. i*C+C-1: contiguous vertices [offsets[iC], offsets[iC+C]);
  column strip j = blocks j, C+j, 2C+j, ...: R separate runs of vertices.
Strips are indexed locally: a row strip by x - offsets[iC]; a column strip by its blocks laid
end to end, each padded to whole 64-vertex words (blocks are whole words anyway, except when
N < 64), so a strip bitmap is the blocks' word slices concatenated and a block's slice of it
is one run of words (gathers and reductions along the grid move whole words).

Sub-communicators: `row_comm` (the C ranks of grid row i, ranked by j) and `col_comm` (the R
ranks of grid column j, ranked by i), made with comm.Split only, so a communicator wrapper
(traffic counting) sees them as its own.
"""
import numpy as np

from .exchange import mpi_type
from .partition import block_offsets, word_shift


def grid_shape(nranks):
    """(R, C): R * C = nranks, R <= C, R as large as possible."""
    r = int(np.sqrt(nranks))
    while r * r > nranks:
        r -= 1
    while nranks % r:
        r -= 1
    return r, nranks // r


class Grid:
    """The grid seen from one rank, with its strips' index maps and sub-communicators."""

    def __init__(self, comm, scale):
        self.comm = comm
        self.nranks = comm.Get_size()
        self.rank = comm.Get_rank()
        self.R, self.C = grid_shape(self.nranks)
        self.i, self.j = divmod(self.rank, self.C)
        self.scale = scale
        self.nglobal = 1 << scale
        self.shift = word_shift(scale)
        # 1-D blocks: the owners of the vertices
        self.offsets = block_offsets(scale, self.nranks)
        self.row_comm = comm.Split(self.i, self.j)
        self.col_comm = comm.Split(self.j, self.i)
        R, C, i, j = self.R, self.C, self.i, self.j
        offs = self.offsets
        # Row strip i: contiguous.
        self.row_lo = int(offs[i * C])
        self.row_hi = int(offs[i * C + C])
        self.row_n = self.row_hi - self.row_lo
        self.row_words = max((self.row_n + 63) // 64, 1)
        # Blocks of row strip i (owned by row_comm rank k = block i*C + k), in words of the strip.
        self.row_block_words = np.array(
            [(offs[i * C + k + 1] - offs[i * C + k] + 63) // 64 for k in range(C)], dtype=np.int64)
        self.row_block_wbase = np.array(
            [(offs[i * C + k] - offs[i * C]) // 64 for k in range(C)], dtype=np.int64)
        # Column strip j: block g*C + j is segment g (owned by col_comm rank g).
        self.col_block_lo = np.array([offs[g * C + j] for g in range(R)], dtype=np.int64)
        self.col_block_n = np.array([offs[g * C + j + 1] - offs[g * C + j] for g in range(R)],
                                    dtype=np.int64)
        self.col_block_words = (self.col_block_n + 63) // 64
        self.col_block_wbase = np.zeros(R + 1, dtype=np.int64)
        np.cumsum(self.col_block_words, out=self.col_block_wbase[1:])
        self.col_words = max(int(self.col_block_wbase[R]), 1)
        self.col_n = 64 * int(self.col_block_wbase[R])     # padded: the CSC's column count
        # This rank's own block (segment i of its column strip, piece j of its row strip).
        self.lo = int(offs[self.rank])
        self.hi = int(offs[self.rank + 1])
        self.nlocal = self.hi - self.lo
        self.local_words = (self.nlocal + 63) // 64

    def col_index_base(self):
        """Padded column-strip index of each segment's first vertex (len R)."""
        return 64 * self.col_block_wbase[:self.R]

    def fold_columns(self, values, dtype, op, unit=64):
        """Reduce a column-strip array along the grid column with `op` (Reduce_scatter): each
        owner gets its block's slice. unit=64: one value per vertex (padded index), the result
        cut to the block's nlocal values; unit=1: one uint64 bitmap word per 64 vertices, the
        result the block's local_words words. Collective on col_comm."""
        g = self
        # exactly the counts' sum: a column whose blocks are all empty (N < 64 P) has none,
        # though col_words is kept at least 1 for the bitmaps
        nsend = int(unit * g.col_block_wbase[g.R])
        send = np.zeros(nsend, dtype=dtype)
        k = min(len(values), nsend)
        send[:k] = values[:k]
        counts = unit * g.col_block_words
        recv = np.zeros(int(counts[g.i]), dtype=dtype)
        if g.R == 1:
            recv[:] = send[:len(recv)]
        else:
            g.col_comm.Reduce_scatter(send, recv, recvcounts=counts, op=op)
        return recv[:g.nlocal].copy() if unit == 64 else recv

    def free(self):
        for c in (self.row_comm, self.col_comm):
            if hasattr(c, "Free"):
                c.Free()


def gather_strip(comm, mine, out, counts, displs):
    """Every rank's `mine` of a grid row or column (`comm`, the row_comm or col_comm) into
    `out` at displs, as one strip (no MPI call on a one-rank row or column). Returns out."""
    t = mpi_type(mine)
    if comm.Get_size() == 1:
        out[:len(mine)] = mine
    else:
        comm.Allgatherv([mine, t], [out, (counts, displs), t])
    return out
