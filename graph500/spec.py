"""Constants fixed by the Graph500 v3 specification and the reference implementation."""

EDGEFACTOR = 16            # required for submissions; kept a parameter
DEFAULT_SEED = (2, 3)      # the reference hard-codes these user seeds
MAX_ROOTS = 64             # NBFS

# Vertex ids are int64 past SCALE 31, and the partition's owner arithmetic computes
# (v >> 6) * P: with SCALE <= 40 and P < 2^20 that product stays inside int64, and the
# edge count edgefactor * 2^SCALE stays far inside it too.
MAX_SCALE = 40
MAX_RANKS = 1 << 20
MAX_EDGES = 1 << 62

KERNELS = ("bfs", "sssp")
