"""Run under mpiexec: Kernel 1 followed by its audit, then each corruption on each rank.

  python tests/mpi_audit_check.py SCALE EDGEFACTOR CHUNK {int32,int64} {bfs,sssp}

CHUNK is Kernel 1's edges per exchange round (small: many rounds); int64 forces the vertex
ids the code uses above SCALE 31. The correct graph must pass; every corruption the fault
hooks make, applied on any one rank that holds rows, must fail with the expected check.
Rank 0 prints "OK" (or what went wrong) after all ranks agreed.
"""
import copy
import sys

import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.kernels.audit import audit_graph, corrupt_graph
from graph500.kernels.construct import construct_graph

EXPECT = {"drop": "entries", "dup": "entries", "move": "hash", "weight": "hash"}


def main():
    scale, edgefactor, chunk = (int(a) for a in sys.argv[1:4])
    dtype = np.int64 if sys.argv[4] == "int64" else np.int32
    weights = sys.argv[5] == "sssp"
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    m = edgefactor << scale
    src, dst, w = generate_edges(scale, edgefactor, 2, 3, rank * m // size, (rank + 1) * m // size,
                                 weights=weights)
    src, dst = src.astype(dtype), dst.astype(dtype)
    graph = construct_graph(comm, scale, src, dst, w, chunk=chunk)
    problems = []
    if graph.col.dtype != dtype:
        problems.append("CSR ids are %s, not %s" % (graph.col.dtype, np.dtype(dtype)))
    v = audit_graph(comm, graph, src, dst, w, m)
    if not v["ok"]:
        problems.append("correct graph rejected: %s" % v["message"])
    nonloop = int(np.count_nonzero(src != dst))
    if v["entries"] != comm.allreduce(2 * nonloop) or v["self_loops"] != m - comm.allreduce(nonloop):
        problems.append("counts %r" % v)
    if v["self_loops"] == 0:
        problems.append("the graph has no self-loop: the self-loop check is not exercised")

    hows = ["drop", "dup", "move"] + (["weight"] if weights else [])
    for victim in range(size):
        has_rows = comm.bcast(len(graph.col) > 0 and graph.part.nlocal > 1, root=victim)
        if not has_rows:
            continue
        for how in hows:
            g = copy.deepcopy(graph)
            if rank == victim:
                corrupt_graph(g, how)
            v = audit_graph(comm, g, src, dst, w, m)
            if v["ok"] or v["check"] != EXPECT[how]:
                problems.append("%s on rank %d: %r" % (how, victim, v))
    empty = comm.allreduce(int(graph.part.nlocal == 0))
    problems = comm.gather(problems, root=0)
    if rank == 0:
        flat = [p for ps in problems for p in ps]
        print("OK empty_ranks=%d" % empty if not flat else "\n".join(flat))


if __name__ == "__main__":
    main()
