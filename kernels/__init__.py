"""The compute core: distributed graph (1-D block partition, CSR), Kernel 1, BFS and SSSP.

Hot loops are Numba-compiled; MPI exchanges happen between Numba steps. This package never
imports `graph500` or `energy`.
"""
