"""The traffic counter (kernels/traffic.py) and the JSON's `comm` objects: each call form's bytes
against hand-computed values on real `mpiexec -n 2/3/4` runs, sent = received summed over ranks
for every case and every phase of a benchmark run, and the counted communicator still a
communicator."""
import json

import numpy as np
import pytest
from mpi4py import MPI

from graph500.kernels import traffic as T

from mpi_util import run_mpi


# --- message specs, in process --------------------------------------------------------------

def test_simple_message_forms():
    a = np.zeros(10, np.int32)
    assert T.message_bytes(a) == 40
    assert T.message_bytes([a, MPI.INT32_T]) == 40
    assert T.message_bytes([a, MPI.INT16_T]) == 40           # count from the buffer's bytes
    assert T.message_bytes([a, 3, MPI.INT32_T]) == 12
    assert T.message_bytes([a, (3, 2), MPI.INT32_T]) == 12   # (count, displacement)
    assert T.message_bytes([a, 3, 2, MPI.DOUBLE]) == 24
    assert T.message_bytes([a, 4]) == 16                     # [buf, count]: the buffer's type
    assert T.message_bytes([a, [2, 6]]) == 8                 # [buf, [count, displ]]
    assert T.message_bytes([a, "i"]) == 40                   # a typecode
    assert T.message_bytes(a, blocks=5) == 8                 # one of 5 equal blocks
    assert T.message_bytes([a, (None, 4), MPI.INT32_T]) == 24   # displaced: 6 items left
    assert T.message_bytes(bytearray(7)) == 7
    assert T.message_bytes(None) == 0


def test_vector_message_forms():
    a = np.zeros(10, np.int64)
    c, d = np.array([1, 2, 3]), np.array([0, 1, 3])
    for spec in ([a, (c, d), MPI.INT64_T], [a, c, d, MPI.INT64_T], [a, c, MPI.INT64_T],
                 [a, (c, None)], [a, c]):
        assert list(T.vector_bytes(spec, 3)) == [8, 16, 24], spec
    assert list(T.vector_bytes([a, (c, d), MPI.INT32_T], 3)) == [4, 8, 12]
    assert list(T.vector_bytes([a, 2, MPI.INT64_T], 3)) == [16, 16, 16]   # one count for all
    assert list(T.vector_bytes(a, 3)) == [32, 24, 24]        # no counts: 10 items as 4+3+3
    assert list(T.vector_bytes([a, MPI.INT32_T], 4)) == [20, 20, 20, 20]


def test_volume_with_in_place_and_roots():
    """The volume rules for one rank of P, without MPI (the MPI runs below check them live)."""
    out = np.zeros(6, np.uint64)
    spec = [out, (np.array([1, 2, 3]), np.array([0, 1, 3])), MPI.UINT64_T]
    assert T._v_allgatherv((MPI.IN_PLACE, spec), {}, None, 1, 3) == (2 * 16, 8 + 24)
    assert T._v_reduction((MPI.IN_PLACE, np.zeros(3)), {}, None, 0, 4) == (24, 24)
    assert T._v_bcast((np.zeros(2),), {"root": 2}, None, 2, 4) == (48, 0)
    assert T._v_bcast((np.zeros(2),), {"root": 2}, None, 0, 4) == (0, 16)


# --- the counted communicator -----------------------------------------------------------------

def test_counted_is_a_communicator():
    w = T.Counted(MPI.COMM_WORLD)
    assert isinstance(w, MPI.Intracomm) and w.py2f() == MPI.COMM_WORLD.py2f()
    assert w == MPI.COMM_WORLD and w.Get_size() == MPI.COMM_WORLD.Get_size()
    assert T.Counted(w).counter is w.counter                 # wrapping again shares the counter
    for child in (w.Split(0, 0), w.Dup(), w.Split_type(MPI.COMM_TYPE_SHARED),
                  w.Create_cart([w.Get_size()]), w.Create_cart([w.Get_size()]).Sub([True])):
        assert child.counter is w.counter
        assert isinstance(child, MPI.Intracomm)
        child.Free()
    assert w.Split(MPI.UNDEFINED, 0) == MPI.COMM_NULL
    before = w.counter.snapshot()
    w.Barrier()
    assert w.allreduce(5) == 5 * w.Get_size()
    t = w.counter.snapshot() - before
    assert (t.collectives, t.p2p, t.sent, t.received) == (2, 0, 0, 0)   # one rank: no bytes
    assert t.by_call == {"Barrier": (1, 0, 0), "allreduce": (1, 0, 0)}


def test_ledger_means_per_phase():
    c = T.Counter()
    led = T.Ledger(c)
    for k in range(2):
        with led.count("bfs"):
            c.add("Alltoallv", True, 100 * (k + 1), 10)
            c.add("Send", False, 1, 0)
    with led.count("other"):
        pass
    m = led.mean("bfs")
    assert m == {"n": 2, "collectives": 1.0, "p2p": 1.0, "sent": 151.0, "received": 10.0,
                 "by_call": {"Alltoallv": [1.0, 150.0, 10.0], "Send": [1.0, 1.0, 0.0]}}
    assert led.mean("other")["by_call"] == {} and led.mean("never") is None


# --- every call form on real ranks ----------------------------------------------------------

def pk(obj):
    return len(MPI.pickle.dumps(obj))


def expected(case, r, p):
    """(sent, received) by hand for rank r of p, or None where the case did not run."""
    o = [s for s in range(p) if s != r]
    root1 = 1 % p
    table = {
        "alltoallv_pair": (8 * sum(1 + j + 2 * r for j in o), 8 * sum(1 + r + 2 * s for s in o)),
        "alltoallv_four": (8 * sum(1 + j + 2 * r for j in o), 8 * sum(1 + r + 2 * s for s in o)),
        "alltoallv_untyped": (4 * sum(1 + j + 2 * r for j in o),
                              4 * sum(1 + r + 2 * s for s in o)),
        "alltoall": (12 * (p - 1), 12 * (p - 1)),
        "allgatherv": (8 * (r + 1) * (p - 1), 8 * sum(s + 1 for s in o)),
        "allgatherv_in_place": (8 * (r + 1) * (p - 1), 8 * sum(s + 1 for s in o)),
        "allgather": (40 * (p - 1), 40 * (p - 1)),
        "allreduce": (56, 56),
        "allreduce_in_place": (24, 24),
        "reduce": (16, 16),
        "bcast": (12 * (p - 1), 0) if r == root1 else (0, 12),
        "gather": (0, 16 * (p - 1)) if r == 0 else (16, 0),
        "gatherv": (0, 4 * sum(s + 1 for s in o)) if r == 0 else (4 * (r + 1), 0),
        "scatter": (12 * (p - 1), 0) if r == 0 else (0, 12),
        "scatterv": (8 * sum(s + 1 for s in o), 0) if r == 0 else (0, 8 * (r + 1)),
        "reduce_scatter_block": (16 * (p - 1), 16 * (p - 1)),
        "barrier": (0, 0),
        "send_recv": (10 * (r + 1), 10 * ((r - 1) % p + 1)) if p % 2 == 0 else None,
        "sendrecv": (8 * (r + 2), 8 * ((r - 1) % p + 2)),
        "sendrecv_proc_null": (0, 0),
        "allreduce_obj": (pk(r * 1000), pk(r * 1000)),
        "bcast_obj": ((p - 1) * pk("x" * 100), 0) if r == 0 else (0, pk("x" * 100)),
        "gather_obj": (0, sum(pk(list(range(s))) for s in o)) if r == 0
        else (pk(list(range(r))), 0),
        "allgather_obj": ((p - 1) * pk({"rank": r}), sum(pk({"rank": s}) for s in o)),
        "split_allgather": (8 * (len(range(r % 2, p, 2)) - 1),) * 2,
    }
    return table[case]


P2P = {"send_recv": 2, "sendrecv": 1, "sendrecv_proc_null": 1, "send_recv_obj": 2}


@pytest.mark.parametrize("nranks", [2, 3, 4])
def test_every_call_form_on_real_ranks(nranks):
    res = run_mpi(nranks, ["tests/mpi_traffic_check.py"], timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["size"] == nranks and got["same_counter"] and got["is_comm"]
    ranks = got["ranks"]
    names = set(ranks[0])
    assert ("send_recv" in names) == (nranks % 2 == 0)
    for name in names:
        # summed over ranks, every byte sent is a byte received
        assert sum(x[name][0] for x in ranks) == sum(x[name][1] for x in ranks), name
        for r, x in enumerate(ranks):
            sent, received, coll, p2p = x[name]
            if name == "send_recv_obj":       # pickled bytes objects: sizes vary by protocol
                assert sent > 50 * r and received > 50 * ((r - 1) % nranks), (name, r, x[name])
            else:
                assert (sent, received) == expected(name, r, nranks), (name, r, x[name])
            assert (coll, p2p) == ((0, P2P[name]) if name in P2P else (1, 0)), (name, r)


# --- the benchmark's JSON ---------------------------------------------------------------------

def run_benchmark(nranks, tmp_path, *extra):
    out = tmp_path / ("r%d.json" % nranks)
    res = run_mpi(nranks, ["-m", "graph500", "-s", "8", "--roots", "3", "--energy", "off",
                           "--quiet", "--json", str(out)] + list(extra), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(out.read_text())


def check_comm_object(obj, unit, count, nranks):
    sfx = "_per_" + unit if unit else ""
    if count is not None:
        assert obj[unit + ("es" if unit == "search" else "s")] == count
    rec, snt = obj["bytes_received" + sfx], obj["bytes_sent" + sfx]
    for x in (rec, snt):
        assert set(x) == {"mean", "max"} and x["max"] >= x["mean"] >= 0
    # sent = received summed over ranks, i.e. equal means
    assert snt["mean"] == pytest.approx(rec["mean"], rel=1e-12, abs=1e-9)
    assert obj["collectives" + sfx] > 0
    if nranks == 1:
        assert rec["max"] == 0 and snt["max"] == 0
    calls = obj["by_call"]
    assert sum(c["bytes_received" + sfx]["mean"] for c in calls.values()) == \
        pytest.approx(rec["mean"], rel=1e-9)
    assert sum(c["calls" + sfx] for c in calls.values()) == pytest.approx(
        obj["collectives" + sfx] + obj["point_to_point" + sfx], rel=1e-9)


@pytest.mark.parametrize("nranks", [1, 2, 3, 4])
def test_json_comm_objects(nranks, tmp_path):
    r = run_benchmark(nranks, tmp_path)
    assert r["comm"]["ranks"] == nranks and "counted" in r["comm"]
    check_comm_object(r["comm"]["construction"], None, None, nranks)
    check_comm_object(r["comm"]["audit"], None, None, nranks)
    for k in ("bfs", "sssp"):
        c = r[k]["comm"]
        check_comm_object(c, "search", len(r["roots"]), nranks)
        check_comm_object(c["validation"], "validation", len(r["roots"]), nranks)
        if nranks > 1:
            # the kernels really exchange: bytes in every phase
            assert c["bytes_received_per_search"]["mean"] > 0
            assert c["validation"]["bytes_received_per_validation"]["mean"] > 0
    if nranks > 1:
        assert r["comm"]["construction"]["by_call"]["Alltoallv"]["bytes_received"]["mean"] > 0
