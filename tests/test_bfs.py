"""Kernel 2 and its validation: depths against scipy, the same roots and edge counts for every
rank count, and every corruption class of spec section 5 rejected."""
import json

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from graph500.generator import generate_edges
from graph500 import validate as V

import bfs_cases
from mpi_util import run_mpi

SCALE = 11


def scipy_depths(scale, root):
    src, dst, _ = generate_edges(scale, 16, 2, 3, 0, 16 << scale)
    n = 1 << scale
    keep = src != dst
    a = sp.coo_matrix((np.ones(keep.sum()), (src[keep], dst[keep])), shape=(n, n)).tocsr()
    d = shortest_path(a, method="D", directed=False, unweighted=True, indices=root)
    return np.where(np.isfinite(d), d, -1).astype(np.int64)


def check_report(rep, scale):
    for entry in rep["depths_ok"]:
        assert entry["valid"]
        if entry["parent"] is not None:
            parent = np.array(entry["parent"])
            ours = bfs_cases.global_depth(parent, entry["root"])
            assert np.array_equal(ours, scipy_depths(scale, entry["root"]))
    for name, r in rep["mutations"].items():
        assert r["got"] == r["expected"], name
        assert r["got_chunked"] == r["expected"], name


@pytest.fixture(scope="module")
def one_rank_report():
    from mpi4py import MPI
    return bfs_cases.run_cases(MPI.COMM_WORLD, SCALE)


def test_depths_match_scipy_and_validation_accepts(one_rank_report):
    check_report(one_rank_report, SCALE)
    assert one_rank_report["nedge"][0] == one_rank_report["depths_ok"][0]["counted"]


@pytest.mark.parametrize("name", ["cycle", "non-neighbour parent", "level gap of two",
                                  "unreached neighbour", "wrong root entry", "parent = N",
                                  "parent = -2", "wrong nedge", "correct result"])
def test_validation_mutation(one_rank_report, name):
    r = one_rank_report["mutations"][name]
    assert r["got"] == r["expected"]
    assert r["got_chunked"] == r["expected"]
    assert (r["got"] == 0) == (name == "correct result")


def test_same_roots_and_nedge_for_1_to_4_ranks(tmp_path, one_rank_report):
    reports = {1: one_rank_report}
    for p in (2, 3, 4):
        out = tmp_path / ("r%d.json" % p)
        res = run_mpi(p, ["tests/bfs_cases.py", str(SCALE), str(out)])
        assert res.returncode == 0, res.stderr[-2000:]
        reports[p] = json.loads(out.read_text())
        check_report(reports[p], SCALE)
    for p in (2, 3, 4):
        assert reports[p]["roots"] == reports[1]["roots"]
        assert reports[p]["nedge"] == reports[1]["nedge"]


def test_scale16_first_root_edge_count():
    # Spec check value: SCALE 16, first root 29348, m = 1048079.
    from mpi4py import MPI
    from graph500.kernels.bfs import BFSWorkspace, bfs
    from graph500.kernels.teps import edge_count
    g, roots = bfs_cases.build(MPI.COMM_WORLD, 16)
    assert roots[0] == 29348
    ws = BFSWorkspace(g, MPI.COMM_WORLD)
    ws.reset()
    parent = bfs(ws, roots[0])
    assert edge_count(MPI.COMM_WORLD, g, parent) == 1048079
    fail, counted = V.validate_bfs(MPI.COMM_WORLD, g, roots[0], parent, 1048079)
    assert fail is None and counted == 1048079


def test_validation_with_int64_ids(monkeypatch):
    # SCALE > 31 stores int64 ids (kernels/graph.py), which the row scan reads through a
    # uint64 view: the same graph with int64 ids must give every mutation the same verdict.
    from mpi4py import MPI
    build = bfs_cases.build

    def build_int64(comm, scale):
        g, roots = build(comm, scale)
        g.col = g.col.astype(np.int64)
        return g, roots

    monkeypatch.setattr(bfs_cases, "build", build_int64)
    rep = bfs_cases.run_cases(MPI.COMM_WORLD, SCALE, nroots=1)
    assert len(rep["mutations"]) >= 9                  # every planted mutation, and the correct tree
    check_report(rep, SCALE)


def test_top_down_parent_is_the_smallest_neighbour_one_level_up(monkeypatch):
    # The one-thread top-down step claims first come from a queue kept in increasing order;
    # that must be the smallest-parent rule of the threaded claim pass. With alpha = 1e-30
    # every level is top-down, so every parent is checked.
    from mpi4py import MPI
    import graph500.kernels.bfs as kbfs
    from graph500.kernels.construct import construct_graph
    monkeypatch.setattr(kbfs, "ALPHA", 1e-30)
    scale = 10
    src, dst, _ = generate_edges(scale, 16, 2, 3, 0, 16 << scale)
    g = construct_graph(MPI.COMM_SELF, scale, src, dst)
    ws = kbfs.BFSWorkspace(g, MPI.COMM_SELF)
    checked = 0
    for root in (1, 7, 100, 513):
        if g.rowptr[root + 1] == g.rowptr[root]:
            continue
        ws.reset()
        parent = kbfs.bfs(ws, root).copy()
        depth = scipy_depths(scale, root)
        for v in np.flatnonzero(depth > 1):
            nbr = g.col[g.rowptr[v]:g.rowptr[v + 1]]
            want = int(nbr[depth[nbr] == depth[v] - 1].min())
            assert parent[v] == want, (root, v)
            checked += 1
    assert checked > 100
