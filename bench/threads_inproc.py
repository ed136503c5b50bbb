"""Threads 2 vs 1 inside one process (one rank): Kernel 1, BFS, BFS validation, SSSP and
SSSP validation, interleaved, best of REPEAT, so a shared machine's changing load hits both
settings alike.

  NUMBA_NUM_THREADS=2 .venv/bin/mpiexec -n 1 .venv/bin/python bench/threads_inproc.py \\
      [SCALE] [REPEAT] [NROOTS] [--phases] [--kernels bfs,sssp]

The searches and validations go through the driver's kernel classes (graph500/driver.py),
on a graph built with weights as a BFS+SSSP run builds it, from the benchmark's roots.
Why in one process: on this VM, separate processes of the same code differ by up to 2x in
search time (the memory system's load from outside the VM, not visible as steal time), so
ratios between processes need many runs; interleaving the thread counts in one process
cancels that.
Besides wall time it reports CPU time (time.process_time: all threads of the process) and
its ratio to one thread's: the work a thread count adds (forks, joins, split passes,
spinning). On a loaded machine the wall speed-up is capped by the cores the other users
leave, but the CPU ratio still says what cannot scale: at best, speed-up = T / CPU ratio.
--phases: CPU time of each BFS step function per thread count (bench/bfs_ab.py's wrapper).
"""
import sys
import time
import types

import numba
import numpy as np
from mpi4py import MPI

from graph500.driver import KERNEL_CLASSES
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.kernels.construct import construct_graph


PHASES = ("construction", "bfs", "bfs validation", "sssp", "sssp validation")


def main():
    comm = MPI.COMM_WORLD
    phases = {}
    wrap = "--phases" in sys.argv
    if wrap:
        sys.argv.remove("--phases")
    kernels = ["bfs", "sssp"]
    if "--kernels" in sys.argv:
        i = sys.argv.index("--kernels")
        kernels = sys.argv[i + 1].split(",")
        del sys.argv[i:i + 2]
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    nroots = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    src, dst, wgt = generate_edges(scale, 16, 2, 3, 0, 16 << scale, weights=True)
    counts = sorted({1, numba.config.NUMBA_NUM_THREADS})
    args = types.SimpleNamespace(delta=None)
    s0, d0, w0 = generate_edges(8, 16, 2, 3, 0, 16 << 8, weights=True)
    for t in counts:                                  # compile outside the timings
        numba.set_num_threads(t)
        g0 = construct_graph(comm, 8, s0, d0, w0)
        for name in kernels:
            k = KERNEL_CLASSES[name](comm, g0, args)
            k.prepare()
            k.search(1)
            k.validate(1, k.nedge())
    if wrap:    # after every compile (see bfs_ab._wrap_steps)
        import graph500.kernels.bfs as kbfs
        from bfs_ab import _print_phases, _wrap_steps
        acc = _wrap_steps(kbfs)
    roots = None
    res = {t: {} for t in counts}

    def add(t, phase, wall, cpu):
        for key, v in ((phase, wall), (phase + " cpu", cpu)):
            res[t].setdefault(key, []).append(v)

    for _ in range(repeat):
        for t in counts:
            numba.set_num_threads(t)
            t0, c0 = time.perf_counter(), time.process_time()
            g = construct_graph(comm, scale, src, dst, wgt)
            add(t, "construction", time.perf_counter() - t0, time.process_time() - c0)
            if roots is None:
                deg = np.diff(g.rowptr)
                roots = choose_roots(scale, nroots, 2, 3, lambda c: deg[c] > 0)
            if wrap:
                acc.clear()
            for name in kernels:
                k = KERNEL_CLASSES[name](comm, g, args)
                tot = {"s": 0.0, "sc": 0.0, "v": 0.0, "vc": 0.0}
                for root in roots:
                    k.prepare()
                    t0, c0 = time.perf_counter(), time.process_time()
                    k.search(root)
                    tot["s"] += time.perf_counter() - t0
                    tot["sc"] += time.process_time() - c0
                    nedge = k.nedge()
                    t0, c0 = time.perf_counter(), time.process_time()
                    bad = k.validate(root, nedge)
                    tot["v"] += time.perf_counter() - t0
                    tot["vc"] += time.process_time() - c0
                    if bad is not None:
                        raise SystemExit("%s validation failed: %s" % (name, bad[0]))
                n = len(roots)
                add(t, name, tot["s"] / n, tot["sc"] / n)
                add(t, name + " validation", tot["v"] / n, tot["vc"] / n)
                del k
            if wrap:
                phases["threads %d" % t] = dict(acc)
            del g
    print("SCALE %d, 1 rank, %d roots, best of %d, threading layer %s (shared machine: compare "
          "ratios)" % (scale, len(roots), repeat, numba.threading_layer()))
    base = {k: min(v) for k, v in res[counts[0]].items()}
    for t in counts:
        b = {k: min(v) for k, v in res[t].items()}
        print("threads %d:" % t)
        for ph in PHASES:
            if ph in b:
                print("  %-16s %9.4f s (speed-up %.2f), cpu %9.4f s (x%.2f)"
                      % (ph, b[ph], base[ph] / b[ph], b[ph + " cpu"],
                         b[ph + " cpu"] / base[ph + " cpu"]))
    if phases:
        print("  BFS CPU s per step function (last repeat, all roots):")
        _print_phases(phases, None)


if __name__ == "__main__":
    main()
