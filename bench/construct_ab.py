"""Kernel 1 before/after in one process: times construct_graph of this checkout against the
`kernels` package of another source tree, interleaved, best of REPEAT (a shared machine's load
hits both alike), in wall time and in CPU time (time.process_time, max over ranks, which the
load of other users' processes hits far less).

  mkdir -p /tmp/old && git archive <commit> kernels | tar -x -C /tmp/old
  mv /tmp/old/kernels /tmp/old/oldkernels
  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/construct_ab.py \\
      /tmp/old SCALE [REPEAT] [--weights] [--phases] [--2d]

--phases: also the CPU time of each step function construct_graph calls (rank 0, all
repeats; bench/bfs_ab.py's wrapper).
"""
import importlib
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500.generator import generate_edges


def main():
    sys.path.insert(0, sys.argv[1])
    # --2d: the 2-D layout's Kernel 1 (kernels/construct2d.py) instead
    fname = "construct_graph2d" if "--2d" in sys.argv else "construct_graph"
    mod = "construct2d" if "--2d" in sys.argv else "construct"
    old = getattr(importlib.import_module("oldkernels." + mod), fname)
    new = getattr(importlib.import_module("graph500.kernels." + mod), fname)
    scale = int(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 5
    weights = "--weights" in sys.argv
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    m = 16 << scale
    s0, d0, w0 = generate_edges(8, 16, 2, 3, r * (16 << 8) // p, (r + 1) * (16 << 8) // p,
                                weights=weights)
    src, dst, w = generate_edges(scale, 16, 2, 3, r * m // p, (r + 1) * m // p, weights=weights)
    best = {"before": [], "after": []}
    cpu = {"before": [], "after": []}
    for name, f in (("before", old), ("after", new)):
        f(comm, 8, s0, d0, w0)                       # compile outside the timings
    phases = {}
    if "--phases" in sys.argv:      # after every compile (see bfs_ab._wrap_steps)
        from bfs_ab import _print_phases, _wrap_steps
        phases = {"before": _wrap_steps(sys.modules[old.__module__]),
                  "after": _wrap_steps(sys.modules[new.__module__])}
    for _ in range(repeat):
        for name, f in (("before", old), ("after", new)):
            comm.Barrier()
            t0, c0 = time.perf_counter(), time.process_time()
            f(comm, scale, src, dst, w)
            comm.Barrier()
            best[name].append(time.perf_counter() - t0)
            cpu[name].append(comm.allreduce(time.process_time() - c0, op=MPI.MAX))
    if r == 0:
        b, a = min(best["before"]), min(best["after"])
        print("%s SCALE %d, %d ranks, weights %s: construction best of %d: before %.3f s, after "
              "%.3f s, after/before %.2f" % (fname, scale, p, weights, repeat, b, a, a / b))
        b, a = min(cpu["before"]), min(cpu["after"])
        print("  cpu (max over ranks) best of %d: before %.3f s, after %.3f s, after/before "
              "%.2f" % (repeat, b, a, a / b))
        print("  all before:", " ".join("%.3f" % t for t in best["before"]))
        print("  all after: ", " ".join("%.3f" % t for t in best["after"]))
        if phases:
            print("  CPU s per step function, rank 0, all repeats:")
            _print_phases(phases, None)


if __name__ == "__main__":
    main()
