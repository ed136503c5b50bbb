"""A/B of the 2-D SSSP: another version of kernels/sssp2d.py (a file) against this tree's, on
one graph in one run, per thread count.

    git show a78c69c:kernels/sssp2d.py > /tmp/sssp2d_base.py
    NUMBA_NUM_THREADS=2 mpiexec -n P python bench/sssp2d_ab.py SCALE /tmp/sssp2d_base.py
                                                          [--threads 1,2] [--roots K]

The base file is loaded as a module of graph500.kernels (its relative imports resolve to
this tree's helpers). For every root: the base kernel at each thread count, then this
tree's at each thread count, interleaved, so machine noise falls on all alike; distances
must be equal bit for bit (checked), parents too (the benchmark graph's uniform weights
leave no tie-only vertex, and strict parents follow the rule). Printed (rank 0): per
version and thread count the median wall time and the mean CPU time per search (process
time of all the rank's threads, mean over ranks), and each one's ratio to the base at its
first thread count. CPU time is the robust part on a loaded machine.
"""
import argparse
import importlib.util
import os
import sys
import time

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from graph500 import numba_cache  # noqa: E402

numba_cache.configure()

import numba  # noqa: E402
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402
from sssp2d_threads import graph2d_and_roots  # noqa: E402


def _load(path):
    import graph500.kernels  # noqa: F401  (the package the base's relative imports need)
    spec = importlib.util.spec_from_file_location("graph500.kernels._sssp2d_base", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", type=int)
    ap.add_argument("base")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--roots", type=int, default=4)
    a = ap.parse_args()
    threads = [int(x) for x in a.threads.split(",")]
    import graph500.kernels.sssp2d as new
    base = _load(a.base)

    comm = MPI.COMM_WORLD
    rank, p = comm.Get_rank(), comm.Get_size()
    g, roots = graph2d_and_roots(comm, a.scale, a.roots)
    kinds = [("base", base), ("new", new)]
    spaces = {name: mod.SSSP2DWorkspace(g, comm) for name, mod in kinds}
    runs = [(name, mod, t) for name, mod in kinds for t in threads]
    for name, mod, t in runs:      # untimed: compiled or cached code, warm buffers
        numba.set_num_threads(t)
        spaces[name].reset()
        mod.sssp2d(spaces[name], roots[0])
    wall = {(n, t): [] for n, _, t in runs}
    cpu = {(n, t): [] for n, _, t in runs}
    for root in roots:
        ref = None
        for name, mod, t in runs:
            numba.set_num_threads(t)
            ws = spaces[name]
            ws.reset()
            comm.Barrier()
            c0, t0 = time.process_time(), MPI.Wtime()
            dist, parent = mod.sssp2d(ws, root)
            c1 = time.process_time()
            comm.Barrier()
            wall[name, t].append(MPI.Wtime() - t0)
            cpu[name, t].append(c1 - c0)
            if ref is None:
                ref = (dist.copy(), parent.copy())
            same = np.array_equal(ref[0].view(np.uint32), dist.view(np.uint32)) and \
                np.array_equal(ref[1], parent)
            if not comm.allreduce(int(same), op=MPI.MIN):
                raise SystemExit("results differ: root %d, %s, %d threads" % (root, name, t))
    c = {k: float(np.mean(comm.allgather(float(np.mean(v))))) for k, v in cpu.items()}
    if rank == 0:
        k0 = ("base", threads[0])
        print("SCALE %d, %d ranks, grid %d x %d, %d roots, results equal (niced, shared "
              "machine)" % (a.scale, p, g.grid.R, g.grid.C, len(roots)))
        for name, _, t in runs:
            wm = float(np.median(wall[name, t]))
            print("%-4s %d threads: wall median %.4f s (speedup x%.2f), CPU per search %.4f s "
                  "(x%.2f of base's)"
                  % (name, t, wm, float(np.median(wall[k0])) / wm, c[name, t],
                     c[name, t] / c[k0]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
