"""Collectives per SSSP search on 2+ ranks (old sssp(graph, root, delta, ws, comm) or new
sssp(ws, root) API): mpiexec -n 2 python bench/sssp_rounds.py SCALE. Load-independent
measure of per-round overhead (issue 7 item 5)."""
import sys

from mpi4py import MPI
import graph500.kernels.sssp as K
from graph500.generator import generate_edges
from graph500.kernels.construct import construct_graph

class Counting:
    def __init__(self, comm):
        self.c = comm; self.n = {}
    def __getattr__(self, name):
        f = getattr(self.c, name)
        if name[0].isupper() and name not in ("Get_rank", "Get_size"):
            def g(*a, **k):
                self.n[name] = self.n.get(name, 0) + 1
                return f(*a, **k)
            return g
        return f

comm = MPI.COMM_WORLD
scale = int(sys.argv[1])
P, r = comm.Get_size(), comm.Get_rank()
m = 16 << scale
a, b = r * m // P, (r + 1) * m // P
src, dst, w = generate_edges(scale, 16, 2, 3, a, b, weights=True)
g = construct_graph(comm, scale, src, dst, w)
cc = Counting(comm)
new = hasattr(K.SSSPWorkspace, "reset")
ws = K.SSSPWorkspace(g, cc) if new else K.SSSPWorkspace(g)
def run(root):
    if new:
        ws.reset(); cc.n.clear(); comm.Barrier(); t = MPI.Wtime(); K.sssp(ws, root)
    else:
        cc.n.clear(); comm.Barrier(); t = MPI.Wtime(); K.sssp(g, root, K.DEFAULT_DELTA, ws, cc)
    return MPI.Wtime() - t
run(0)
for root in (1, 2, 3):
    t = run(root)
    if r == 0:
        print(scale, "new" if new else "old", root, dict(cc.n), sum(cc.n.values()), "%.4f s" % t, flush=True)
