"""m, the edge count of one search for TEPS (spec section 6).

m = the non-self-loop input tuples, duplicates included, with both ends reached. A CSR row
holds one entry per tuple touching the vertex, so m = (sum of row lengths over reached
vertices) / 2: no per-edge work and no communication beyond one Allreduce. Untimed.
The benchmark computes m here from the graph the Kernel 1 audit proved equal to the edge
list and from the parent array that validation checks; a search kernel never reports it.
"""
import numpy as np
from mpi4py import MPI
from numba import njit, prange

# Rows per partial sum: a fixed cut, so the sum is the same for any thread count (integers,
# so any cut would be; fixed keeps the partials array small and its size thread-free).
CHUNK_ROWS = 1 << 16


@njit(cache=True, nogil=True)
def _reached_run(rowptr, parent, a, b):
    s = 0
    for i in range(a, b):
        if parent[i] != -1:
            s += rowptr[i + 1] - rowptr[i]
    return s


@njit(cache=True, nogil=True, parallel=True)
def reached_entries(rowptr, parent):
    """Sum of row lengths over reached local vertices. Per-chunk partial sums, added after
    the parallel loop: no scalar reduction inside prange (its analysis failed on one
    machine's Numba)."""
    n = len(parent)
    nchunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    part = np.zeros(nchunks, dtype=np.int64)
    for c in prange(nchunks):
        part[c] = _reached_run(rowptr, parent, c * CHUNK_ROWS, min(n, (c + 1) * CHUNK_ROWS))
    return part.sum()


def edge_count(comm, graph, parent):
    """Collective: m for the search whose local parent block is `parent`."""
    return int(comm.allreduce(int(reached_entries(graph.rowptr, parent)), op=MPI.SUM)) // 2
