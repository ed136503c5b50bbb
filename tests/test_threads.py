"""Threads inside a rank: results identical for any thread count, and the default share of
an affinity mask among the ranks that use it.

The invariance tests run this file as a script under real `mpiexec -n 1/2/3` with
NUMBA_NUM_THREADS = 1, 2, 3: Kernel 1's CSR (with and without weights), the BFS trees (the
direction-optimising search and a forced pure top-down one, each validated) and their edge
counts must hash the same for every ranks x threads pair.
"""
import os
import hashlib
import json
import sys

import pytest

from graph500.threads import choose_threads, default_threads, node_mismatch

SCALE = 10
ROOTS = (1, 5, 77, 300)


# --- the default thread count for mocked masks ----------------------------------------------

def shares(masks):
    return [default_threads(masks, i) for i in range(len(masks))]


@pytest.mark.parametrize("cores,k", [(8, 1), (8, 2), (8, 3), (64, 8), (7, 7), (2, 3), (16, 5)])
def test_one_mask_shared_by_k_ranks(cores, k):
    got = shares([list(range(cores))] * k)
    if k <= cores:
        assert sum(got) == cores                       # every core used, none twice
        assert max(got) - min(got) <= 1                # about c/k each
        assert got == sorted(got, reverse=True)        # the remainder to the first ranks
    else:
        assert got == [1] * k                          # never zero threads


def test_disjoint_masks_get_their_own_size():
    assert shares([[0, 1, 2, 3], [4, 5], [6, 7, 8]]) == [4, 2, 3]


def test_numa_binding_two_ranks_per_domain():
    # Open MPI's default above 2 ranks: each rank bound to its NUMA domain's 32 cores.
    d0, d1 = list(range(32)), list(range(32, 64))
    assert shares([d0, d0, d1, d1, d0, d1, d0, d1]) == [8] * 8


def test_overlapping_masks_share_their_union():
    # ranks 0-1 overlap on core 2; rank 2 is alone
    got = shares([[0, 1, 2], [2, 3, 4, 5], [6, 7]])
    assert got == [3, 3, 2]
    # a small mask is never given more threads than it holds
    assert shares([[0], list(range(8))]) == [1, 4]


def test_unknown_mask_means_the_whole_node(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert shares([None, None]) == [3, 3]


def test_node_mismatch():
    assert node_mismatch([[0, 1], [0, 1]], [1, 1]) is None
    assert node_mismatch([[0, 1], [0, 1]], [2, 2]) == (4, 2)
    assert node_mismatch([[0], [1], [2]], [1, 1, 1]) is None


class FakeLocal:
    """A node communicator of k ranks, seen from rank `me`, whose masks are mocked."""

    def __init__(self, masks, me):
        self.masks, self.me = masks, me

    def Get_rank(self):
        return self.me

    def allgather(self, value):
        if isinstance(value, int):         # the thread counts
            return [default_threads(self.masks, i) for i in range(len(self.masks))]
        return self.masks                  # the affinity masks


def test_choose_threads_default_explicit_and_warning():
    masks = [list(range(4))] * 2
    assert choose_threads(None, FakeLocal(masks, 1), 64) == (2, None)
    assert choose_threads(None, FakeLocal(masks, 0), 1)[0] == 1      # Numba's pool caps it
    assert choose_threads(3, FakeLocal(masks, 1), 64)[0] == 3         # explicit kept
    over = FakeLocal([list(range(2))] * 3, 0)                         # 3 ranks, 2 cores
    threads, warning = choose_threads(None, over, 64)
    assert threads == 1
    assert warning.startswith("graph500: warning:") and "3 threads" in warning
    assert "\n" not in warning
    assert choose_threads(None, FakeLocal([list(range(2))] * 3, 1), 64)[1] is None  # once a node


def test_idle_threads_sleep_on_an_oversubscribed_node(monkeypatch):
    from graph500.threads import WAIT_POLICY_ENV, idle_policy
    env = {}
    assert idle_policy(False, env) is None and env == {}              # the library's default
    assert idle_policy(True, env) == "PASSIVE" and env == {WAIT_POLICY_ENV: "PASSIVE"}
    env = {WAIT_POLICY_ENV: "ACTIVE"}                                  # the user's choice stays
    assert idle_policy(True, env) == "ACTIVE" and env == {WAIT_POLICY_ENV: "ACTIVE"}
    # choose_threads applies it to the process's environment: 3 ranks on 2 cores
    monkeypatch.delenv(WAIT_POLICY_ENV, raising=False)
    choose_threads(None, FakeLocal([list(range(4))] * 2, 0), 64)      # 2 x 2 on 4 cores
    assert WAIT_POLICY_ENV not in os.environ
    choose_threads(None, FakeLocal([list(range(2))] * 3, 1), 64)
    assert os.environ[WAIT_POLICY_ENV] == "PASSIVE"


def test_placement_record():
    from graph500.threads import rank_placement
    r = rank_placement(3)
    assert set(r) == {"host", "affinity", "threads"} and r["threads"] == 3
    assert r["affinity"] is None or all(isinstance(c, int) for c in r["affinity"])


# --- invariance under real mpiexec ----------------------------------------------------------

def _digest(*arrays):
    h = hashlib.sha1()
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest()


def main():
    """Under mpiexec: print one JSON line of digests from rank 0."""
    import numba
    import numpy as np
    from mpi4py import MPI

    import graph500.kernels.bfs as kbfs
    from graph500.generator import generate_edges
    from graph500.validate import validate_bfs
    from graph500.kernels.construct import construct_graph
    from graph500.kernels.teps import edge_count

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    # Compile on rank 0 first: concurrent writers of one Numba cache entry race.
    for turn in (True, False):
        if (rank == 0) == turn:
            s, d, w = generate_edges(6, 16, 2, 3, 0, 16 << 6, weights=True)
            g = construct_graph(MPI.COMM_SELF, 6, s, d, w)
            ws = kbfs.BFSWorkspace(g, MPI.COMM_SELF)
            kbfs.bfs(ws, 1)
            validate_bfs(MPI.COMM_SELF, g, 1, ws.parent, edge_count(MPI.COMM_SELF, g, ws.parent))
        comm.Barrier()

    out = {"threads": numba.get_num_threads()}
    m = 16 << SCALE
    for weighted in (False, True):
        s, d, w = generate_edges(SCALE, 16, 2, 3, rank * m // size, (rank + 1) * m // size,
                                 weights=weighted)
        g = construct_graph(comm, SCALE, s, d, w)
        parts = comm.gather((np.diff(g.rowptr), g.col, g.weight), root=0)
        if rank == 0:
            deg, col, wt = (np.concatenate([p[i] for p in parts]) if parts[0][i] is not None
                            else np.zeros(0) for i in range(3))
            out["csr_w" if weighted else "csr"] = _digest(deg, col.astype(np.int64), wt)
    # BFS on the weighted graph (rows weight-sorted, the layout of a BFS+SSSP run) and on a
    # fresh unweighted one (rows in arrival order), direction-optimising and top-down only.
    trees, nedges = [], []
    s, d, _ = generate_edges(SCALE, 16, 2, 3, rank * m // size, (rank + 1) * m // size)
    graphs = (g, construct_graph(comm, SCALE, s, d))
    alpha, small = kbfs.ALPHA, kbfs.TD_PARALLEL_EDGES
    for gr in graphs:
        for a in (alpha, 1e-30):            # 1e-30: never switch to bottom-up
            kbfs.ALPHA = a
            # top-down only: every level through the parallel steps, however small
            kbfs.TD_PARALLEL_EDGES = small if a == alpha else 0
            ws = kbfs.BFSWorkspace(gr, comm)
            for root in ROOTS:
                ws.reset()
                parent = kbfs.bfs(ws, root)
                nedge = edge_count(comm, gr, parent)
                if size == 1 and out["threads"] == 1:
                    # The reference run validates every tree; the others must equal it.
                    fail, _ = validate_bfs(comm, gr, root, parent, nedge)
                    assert fail is None, fail.message()
                full = comm.gather(parent.copy(), root=0)
                if rank == 0:
                    trees.append(_digest(np.concatenate(full)))
                nedges.append(nedge)
    kbfs.ALPHA, kbfs.TD_PARALLEL_EDGES = alpha, small
    if rank == 0:
        out["trees"], out["nedge"] = trees, nedges
        print("RESULT " + json.dumps(out))


def _run(nranks, threads):
    from mpi_util import run_mpi
    res = run_mpi(nranks, [__file__], timeout=600, env={"NUMBA_NUM_THREADS": str(threads)})
    assert res.returncode == 0, res.stderr[-3000:]
    line = [l for l in res.stdout.splitlines() if l.startswith("RESULT ")]
    assert line, res.stdout + res.stderr[-3000:]
    return json.loads(line[0][len("RESULT "):])


@pytest.fixture(scope="module")
def reference():
    return _run(1, 1)


@pytest.mark.parametrize("nranks,threads", [(1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1),
                                            (3, 2), (3, 3)])
def test_same_results_for_any_ranks_and_threads(reference, nranks, threads):
    got = _run(nranks, threads)
    assert got["threads"] == threads
    assert got["csr"] == reference["csr"]
    assert got["csr_w"] == reference["csr_w"]
    assert got["nedge"] == reference["nedge"]
    assert got["trees"] == reference["trees"]      # the trees themselves, so depths too


def test_reference_run_is_sane(reference):
    assert reference["threads"] == 1
    assert len(reference["trees"]) == 4 * len(ROOTS)
    assert len(set(reference["trees"])) > 1        # different roots, different trees
    assert sum(n > 0 for n in reference["nedge"]) >= 8     # most roots reach edges


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    main()
