"""Kernel 3 (delta-stepping SSSP) and its validator.

In-process tests run on one rank (MPI.COMM_WORLD of a plain `python -m pytest` is a
singleton); tests/mpi_sssp_check.py repeats the essentials under mpiexec with 1-4 ranks and
the last test compares those runs bit for bit.
"""
import json

import numpy as np
import pytest
from mpi4py import MPI

import mpi_sssp_common as common
from graph500.validate_sssp import validate_sssp
from graph500.kernels.graph import DistGraph
from graph500.kernels.partition import Partition
from graph500.kernels.sssp import DEFAULT_DELTA, SSSPWorkspace, sssp
from mpi_util import run_mpi

COMM = MPI.COMM_WORLD


def roots_of(src, dst, k, seed=0):
    keep = src != dst
    cand = np.unique(np.concatenate([src[keep], dst[keep]]))
    return [int(r) for r in np.random.default_rng(seed).choice(cand, k, replace=False)]


@pytest.fixture(scope="module")
def random_case():
    scale = 10
    src, dst, w = common.random_edges(scale, 8 << scale, 11)
    g = common.build_graph(COMM, scale, src, dst, w)
    return scale, src, dst, w, g, SSSPWorkspace(g, COMM)


@pytest.fixture(scope="module")
def solved(random_case):
    """A correct result to mutate: (graph, root, dist, parent, nedge)."""
    scale, src, dst, w, g, ws = random_case
    root = roots_of(src, dst, 1, seed=5)[0]
    dist, parent = sssp(ws, root, DEFAULT_DELTA)
    # The workspace's arrays: copies, since later tests search again with the same workspace.
    return g, root, dist.copy(), parent.copy(), common.tuples_reached(src, dst, dist)


def check_against_dijkstra(scale, src, dst, w, g, ws, roots, delta):
    ref = common.reference_distances(scale, src, dst, w, roots)
    for root, expect in zip(roots, ref):
        dist, parent = sssp(ws, root, delta)
        assert dist.dtype == np.float32 and parent.dtype == np.int64
        reached = np.isfinite(expect)
        np.testing.assert_array_equal(np.isinf(dist), ~reached)
        np.testing.assert_allclose(dist[reached], expect[reached], rtol=1e-5, atol=1e-6)
        assert parent[root] == root and dist[root] == 0
        assert np.all(parent[~reached] == -1)
        nedge = common.tuples_reached(src, dst, dist)
        ok, msg, counted = validate_sssp(COMM, g, root, dist, parent, nedge)
        assert ok, msg
        assert counted == nedge


@pytest.mark.parametrize("delta", [0.01, 0.05, DEFAULT_DELTA, 0.4, 3.0])
def test_matches_dijkstra(random_case, delta):
    scale, src, dst, w, g, ws = random_case
    check_against_dijkstra(scale, src, dst, w, g, ws, roots_of(src, dst, 4), delta)


def test_many_slots_stay_exact(random_case):
    """A delta that needs many bucket slots (hundreds, where the default has 53) and the
    default again on the same workspace, which reallocates its buckets: Dijkstra-exact
    searches at both."""
    scale, src, dst, w, g, ws = random_case
    roots = roots_of(src, dst, 2, seed=3)
    check_against_dijkstra(scale, src, dst, w, g, ws, roots, 0.001)
    assert ws.nslots > 127 and ws.bits.shape[0] == ws.nslots
    check_against_dijkstra(scale, src, dst, w, g, ws, roots, DEFAULT_DELTA)
    assert ws.nslots < 127 and ws.count.shape == (ws.nslots,)


def test_matches_dijkstra_kronecker():
    scale = 11
    src, dst, w = common.benchmark_edges(scale)
    g = common.build_graph(COMM, scale, src, dst, w)
    ws = SSSPWorkspace(g, COMM)
    check_against_dijkstra(scale, src, dst, w, g, ws, roots_of(src, dst, 3), DEFAULT_DELTA)


def test_pull_and_push_agree(random_case):
    """Heavy phases pulled (the default here) or always pushed give the same distances."""
    scale, src, dst, w, g, ws = random_case
    push_only = SSSPWorkspace(g, COMM, pull_max_vertices=0)
    for root in roots_of(src, dst, 3, seed=2):
        d1, _ = sssp(ws, root, 0.05)
        d2, p2 = sssp(push_only, root, 0.05)
        np.testing.assert_array_equal(d1, d2)
        ok, msg, _ = validate_sssp(COMM, g, root, d2, p2, common.tuples_reached(src, dst, d2))
        assert ok, msg


def test_kernel1_sorts_rows_and_workspace_uses_them_in_place(random_case):
    """Kernel 1 hands over rows in weight order, used in place; rows out of order (a graph
    built elsewhere) get a sorted copy, and both give the same distances."""
    from graph500.kernels.sssp import _rows_sorted
    scale, src, dst, w, g, ws = random_case
    assert _rows_sorted(g.rowptr, g.weight)
    assert ws.col is g.col and ws.weight is g.weight
    col, weight = g.col.copy(), g.weight.copy()
    for i in range(len(g.rowptr) - 1):           # each row in decreasing weight
        a, b = g.rowptr[i], g.rowptr[i + 1]
        col[a:b], weight[a:b] = col[a:b][::-1].copy(), weight[a:b][::-1].copy()
    shuffled = DistGraph(g.part, g.rowptr, col, weight)
    assert not _rows_sorted(shuffled.rowptr, shuffled.weight)
    ws2 = SSSPWorkspace(shuffled, COMM)
    assert ws2.col is not col and 0 < ws.nbytes() < ws2.nbytes()
    for root in roots_of(src, dst, 2, seed=4):
        np.testing.assert_array_equal(sssp(ws, root, 0.1)[0],
                                      sssp(ws2, root, 0.1)[0])


def test_small_record_capacity(random_case):
    """A record queue smaller than a frontier's edges: the same distances, and parents that
    validate. (One rank queues no records; tests/mpi_sssp_check.py runs a small queue on 2-4
    ranks, where it stops light passes midway until an exchange.)"""
    scale, src, dst, w, g, ws = random_case
    small = SSSPWorkspace(g, COMM, capacity=1, ghost_slots=16)
    for root in roots_of(src, dst, 2, seed=3):
        d1 = sssp(ws, root, 0.1)[0].copy()
        d2, p2 = sssp(small, root, 0.1)
        np.testing.assert_array_equal(d1, d2)
        ok, msg, _ = validate_sssp(COMM, g, root, d2, p2, common.tuples_reached(src, dst, d2))
        assert ok, msg


def test_isolated_root_and_weight_one():
    """A root without edges reaches only itself; weights of exactly 1.0 (the generator can
    round to it) and duplicate pairs with different weights are handled."""
    scale = 4
    src = np.array([0, 1, 1, 2, 3, 3], dtype=np.int32)
    dst = np.array([1, 2, 2, 3, 3, 0], dtype=np.int32)
    w = np.array([1.0, 0.5, 0.25, 1.0, 0.125, 0.75], dtype=np.float32)
    g = common.build_graph(COMM, scale, src, dst, w)
    ws = SSSPWorkspace(g, COMM)
    dist, parent = sssp(ws, 9, 0.1)
    assert parent[9] == 9 and dist[9] == 0
    assert np.count_nonzero(np.isfinite(dist)) == 1
    dist, parent = sssp(ws, 0, 0.1)
    np.testing.assert_array_equal(dist[:4], np.float32([0, 1.0, 1.25, 0.75]))
    np.testing.assert_array_equal(parent[:4], [0, 0, 1, 0])
    ok, msg, counted = validate_sssp(COMM, g, 0, dist, parent, 5)
    assert ok, msg
    assert counted == 5  # the self-loop (3, 3) is not counted


def test_validator_windows(solved):
    g, root, dist, parent, nedge = solved
    for window in (1, 64, 100, 1 << 24):
        assert validate_sssp(COMM, g, root, dist, parent, nedge, window=window) == \
            (True, None, nedge)


# ---------------------------------------------------------------- validator mutations

def reached_vertex(g, root, dist, k=0):
    """The k-th reached non-root vertex (global id) farthest from the root."""
    order = np.argsort(np.where(np.isfinite(dist), dist, -1.0))[::-1]
    order = [int(v) for v in order if np.isfinite(dist[v]) and v != root]
    return order[k]


def rejected(g, root, dist, parent, nedge, expect):
    ok, msg, _ = validate_sssp(COMM, g, root, dist, parent, nedge)
    assert not ok
    assert msg.startswith("SSSP root %d: " % root)
    assert expect in msg, msg
    return msg


def test_correct_result_accepted(solved):
    g, root, dist, parent, nedge = solved
    assert validate_sssp(COMM, g, root, dist, parent, nedge) == (True, None, nedge)


def test_distance_raised(solved):
    g, root, dist, parent, nedge = solved
    d = dist.copy()
    v = reached_vertex(g, root, dist, 3)
    d[v] = np.float32(d[v] + 0.01)
    rejected(g, root, d, parent, nedge, "")


def test_distance_lowered(solved):
    g, root, dist, parent, nedge = solved
    d = dist.copy()
    v = reached_vertex(g, root, dist)
    d[v] = np.nextafter(d[v], np.float32(0))  # the smallest possible change
    rejected(g, root, d, parent, nedge, "vertex %d: parent %d is not joined to it by an edge "
             "giving its distance exactly" % (v, parent[v]))


def test_parent_edge_inexact(solved):
    """A parent that is a neighbour, but not one whose edge gives the distance exactly."""
    g, root, dist, parent, nedge = solved
    for v in range(g.nlocal):
        if v == root or not np.isfinite(dist[v]):
            continue
        row = g.col[g.rowptr[v]:g.rowptr[v + 1]]
        wrow = g.weight[g.rowptr[v]:g.rowptr[v + 1]]
        bad = [int(u) for u in row if not np.any((row == u) & (dist[u] + wrow == dist[v]))]
        if bad:
            break
    p = parent.copy()
    p[v] = bad[0]
    rejected(g, root, dist, p, nedge, "vertex %d: parent %d is not joined to it by an edge "
             "giving its distance exactly" % (v, bad[0]))


def test_parent_not_a_neighbour(solved):
    g, root, dist, parent, nedge = solved
    v = reached_vertex(g, root, dist)
    row = set(g.col[g.rowptr[v]:g.rowptr[v + 1]].tolist())
    other = next(u for u in range(g.part.nglobal)
                 if u not in row and u != v and np.isfinite(dist[u]))
    p = parent.copy()
    p[v] = other
    rejected(g, root, dist, p, nedge, "vertex %d: parent %d is not joined" % (v, other))


def test_reached_next_to_unreached(solved):
    g, root, dist, parent, nedge = solved
    d, p = dist.copy(), parent.copy()
    v = reached_vertex(g, root, dist)
    d[v], p[v] = np.inf, -1
    rejected(g, root, d, p, nedge, "joins an unreached vertex %d to a reached one" % v)


def test_unset_distance_with_parent(solved):
    g, root, dist, parent, nedge = solved
    d = dist.copy()
    v = reached_vertex(g, root, dist)
    d[v] = np.inf
    rejected(g, root, d, parent, nedge, "vertex %d: parent %d with distance inf" % (v, parent[v]))


@pytest.mark.parametrize("what", ["parent", "dist"])
def test_wrong_root_entry(solved, what):
    g, root, dist, parent, nedge = solved
    d, p = dist.copy(), parent.copy()
    if what == "parent":
        p[root] = reached_vertex(g, root, dist)
    else:
        d[root] = np.float32(0.5)
    rejected(g, root, d, p, nedge, "root %d has parent" % root)


@pytest.mark.parametrize("bad", [-2, 1 << 10, 1 << 40])
def test_parent_out_of_range(solved, bad):
    g, root, dist, parent, nedge = solved
    p = parent.copy()
    v = reached_vertex(g, root, dist, 1)
    p[v] = bad
    rejected(g, root, dist, p, nedge, "vertex %d: parent %d is not -1 or a vertex id" % (v, bad))


def test_nan_distance(solved):
    g, root, dist, parent, nedge = solved
    d = dist.copy()
    d[reached_vertex(g, root, dist)] = np.nan
    rejected(g, root, d, parent, nedge, "")


@pytest.mark.parametrize("delta_edges", [-1, 1])
def test_wrong_nedge(solved, delta_edges):
    g, root, dist, parent, nedge = solved
    rejected(g, root, dist, parent, nedge + delta_edges,
             "edge count %d reported by the kernel, %d counted" % (nedge + delta_edges, nedge))


def test_first_failure_reported(solved):
    """Several faults: the lowest-numbered check wins, then the lowest vertex."""
    g, root, dist, parent, nedge = solved
    p = parent.copy()
    a, b = sorted([reached_vertex(g, root, dist, 0), reached_vertex(g, root, dist, 1)])
    p[b] = -5
    p[a] = -7
    d = dist.copy()
    d[reached_vertex(g, root, dist, 2)] += np.float32(0.25)
    rejected(g, root, d, p, nedge + 1, "vertex %d: parent -7 is not -1" % a)


@pytest.fixture(scope="module", params=[10, 16])
def kronecker_solved(request):
    """The benchmark graph at SCALE 10 and 16 solved from its first root candidate."""
    scale = request.param
    src, dst, w = common.benchmark_edges(scale)
    g = common.build_graph(COMM, scale, src, dst, w)
    root = roots_of(src, dst, 1, seed=1)[0]
    dist, parent = sssp(SSSPWorkspace(g, COMM), root)
    return scale, src, dst, g, root, dist, parent, common.tuples_reached(src, dst, dist)


@pytest.mark.parametrize("value", list(common.FAKE_DISTANCES))
def test_separate_component_in_a_cycle(kronecker_solved, value):
    """The reference's checks accept a component that is not the root's, marked reached at
    a distance where d + w rounds back to d (or -inf), with parents in a 2-cycle, and the
    edge count grown by its tuples. Rejected: the chain never reaches the root, or the
    distance is not finite."""
    scale, src, dst, g, root, dist, parent, nedge = kronecker_solved
    verts, parents, inside = common.fake_component(scale, src, dst, root)
    assert inside > 0 and not np.isfinite(dist[verts]).any()
    d, p = dist.copy(), parent.copy()
    common.plant_component(g.part, d, p, verts, parents, common.FAKE_DISTANCES[value])
    if value == "-inf":
        expect = "vertex %d: distance -inf is not a finite non-negative number" % verts.min()
    else:
        expect = "parent chain never reaches the root"
    msg = rejected(g, root, d, p, nedge + inside, expect)
    # The lowest vertex on the cycle is named (the component is a 2-cycle plus a tree).
    if value != "-inf":
        assert "vertex %d:" % min(verts[0], verts[1]) in msg or len(verts) > 2, msg


def zero_weight_graph():
    """A path 0-1-2-...-40 of weight-0 edges hanging off vertex 0 (every vertex a tie: its
    parent is at the same distance), plus an edge of weight 0.5 to 41 and 41-42 of
    weight 0: a correct result has long tie chains, which the chain check must accept."""
    scale = 6
    path = np.arange(40)
    src = np.concatenate([path, [5, 41]]).astype(np.int32)
    dst = np.concatenate([path + 1, [41, 42]]).astype(np.int32)
    w = np.concatenate([np.zeros(40), [0.5, 0.0]]).astype(np.float32)
    return scale, src, dst, w


def test_zero_weight_ties_accepted_and_tie_cycle_rejected():
    scale, src, dst, w = zero_weight_graph()
    g = common.build_graph(COMM, scale, src, dst, w)
    dist, parent = sssp(SSSPWorkspace(g, COMM), 0)
    assert np.all(dist[:41] == 0) and dist[41] == 0.5 and dist[42] == 0.5
    nedge = common.tuples_reached(src, dst, dist)
    assert validate_sssp(COMM, g, 0, dist, parent, nedge) == (True, None, nedge)
    # Within the root's component: 20 and 21 (joined by a weight-0 edge, both at distance 0)
    # made each other's parent. Every check of the reference passes; the chain does not.
    p = parent.copy()
    p[20], p[21] = 21, 20
    rejected(g, 0, dist, p, nedge, "vertex 20: parent 21, but its parent chain never")
    p = parent.copy()
    p[41], p[42] = 42, 41
    rejected(g, 0, dist, p, nedge, "vertex 41: parent 42, but its parent chain never")


# ---------------------------------------------------------------- empty blocks

def test_rank_without_vertices():
    """A rank that owns no vertex (here rank 1 of 2 on a 64-vertex graph: one word) has
    empty arrays; the local steps must accept them."""
    part = Partition(6, 2, 1)
    assert part.nlocal == 0
    g = DistGraph(part, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
                  np.zeros(0, dtype=np.float32))
    ws = SSSPWorkspace(g, COMM)
    assert ws.nwords == 0 and len(ws.key) == 0 and ws.bits.shape[1] == 0


# ---------------------------------------------------------------- under mpiexec

@pytest.fixture(scope="module")
def mpi_runs(tmp_path_factory):
    out = {}
    for n in (1, 2, 3, 4):
        path = tmp_path_factory.mktemp("sssp") / ("p%d.json" % n)
        res = run_mpi(n, ["tests/mpi_sssp_check.py", str(path)], timeout=240)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        with open(path) as f:
            out[n] = json.load(f)
    return out


def test_mpi_correct_for_each_rank_count(mpi_runs):
    for n, report in mpi_runs.items():
        assert report["nranks"] == n
        for name, entry in report["graphs"].items():
            for key, rec in entry.items():
                if key == "mutations":
                    assert all(not ok for ok, _ in rec.values()), (n, name, rec)
                    # The Kronecker graphs have components besides the root's.
                    assert not name.startswith("kron") or len(rec) == 5 + 4, (n, name)
                    for what, (_, msg) in rec.items():
                        if what.startswith("cycle"):
                            assert ("not a finite" if what.endswith("-inf") else
                                    "never reaches the root") in msg, (n, name, what, msg)
                    continue
                assert rec["ok"], (n, name, key, rec["msg"])
                assert rec["reach_ok"], (n, name, key)
                assert rec["max_rel_err"] < 1e-5, (n, name, key)


def test_mpi_identical_across_rank_counts(mpi_runs):
    """Distances bit for bit and parents (hashes of the gathered arrays: the parent rule
    does not depend on the order, see kernels/sssp.py), nedge, and the validator's messages
    on mutated results are the same for P = 1..4."""
    base = mpi_runs[1]["graphs"]
    for n in (2, 3, 4):
        other = mpi_runs[n]["graphs"]
        assert other.keys() == base.keys()
        for name in base:
            for key, rec in base[name].items():
                if key == "mutations":
                    continue
                got = other[name][key]
                assert ((got["sha"], got["parent_sha"], got["nedge"])
                        == (rec["sha"], rec["parent_sha"], rec["nedge"])), (n, name, key)
            # The mutated vertex is the same for every P; so must the verdict be.
            assert other[name]["mutations"] == base[name]["mutations"], (n, name)


def test_unusable_output_rejected(solved):
    """Wrong length or a float64 distance array: every rank gets the same rejection
    instead of some ranks raising while the others wait in a collective."""
    g, root, dist, parent, nedge = solved
    for d, p in ((dist[:-1], parent), (dist.astype(np.float64), parent), (dist, parent[:-1])):
        ok, msg, counted = validate_sssp(COMM, g, root, d, p, nedge)
        assert not ok and "not a float32 distance" in msg and counted == 0


def test_root_out_of_range(solved):
    g, root, dist, parent, nedge = solved
    rejected(g, g.part.nglobal, dist, parent, nedge, "root %d has parent -1" % g.part.nglobal)


def test_workspace_compiles_the_exchange_path_even_on_one_rank(random_case):
    """A one-rank warm-up never exchanges records; the workspace must still compile
    _pack/_apply, or a cold Numba cache puts their compile time in a timed search."""
    from graph500.kernels import sssp as K
    scale, src, dst, w, g, ws = random_case
    assert g.part.nranks == 1
    assert K._pack.signatures and K._apply.signatures


# ---------------------------------------------------------------- thread counts

@pytest.fixture(scope="module")
def thread_runs(tmp_path_factory):
    out = {}
    for n in (1, 2, 3):
        path = tmp_path_factory.mktemp("sssp_threads") / ("p%d.json" % n)
        res = run_mpi(n, ["tests/mpi_sssp_threads.py", str(path)], timeout=600,
                      env={"NUMBA_NUM_THREADS": "3"})
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        with open(path) as f:
            out[n] = json.load(f)["runs"]
    return out


def test_threads_give_identical_results(thread_runs):
    """1 thread (serial steps), 2 and 3 threads (every pass chunked) give bit-identical
    distances and identical parents at 1, 2 and 3 ranks, the same for every rank count."""
    base = thread_runs[1]
    for n, runs in thread_runs.items():
        assert runs.keys() == base.keys() and len(runs) == 54
        for key, by_threads in runs.items():
            assert sorted(by_threads) == ["1", "2", "3"], (n, key)
            assert len({tuple(v) for v in by_threads.values()}) == 1, (n, key, by_threads)
            # distances and parents for any P, and any workspace setting (a small queue or
            # pushing only orders the work): the parent rule does not depend on the order
            assert by_threads["1"] == base[key]["1"], (n, key)
            name, _, rest = key.split("/", 2)
            assert by_threads["1"] == runs["%s/chunked/%s" % (name, rest)]["1"], (n, key)


def test_threaded_steps_match_serial_on_one_rank(random_case):
    """In-process: a workspace that chunks everything (par_min=1) and one that never does
    give the same distances and parents, with the threads this process has."""
    import numba
    scale, src, dst, w, g, ws = random_case
    chunked = SSSPWorkspace(g, COMM, par_min=1)
    serial = SSSPWorkspace(g, COMM, par_min=1 << 62)
    for root in roots_of(src, dst, 3, seed=9):
        for delta in (DEFAULT_DELTA, 0.1):
            d1, p1 = sssp(serial, root, delta)
            d1, p1 = d1.copy(), p1.copy()
            d2, p2 = sssp(chunked, root, delta)
            np.testing.assert_array_equal(d1, d2)
            np.testing.assert_array_equal(p1, p2)
    assert numba.get_num_threads() >= 1
