"""Kernel 3's results for 1, 2 and 3 threads under mpiexec (launched by tests/test_sssp.py).

  NUMBA_NUM_THREADS=3 mpiexec -n P python tests/mpi_sssp_threads.py OUT.json

For a few graphs, roots, deltas and workspaces (par_min=1 chunks every pass, record batch
and sweep however small at 2 and 3 threads, so the threaded paths run even on these graphs,
against one thread's serial steps, which never chunk; a small record
queue forces many passes), search with each thread count and record hashes of the gathered
distance and parent arrays. The test compares them across thread counts (both must agree)
and across rank counts (distances must agree).
"""
import hashlib
import json
import sys

import numba
from mpi4py import MPI

import mpi_sssp_common as common
from graph500.kernels.sssp import DEFAULT_DELTA, SSSPWorkspace, sssp

THREADS = (1, 2, 3)


def sha(a):
    return hashlib.sha256(a.tobytes()).hexdigest()[:24]


def main():
    comm = MPI.COMM_WORLD
    out = {"nranks": comm.Get_size(), "runs": {}}
    ties = common.ties_edges(9, 8 << 9, 5)
    for name, scale, (src, dst, w) in (("random9", 9, common.random_edges(9, 8 << 9, 7)),
                                       ("kron12", 12, common.benchmark_edges(12)),
                                       ("ties9", 9, ties)):
        g = common.build_graph(comm, scale, src, dst, w)
        keep = src != dst
        roots = [int(src[keep][i]) for i in (0, 17, 301)]
        spaces = {"chunked": SSSPWorkspace(g, comm, par_min=1),
                  "small-queue": SSSPWorkspace(g, comm, par_min=1, capacity=16, ghost_slots=64),
                  "push": SSSPWorkspace(g, comm, par_min=1, pull_max_vertices=0)}
        for t in THREADS:
            numba.set_num_threads(t)
            for wsname, ws in spaces.items():
                for root in roots:
                    for delta in (DEFAULT_DELTA, 0.1):
                        dist, parent = sssp(ws, root, delta)
                        d = common.gather_block(comm, dist)
                        p = common.gather_block(comm, parent)
                        if comm.Get_rank() == 0:
                            key = "%s/%s/%d/%g" % (name, wsname, root, delta)
                            out["runs"].setdefault(key, {})[str(t)] = [sha(d), sha(p)]
    if comm.Get_rank() == 0:
        with open(sys.argv[1], "w") as f:
            json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
