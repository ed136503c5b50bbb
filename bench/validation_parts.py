"""Where BFS validation's time goes: validate_bfs part by part, per root (rank 0).

  NUMBA_NUM_THREADS=1 .venv/bin/mpiexec -n 2 .venv/bin/python bench/validation_parts.py SCALE ROOTS

Builds the BFS-only benchmark graph (bench/bfs_ab.py's graph_and_roots), runs one untimed
search and validation (compiles), then for each root a search and a validation with the
validator's Python-level steps wrapped by wall and CPU timers: the parent-range pass, the
grouping of pending vertices by parent, the levels (each level's _next_run and row scan,
_scan or its threaded _scan_par), the unreached rows' scan and the agreement.
"""
import sys
import time

from mpi4py import MPI

from bfs_ab import graph_and_roots   # bench/ is sys.path[0] when run as a script
import graph500.validate as V
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.teps import edge_count

comm = MPI.COMM_WORLD
scale, nroots = int(sys.argv[1]), int(sys.argv[2])
g, roots = graph_and_roots(comm, scale, nroots)
acc = {}
def wrap(name):
    f = getattr(V, name)
    def w(*a, **k):
        key = name
        if name in ("_scan", "_scan_par"):     # the last argument says which rows
            key = "%s(%s)" % (name, "level rows" if a[-1] else "unreached rows")
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return f(*a, **k)
        finally:
            d = acc.setdefault(key, [0, 0.0, 0.0]); d[0] += 1
            d[1] += time.perf_counter() - t0; d[2] += time.process_time() - c0
    setattr(V, name, w)
ws = BFSWorkspace(g, comm)
ws.reset(); p = bfs(ws, roots[0]).copy(); V.validate_bfs(comm, g, roots[0], p, edge_count(comm, g, p))  # warm-up
for n in ["check_parent_range", "_group_run", "_group_par", "_levels_and_scan", "_next_run", "_next_par", "_scan",
          "_scan_par", "agree", "conclude"]:
    wrap(n)
tot = [0.0, 0.0]; ts = 0.0
for r in roots:
    ws.reset(); comm.Barrier(); t0 = time.perf_counter(); p = bfs(ws, r).copy(); comm.Barrier(); ts += time.perf_counter() - t0
    ne = edge_count(comm, g, p)
    comm.Barrier(); t0, c0 = time.perf_counter(), time.process_time()
    fail, _ = V.validate_bfs(comm, g, r, p, ne)
    assert fail is None
    comm.Barrier(); tot[0] += time.perf_counter() - t0; tot[1] += time.process_time() - c0
if comm.rank == 0:
    n = len(roots)
    print("SCALE %d, %d ranks, %d roots: search %.4f s, validate wall %.4f cpu %.4f s per root" % (scale, comm.size, n, ts / n, tot[0] / n, tot[1] / n))
    for k, (c, w, cp) in sorted(acc.items(), key=lambda kv: -kv[1][1]):
        print("  %-24s %5.1f calls  wall %.4f s  cpu %.4f s per root" % (k, c / n, w / n, cp / n))
