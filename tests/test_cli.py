"""The command line end to end: bad input, failure on one rank, failed validation, JSON, and
the README's ./run.sh path."""
import json
import os
import subprocess
import sys
import time

import pytest

from mpi_util import ROOT, run_mpi

BAD = [
    (["-s", "-1"], "--scale"),
    (["-s", "0"], "--scale"),
    (["-s", "1.5"], "invalid int"),
    (["-s", "abc"], "invalid int"),
    (["-s", "41"], "--scale"),
    (["-e", "0"], "--edgefactor"),
    (["-e", "-3"], "--edgefactor"),
    (["--roots", "0"], "--roots"),
    (["--roots", "65"], "--roots"),
    (["--seed", "-1", "3"], "--seed"),
    (["--seed", "2"], "--seed"),
    (["--threads", "0"], "--threads"),
    (["--kernels", "dfs"], "--kernels"),
    (["--delta", "-0.5"], "--delta"),
    (["--json", "/nonexistent-dir/x.json", "-s", "4"], "does not exist"),
    (["--json", "/tmp", "-s", "4"], "is a directory"),
    (["-s", "36"], "GiB"),                         # memory preflight: both numbers
    (["--bogus"], "unrecognized"),
]


def run_single(args, env=None, timeout=120):
    e = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1")
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "graph500"] + args, capture_output=True,
                          text=True, timeout=timeout, env=e, cwd=str(ROOT))


def assert_one_line_error(res, needle):
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert lines[0].startswith("graph500: error:") and needle in lines[0], lines[0]
    assert res.stdout == ""


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_single_process(args, needle):
    assert_one_line_error(run_single(args), needle)


@pytest.mark.parametrize("args,needle", [(["-s", "-1"], "--scale"), (["-s", "36"], "GiB"),
                                         (["--json", "/tmp", "-s", "4"], "directory")])
def test_bad_input_every_rank_exits_2(args, needle):
    res = run_mpi(3, ["-m", "graph500"] + args, timeout=120)
    assert_one_line_error(res, needle)


def test_memory_refusal_gives_both_numbers():
    res = run_single(["-s", "36"])
    line = res.stderr.strip()
    assert line.count("GiB") >= 2 and "available" in line


@pytest.mark.parametrize("phase", ["construction", "bfs"])
def test_failure_on_one_rank_ends_the_job(phase):
    t0 = time.time()
    res = run_mpi(3, ["-m", "graph500", "-s", "8", "--roots", "4", "--kernels", "bfs",
                      "--energy", "off"],
                  env={"GRAPH500_INJECT_FAILURE": "1:" + phase}, timeout=120)
    elapsed = time.time() - t0
    assert res.returncode != 0
    assert "error on rank 1 of 3" in res.stderr and "injected" in res.stderr
    assert "Traceback" not in res.stderr
    assert elapsed < 60, elapsed


@pytest.mark.parametrize("kernel", ["bfs", "sssp"])
def test_failed_validation_exits_1_without_results(kernel):
    res = run_mpi(2, ["-m", "graph500", "-s", "8", "--roots", "3", "--kernels", kernel,
                      "--energy", "off", "--quiet"],
                  env={"GRAPH500_INJECT_FAILURE": "1:corrupt-" + kernel}, timeout=120)
    assert res.returncode == 1, res.stderr
    assert res.stdout.strip() == "No results printed for invalid run."
    assert "validation failed: %s root" % kernel.upper() in res.stderr


def test_skip_validation_prints_minus_one_and_json(tmp_path):
    out = tmp_path / "r.json"
    res = run_mpi(2, ["-m", "graph500", "-s", "9", "--roots", "5", "--kernels", "bfs",
                      "--skip-validation", "--json", str(out), "--energy", "off", "--quiet"])
    assert res.returncode == 0, res.stderr
    assert "bfs  mean_validate:             -1" in res.stdout
    r = json.loads(out.read_text())
    for key in ("scale", "edgefactor", "seed", "num_mpi_processes", "threads_per_rank",
                "graph_generation", "construction_time", "roots", "bfs", "versions", "hosts"):
        assert key in r, key
    assert r["num_mpi_processes"] == 2 and r["scale"] == 9 and len(r["roots"]) == 5
    for key in ("time", "nedge", "harmonic_mean_TEPS", "min_TEPS", "median_time"):
        assert key in r["bfs"]
    assert len(r["bfs"]["time"]) == 5 and "sssp" not in r
    assert set(r["versions"]) >= {"python", "numpy", "numba", "mpi4py", "mpi_library"}
    assert res.stderr == ""                         # --quiet


def test_run_sh_default_path_end_to_end(tmp_path):
    """The README's ./run.sh, at a small SCALE (the venv is the one ./run.sh test made)."""
    out = tmp_path / "r.json"
    res = subprocess.run(["./run.sh", "-n", "2", "-s", "10", "--roots", "8", "--json", str(out)],
                         capture_output=True, text=True, timeout=600, cwd=str(ROOT),
                         env=dict(os.environ, NUMBA_NUM_THREADS="1"))
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.splitlines()
    assert lines[0] == "SCALE:                          10"
    assert any(l.startswith("sssp harmonic_mean_TEPS:     !  ") for l in lines)
    r = json.loads(out.read_text())
    assert r["bfs"]["nedge"] == r["sssp"]["nedge"]


def test_too_many_ranks_is_refused(monkeypatch):
    """The owner arithmetic holds for at most spec.MAX_RANKS ranks; more is bad input."""
    from mpi4py import MPI
    from graph500 import driver, spec
    from graph500.cli import UsageError, parse_args
    monkeypatch.setattr(spec, "MAX_RANKS", 0)
    comm = MPI.COMM_WORLD
    with pytest.raises(UsageError, match="at most 0 are supported"):
        driver._preflight(comm, comm.Split_type(MPI.COMM_TYPE_SHARED), parse_args(["-s", "4"]), False)
