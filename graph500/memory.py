"""Memory preflight: what one rank holds at its peak, and whether a node can hold its ranks.

Kernel 1 holds the generated edge list while the CSR fills, plus one exchange round's
buffers; after it the edge list is freed and the search workspaces join the CSR. The constant part covers the interpreter, NumPy, Numba's compiled
code and the MPI library, as measured with a tiny run (about 150 MiB per rank).
"""
import math

from kernels.construct import CHUNK_EDGES

BASE_BYTES = 200 << 20


def index_bytes(scale):
    return 4 if scale <= 31 else 8


def estimate_rank_bytes(scale, edgefactor, nranks, weights):
    """Peak bytes one rank holds: the larger of Kernel 1 (edge list + CSR + one exchange
    round) and the searches (CSR + BFS and validation bitmaps + SSSP workspace)."""
    n = 1 << scale
    ib = index_bytes(scale)
    wb = 4 if weights else 0
    edges_local = math.ceil(edgefactor * n / nranks)
    nlocal = math.ceil(n / nranks)
    edge_list = edges_local * (2 * ib + wb)
    csr = 2 * edges_local * (ib + wb) + (nlocal + 1) * 8
    chunk = min(CHUNK_EDGES, edges_local)
    record = (3 if weights else 2) * ib                   # (row vertex, neighbour[, weight bits])
    exchange = 2 * (2 * chunk) * record                   # send + receive, two records per edge
    # BFS: frontier bitmap, parent, two queues; validation: five N-bit bitmaps, order, pending.
    search = 6 * (n // 8) + nlocal * (8 * 3 + 8 + 8)
    if weights:
        # SSSP workspace (per-vertex state, replicated distances for the pull step, the
        # remote-distance cache, record buffers) and its validation window.
        window = min(n, 1 << 24)
        search += nlocal * 48 + 4 * n + 4 * window + (28 << 20) + 4 * window
    return BASE_BYTES + max(edge_list + csr + exchange, csr + search)


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
