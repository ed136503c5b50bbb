"""The distributed graph that Kernel 1 builds and Kernels 2 and 3 read (never modify).

Each rank holds a CSR of its own vertices [lo, hi) (see partition.py): row i lists the global
ids of the neighbours of vertex lo + i, one entry per non-self-loop input tuple touching it,
duplicates kept. Keeping duplicates means the row length *is* the tuple degree that TEPS
counting needs: m = sum over reached vertices of the row length / 2 (spec section 6).
`weight`, when SSSP runs, is aligned with `col` (weight[k] belongs to edge col[k]).
"""
from dataclasses import dataclass

import numpy as np

from .partition import Partition


@dataclass
class DistGraph:
    part: Partition
    rowptr: np.ndarray          # int64, nlocal + 1
    col: np.ndarray             # global neighbour ids, int32 when SCALE <= 31 else int64
    weight: np.ndarray = None   # float32 aligned with col, or None for a BFS-only run

    @property
    def nlocal(self):
        return self.part.nlocal

    def degree(self):
        return np.diff(self.rowptr)


def vertex_dtype(scale):
    """Narrowest signed type for vertex ids: int32 holds ids < 2^31, i.e. SCALE <= 31."""
    return np.int32 if scale <= 31 else np.int64
