"""Memory preflight: what one rank holds at its peak, and whether a node can hold its ranks.

Peak is during Kernel 1: the generated edge list is still alive while the CSR fills, plus
one exchange round's buffers. After it the edge list is freed and the search workspaces are
small next to the CSR. The constant part covers the interpreter, NumPy, Numba's compiled
code and the MPI library, as measured with a tiny run (about 150 MiB per rank).
"""
import math

from kernels.construct import CHUNK_EDGES

BASE_BYTES = 200 << 20


def index_bytes(scale):
    return 4 if scale <= 31 else 8


def estimate_rank_bytes(scale, edgefactor, nranks, weights):
    n = 1 << scale
    ib = index_bytes(scale)
    wb = 4 if weights else 0
    edges_local = math.ceil(edgefactor * n / nranks)
    nlocal = math.ceil(n / nranks)
    edge_list = edges_local * (2 * ib + wb)
    csr = 2 * edges_local * (ib + wb) + (nlocal + 1) * 8
    chunk = min(CHUNK_EDGES, edges_local)
    exchange = 2 * (2 * chunk) * (2 * ib + wb)           # send + receive, two records per edge
    # BFS: the frontier bitmap; validation: five N-bit bitmaps; per-vertex parent, queues,
    # depth; SSSP validation replicates a window of up to 2^24 float32 distances.
    search = 6 * (n // 8) + nlocal * (8 * 3 + 8 + 4) + (min(n, 1 << 24) * 4 if weights else 0)
    return BASE_BYTES + edge_list + csr + exchange + search


def mem_available(path="/proc/meminfo"):
    """Bytes the kernel says a new process can use, or None where it cannot be read."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def gib(x):
    return "%.2f GiB" % (x / 2.0 ** 30)
