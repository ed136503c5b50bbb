"""The 2-D layout (kernels/grid.py, construct2d.py, bfs2d.py, graph500/validate2d.py) under real
`mpiexec -n P`, P = 1, 2, 3, 4, 5, 6, 9: valid trees whose depths equal the 1-D BFS's, in the
default, pure top-down and pure bottom-up directions; the 2-D validator rejecting every
mutation of tests/bfs_cases.py with the 1-D validator's check number; the Kernel 1 audit and
the TEPS edge count on the 2-D graph agreeing with the 1-D ones.

Run as a script (`mpiexec -n P python tests/test_bfs2d.py SCALE OUT.json`) it is the worker
the tests launch; it writes a JSON report from rank 0.
"""
import json
import sys

import pytest

from mpi_util import run_mpi

MODES = {"default": {}, "top-down": {"alpha": 0}, "bottom-up": {"alpha": float("inf"),
                                                                   "beta": float("inf")}}


def _worker(scale, out, nroots=3, parallel_min=None):
    import hashlib

    import numpy as np
    from mpi4py import MPI

    import bfs_cases
    from graph500 import validate as V
    from graph500 import validate2d as V2
    from graph500.driver import _has_edge
    from graph500.generator import generate_edges
    from graph500.kernels.audit import audit_graph
    from graph500.kernels.bfs import BFSWorkspace, bfs
    from graph500.kernels.bfs2d import BFS2DWorkspace, bfs2d
    from graph500.kernels.construct import construct_graph
    from graph500.kernels.construct2d import construct_graph2d, edge_count2d
    from graph500.kernels.teps import edge_count
    from graph500.roots import choose_roots

    comm = MPI.COMM_WORLD
    m = 16 << scale
    r, p = comm.Get_rank(), comm.Get_size()
    src, dst, _ = generate_edges(scale, 16, 2, 3, r * m // p, (r + 1) * m // p)
    g1 = construct_graph(comm, scale, src, dst)
    # small rounds, so the bounded exchange takes several
    g2 = construct_graph2d(comm, scale, src, dst, chunk=1 << (scale + 1))
    audit = audit_graph(comm, g2, src, dst, None, m)
    # the audit catches each Kernel 1 bug of audit.corrupt_graph on one rank's block
    import dataclasses
    from graph500.kernels.audit import corrupt_graph
    caught = {}
    for how in ("drop", "dup", "move"):
        bad = dataclasses.replace(g2, colptr=g2.colptr.copy(), rows=g2.rows.copy())
        if comm.Get_rank() == comm.Get_size() - 1:
            corrupt_graph(bad, how)
        caught[how] = not audit_graph(comm, bad, src, dst, None, m)["ok"]
    roots = choose_roots(scale, 64, 2, 3, _has_edge(comm, g1))
    roots2 = choose_roots(scale, 64, 2, 3, _has_edge(comm, g2))
    rep = {"grid": [g2.grid.R, g2.grid.C], "audit_ok": audit["ok"], "audit_caught": caught,
           "audit_entries": audit["entries"], "same_roots": roots == roots2,
           "degree_equal": bool(comm.allreduce(bool(np.array_equal(g1.degree(), g2.degree())),
                                               op=MPI.LAND)),
           "searches": [], "mutations": {},
           # the whole CSC, in order (Kernel 1's columns: the same for any thread count)
           "csc": hashlib.sha256(b"".join(
               a.tobytes() for pair in comm.allgather((g2.colptr, g2.rows)) for a in pair)
           ).hexdigest()}
    ws1, ws2 = BFSWorkspace(g1, comm), BFS2DWorkspace(g2, comm)
    if parallel_min is not None:    # threaded seen-marking and apply even on a small graph
        ws2.parallel_min = parallel_min
    for mode, kw in MODES.items():
        for root in roots[:nroots]:
            ws1.reset()
            p1 = bfs(ws1, root).copy()
            ws2.reset()
            p2 = bfs2d(ws2, root, **kw).copy()
            m1 = edge_count(comm, g1, p2)
            m2 = edge_count2d(comm, g2, p2)
            f1, _ = V.validate_bfs(comm, g1, root, p2, m1)
            f2, c2 = V2.validate_bfs2d(comm, g2, root, p2, m2)
            a1 = np.concatenate(comm.allgather(p1))
            a2 = np.concatenate(comm.allgather(p2))
            d1 = bfs_cases.global_depth(a1, root)
            d2 = bfs_cases.global_depth(a2, root)
            rep["searches"].append({
                "mode": mode, "root": int(root), "depths_equal": bool(np.array_equal(d1, d2)),
                "reached": int((d2 >= 0).sum()), "valid_1d": f1 is None,
                "valid_2d": f2 is None, "nedge": m2, "nedge_equal": m1 == m2 == c2,
                "parent_sum": int(np.dot(a2 + 1, np.arange(len(a2)) % 1009))})
    # mutations of the first root's tree, as tests/bfs_cases.py makes them
    adjacency = bfs_cases.global_adjacency(comm, g1)
    root = roots[0]
    ws2.reset()
    parent = bfs2d(ws2, root).copy()
    mm = edge_count2d(comm, g2, parent)
    pall = np.concatenate(comm.allgather(parent))
    depth = bfs_cases.global_depth(pall, root)
    lo, hi = g2.part.lo, g2.part.hi
    for name, expect, mutated, dm in (bfs_cases.mutations(pall, depth, root, adjacency)
                                      + [("correct result", 0, None, 0)]):
        local = parent.copy() if mutated is None else mutated[lo:hi].copy()
        f2, _ = V2.validate_bfs2d(comm, g2, root, local, mm + dm)
        f1, _ = V.validate_bfs(comm, g1, root, local, mm + dm)
        rep["mutations"][name] = {"expected": expect, "got": f2.check if f2 else 0,
                                  "got_1d": f1.check if f1 else 0,
                                  "message": f2.message() if f2 else None}
    if comm.Get_rank() == 0:
        with open(out, "w") as f:
            json.dump(rep, f)


def _run(tmp_path, nranks, scale, threads=1, extra=()):
    out = tmp_path / ("bfs2d_%d_%d_%d.json" % (nranks, scale, threads))
    res = run_mpi(nranks, ["tests/test_bfs2d.py", str(scale), str(out)] + list(extra),
                  timeout=600, env={"NUMBA_NUM_THREADS": str(threads)})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(out.read_text())


GRIDS = {1: [1, 1], 2: [1, 2], 3: [1, 3], 4: [2, 2], 5: [1, 5], 6: [2, 3], 9: [3, 3]}


def _check(rep, nranks):
    assert rep["grid"] == GRIDS[nranks]
    assert rep["audit_ok"]
    assert rep["audit_caught"] == {"drop": True, "dup": True, "move": True}
    assert rep["same_roots"] and rep["degree_equal"]
    assert len(rep["searches"]) == 3 * len(MODES)
    for s in rep["searches"]:
        assert s["depths_equal"], s
        assert s["valid_1d"] and s["valid_2d"], s
        assert s["nedge_equal"] and s["nedge"] > 0, s
    for name, r in rep["mutations"].items():
        assert r["got"] == r["expected"] == r["got_1d"], (name, r)


@pytest.mark.parametrize("nranks,scale", [(1, 11), (2, 11), (3, 10), (4, 12), (5, 10),
                                          (6, 10), (9, 9)])
def test_bfs2d_depths_validation_mutations(tmp_path, nranks, scale):
    _check(_run(tmp_path, nranks, scale), nranks)


@pytest.mark.parametrize("nranks", [2, 4])
def test_bfs2d_same_tree_for_any_thread_count(tmp_path, nranks):
    """1, 2 and 3 threads give the same trees; the threaded seen-marking and apply run on
    every top-down level (parallel_min 0), the threaded counts and fills on the large ones."""
    runs = [_run(tmp_path, nranks, 12, threads=t, extra=["0"]) for t in (1, 2, 3)]
    for rep in runs:
        _check(rep, nranks)
    sums = [[s["parent_sum"] for s in rep["searches"]] for rep in runs]
    assert sums[0] == sums[1] == sums[2]
    assert runs[0]["csc"] == runs[1]["csc"] == runs[2]["csc"]


def _cli(tmp_path, nranks, layout, env=None):
    out = tmp_path / ("%s_%d.json" % (layout, nranks))
    res = run_mpi(nranks, ["-m", "graph500", "-s", "9", "--roots", "4", "--kernels", "bfs",
                           "--layout", layout, "--energy", "off", "--quiet", "--json", str(out)],
                  env=env, timeout=600)
    return res, json.loads(out.read_text())


def test_driver_layout_2d_same_roots_and_nedge_as_1d(tmp_path):
    res2, r2 = _cli(tmp_path, 4, "2d")
    assert res2.returncode == 0, res2.stderr
    res1, r1 = _cli(tmp_path, 2, "1d")
    assert res1.returncode == 0, res1.stderr
    assert r2["layout"] == "2d" and r2["grid"] == [2, 2] and r1["layout"] == "1d"
    assert r2["status"] == "valid" and r2["audit"]["ok"]
    assert r2["roots"] == r1["roots"] and r2["bfs"]["nedge"] == r1["bfs"]["nedge"]
    assert r2["audit"]["entries"] == r1["audit"]["entries"]


@pytest.mark.parametrize("hook", ["1:corrupt-bfs", "2:corrupt-graph-move"])
def test_driver_layout_2d_failures_void_the_run(tmp_path, hook):
    res, r = _cli(tmp_path, 3, "2d", env={"GRAPH500_INJECT_FAILURE": hook})
    assert res.returncode == 1, res.stderr
    assert res.stdout.strip() == "No results printed for invalid run."
    assert r["status"] == "invalid" and r["grid"] == [1, 3]
    assert r["failure"]["kernel"] == ("bfs" if "bfs" in hook else "audit")


def test_grid_shape():
    from graph500.kernels.grid import grid_shape
    assert [grid_shape(p) for p in (1, 2, 3, 4, 6, 7, 8, 9, 12, 16)] == [
        (1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (1, 7), (2, 4), (3, 3), (3, 4), (4, 4)]


if __name__ == "__main__":
    _worker(int(sys.argv[1]), sys.argv[2],
            parallel_min=int(sys.argv[3]) if len(sys.argv) > 3 else None)
