"""m, the edge count of one search for TEPS (spec section 6).

m = the non-self-loop input tuples, duplicates included, with both ends reached. A CSR row
holds one entry per tuple touching the vertex, so m = (sum of row lengths over reached
vertices) / 2: no per-edge work and no communication beyond one Allreduce. Untimed.
The benchmark computes m here from the graph the Kernel 1 audit proved equal to the edge
list and from the parent array that validation checks; a search kernel never reports it.
"""
from mpi4py import MPI
from numba import njit


@njit(cache=True, nogil=True)
def reached_entries(rowptr, parent):
    s = 0
    for i in range(len(parent)):
        if parent[i] != -1:
            s += rowptr[i + 1] - rowptr[i]
    return s


def edge_count(comm, graph, parent):
    """Collective: m for the search whose local parent block is `parent`."""
    return int(comm.allreduce(int(reached_entries(graph.rowptr, parent)), op=MPI.SUM)) // 2
