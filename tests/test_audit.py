"""Kernel 1 audit (kernels/audit.py): the CSR must hold exactly the generated tuples.

In-process checks of each rule, MPI runs of Kernel 1 + audit (int64 ids, many exchange
rounds, ranks without vertices), and the command line's fault hooks at 1, 2 and 3 ranks."""
import copy
import json

import numpy as np
import pytest
from mpi4py import MPI

from graph500.generator import generate_edges
from graph500.kernels.audit import audit_graph, corrupt_graph, local_sums
from graph500.kernels.construct import construct_graph
from mpi_util import run_mpi, stderr_lines

SCALE, EF = 8, 16
M = EF << SCALE
SELF = MPI.COMM_SELF


def built(dtype=np.int32, weights=False, chunk=300):
    src, dst, w = generate_edges(SCALE, EF, 2, 3, 0, M, weights=weights)
    src, dst = src.astype(dtype), dst.astype(dtype)
    return construct_graph(SELF, SCALE, src, dst, w, chunk=chunk), src, dst, w


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("weights", [False, True])
def test_correct_graph_is_accepted_with_exact_counts(dtype, weights):
    g, src, dst, w = built(dtype, weights)
    v = audit_graph(SELF, g, src, dst, w, M)
    loops = int(np.count_nonzero(src == dst))
    assert v["ok"] and v["check"] is None, v
    assert v["entries"] == len(g.col) == 2 * (M - loops)
    assert v["self_loops"] == loops > 0


@pytest.mark.parametrize("how,check", [("drop", "entries"), ("dup", "entries"),
                                       ("move", "hash"), ("weight", "hash")])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_each_fault_hook_is_caught(how, check, dtype):
    g, src, dst, w = built(dtype, weights=True)
    corrupt_graph(g, how)
    v = audit_graph(SELF, g, src, dst, w, M)
    assert not v["ok"] and v["check"] == check, v
    assert v["message"]


def test_a_swapped_pair_of_weights_is_caught():
    """Same entries, same weights as a multiset, but two weights moved between entries: what
    a row sort that moved ids and weights apart would do. Only the hash can see it."""
    g, src, dst, w = built(weights=True)
    row = int(np.flatnonzero(np.diff(g.rowptr) >= 2)[0])
    a = int(g.rowptr[row])
    g.col[a], g.col[a + 1] = g.col[a + 1], g.col[a]     # ids swap, weights stay
    assert g.col[a] != g.col[a + 1]
    v = audit_graph(SELF, g, src, dst, w, M)
    assert v["check"] == "hash", v


def test_self_loop_entry_out_of_range_and_bad_rows_are_caught():
    g, src, dst, w = built()
    row = int(np.flatnonzero(np.diff(g.rowptr))[3])
    k = int(g.rowptr[row])
    h = copy.deepcopy(g)
    h.col[k] = row                                       # a row pointing at its own vertex
    assert audit_graph(SELF, h, src, dst, w, M)["check"] == "self-loops"
    h = copy.deepcopy(g)
    h.col[k] = 1 << SCALE                                # vertex N does not exist
    assert audit_graph(SELF, h, src, dst, w, M)["check"] == "range"
    h = copy.deepcopy(g)
    h.rowptr[3], h.rowptr[4] = h.rowptr[4], h.rowptr[3]  # offsets that go back
    if h.rowptr[3] == h.rowptr[4]:
        h.rowptr[4] -= 1
    assert audit_graph(SELF, h, src, dst, w, M)["check"] == "rows"


def test_lost_generated_tuple_is_caught():
    g, src, dst, w = built()
    v = audit_graph(SELF, g, src[1:], dst[1:], w, M)
    assert v["check"] == "tuples", v


def test_weighted_graph_from_unweighted_tuples_is_caught():
    g, src, dst, w = built(weights=True)
    assert audit_graph(SELF, g, src, dst, None, M)["check"] == "rows"


def test_sums_do_not_depend_on_thread_count():
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread only")
    g, src, dst, w = built(weights=True)
    src, dst, w = (np.tile(a, 40) for a in (src, dst, w))   # enough work for many chunks
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = local_sums(g, src, dst, w)
        numba.set_num_threads(2)
        two = local_sums(g, src, dst, w)
    finally:
        numba.set_num_threads(before)
    assert (one == two).all()


# --- Kernel 1 + audit under MPI ----------------------------------------------------------

@pytest.mark.parametrize("nranks,args", [
    (2, ["10", "16", "97", "int64", "sssp"]),   # int64 ids, ~85 exchange rounds, weights
    (3, ["9", "16", "61", "int32", "bfs"]),     # many rounds, BFS-only
    (3, ["6", "16", "40", "int64", "sssp"]),    # N = 64: ranks 1 and 2 own no vertex
], ids=["2ranks-int64-rounds", "3ranks-int32-rounds", "3ranks-empty-ranks"])
def test_audit_exact_under_mpi(nranks, args):
    res = run_mpi(nranks, ["tests/mpi_audit_check.py"] + args, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("OK"), res.stdout + res.stderr[-3000:]
    if args[0] == "6":
        assert "empty_ranks=2" in res.stdout


# --- the command line ---------------------------------------------------------------------

@pytest.mark.parametrize("nranks", [1, 2, 3])
@pytest.mark.parametrize("how", ["drop", "dup", "move", "weight"])
def test_fault_hook_ends_run_invalid(how, nranks):
    victim = nranks - 1
    kernels = "sssp" if how == "weight" else "bfs"
    res = run_mpi(nranks, ["-m", "graph500", "-s", "8", "--roots", "2", "--kernels", kernels,
                           "--energy", "off", "--quiet"],
                  env={"GRAPH500_INJECT_FAILURE": "%d:corrupt-graph-%s" % (victim, how)},
                  timeout=300)
    assert res.returncode == 1, res.stderr[-3000:]
    assert res.stdout.strip() == "No results printed for invalid run."
    lines = stderr_lines(res.stderr)
    assert len(lines) == 1 and "Kernel 1 audit" in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_correct_run_reports_the_audit(tmp_path):
    out = tmp_path / "r.json"
    res = run_mpi(2, ["-m", "graph500", "-s", "8", "--roots", "2", "--kernels", "bfs,sssp",
                      "--energy", "off", "--json", str(out)], timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Kernel 1 audit:" in res.stderr
    a = json.loads(out.read_text())["audit"]
    assert a["ok"] is True and a["time"] >= 0
    src, dst, _ = generate_edges(8, 16, 2, 3, 0, 16 << 8)
    loops = int(np.count_nonzero(src == dst))
    assert a["self_loops"] == loops and a["entries"] == 2 * ((16 << 8) - loops)
