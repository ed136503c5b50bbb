"""BFS validation accepts exactly what a plain reading of spec section 5 accepts, and names
the same failing check, on randomly corrupted parent arrays, on one rank and on three
(tests/bfs_random_cases.py)."""
import json

from mpi4py import MPI

import bfs_random_cases
from graph500 import validate as V
from mpi_util import run_mpi

SCALE = 9


def check(rep, ntrials):
    assert rep["trials"] == 2 * ntrials
    assert rep["disagree"] == []
    # valid arrays and the failures of rule 5 occur, or the comparison proves little
    assert 0 < rep["valid"] < rep["trials"]
    assert {"3", "5", "6", "7"} <= set(rep["checks"]), rep["checks"]


def test_random_corruptions_one_rank(monkeypatch):
    # Both ways of confirming a level's parents run (validate._levels_and_scan chooses per
    # level), and both agree with the exact mode (run_cases compares them).
    calls = {}
    for name in ("confirm", "confirm_up"):
        def counted(self, *args, _f=getattr(V._RowScan, name), _name=name):
            calls[_name] = calls.get(_name, 0) + 1
            return _f(self, *args)
        monkeypatch.setattr(V._RowScan, name, counted)
    check(bfs_random_cases.run_cases(MPI.COMM_WORLD, SCALE, 150), 150)
    assert calls.get("confirm", 0) > 0 and calls.get("confirm_up", 0) > 0, calls


def test_random_corruptions_three_ranks(tmp_path):
    out = tmp_path / "r3.json"
    res = run_mpi(3, ["tests/bfs_random_cases.py", str(SCALE), "60", str(out)])
    assert res.returncode == 0, res.stderr[-2000:]
    check(json.loads(out.read_text()), 60)
