"""The command line end to end: bad input, failure on one rank, failed validation, JSON, and
the README's ./run.sh path."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from mpi_util import ROOT, run_mpi, stderr_lines

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
    (["-s", "36", "--kernels", "bfs"], "GiB"),      # memory preflight: both numbers
    (["--bogus"], "unrecognized"),
    # issue 11.4: every option finite and in range
    (["--idle", "inf"], "--idle: must be a finite number"),
    (["--idle", "nan"], "--idle: must be a finite number"),
    (["--idle", "1e300"], "--idle must be between 0 and 86400"),
    (["--idle", "-1"], "--idle must be between"),
    (["--energy-loop", "nan"], "--energy-loop: must be a finite number"),
    (["--energy-loop", "inf"], "--energy-loop: must be a finite number"),
    (["--green", "--energy-loop", "nan"], "--energy-loop: must be a finite number"),
    (["--energy-interval", "nan"], "--energy-interval"),
    (["--delta", "nan"], "--delta: must be a finite number"),
    (["--delta", "inf"], "--delta: must be a finite number"),
    (["--delta", "1e-300"], "--delta must be between 0.0001"),
    (["--delta", "1e-7"], "--delta must be between 0.0001"),
    (["--delta", "1e300"], "--delta must be between"),
    (["--delta", ""], "--delta: must be a number"),
    (["--threads", "100000"], "CPUs of this machine"),
    (["--json", ""], "--json must not be empty"),
    (["--json", " "], "--json must not be empty"),
    (["--energy-trace", ""], "--energy-trace must not be empty"),
    (["--energy-plot", ""], "--energy-plot must not be empty"),
    (["--ipmi-log", ""], "--ipmi-log must not be empty"),
    (["--powercap-root", ""], "--powercap-root must not be empty"),
    # issue 10.4: positional SCALE [EDGEFACTOR] must agree with the options
    (["20", "-s", "21"], "SCALE given twice with different values"),
    (["20", "16", "-e", "8"], "edgefactor given twice"),
    (["20", "16", "3"], "unrecognized"),
    (["x"], "invalid int"),
    # the 1-D SSSP kernel's parent ids are 32 bits: refused before generation
    (["-s", "33"], "SSSP with --layout 1d supports SCALE <= 32"),
    # issue 11.3: outputs checked before the run
    (["--energy-trace", "/tmp", "-s", "4"], "--energy-trace: /tmp is a directory"),
    (["--energy-plot", "/tmp", "-s", "4"], "--energy-plot: /tmp is a directory"),
    (["--json", "/etc/hostname/r.json", "-s", "4"], "/etc/hostname is not a directory"),
    (["--energy-trace", "/etc/hostname/t.csv", "-s", "4"], "/etc/hostname"),
    (["--json", "/dev/null", "-s", "4"], "is not a regular file"),
]

# Environment variables: checked before the warm-up, one line, exit 2.
BAD_ENV = [
    ({"GRAPH500_ENERGY_NODES": "0,1,2"}, "GRAPH500_ENERGY_NODES lists 3 ranks but the run has 1"),
    ({"GRAPH500_ENERGY_NODES": "block:x"}, "GRAPH500_ENERGY_NODES"),
    ({"GRAPH500_INJECT_FAILURE": "bfs"}, "expected RANK:PHASE"),
    ({"GRAPH500_INJECT_FAILURE": "5:bfs"}, "rank 5, but the run has 1 ranks"),
    ({"SKIP_VALIDATION": "maybe"}, "SKIP_VALIDATION='maybe'"),
    ({"SKIP_BFS": "1", "SKIP_SSSP": "yes"}, "nothing to run"),
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


@pytest.mark.parametrize("env,needle", BAD_ENV, ids=[",".join(e) for e, _ in BAD_ENV])
def test_bad_environment_single_process(env, needle):
    assert_one_line_error(run_single(["-s", "4"], env=env), needle)


@pytest.mark.parametrize("args,needle", [(["-s", "-1"], "--scale"),
                                         (["-s", "36", "--kernels", "bfs"], "GiB"),
                                         (["--json", "/tmp", "-s", "4"], "directory"),
                                         (["--idle", "inf"], "finite"),
                                         (["--json", ""], "must not be empty")])
def test_bad_input_every_rank_exits_2(args, needle):
    res = run_mpi(3, ["-m", "graph500"] + args, timeout=120)
    assert_one_line_error(res, needle)


def test_bad_environment_every_rank_exits_2():
    res = run_mpi(3, ["-m", "graph500", "-s", "4"], env={"GRAPH500_ENERGY_NODES": "0,1"},
                  timeout=120)
    assert_one_line_error(res, "lists 2 ranks but the run has 3")


def test_one_rank_refusing_ends_every_rank(monkeypatch):
    """Ranks may see different machines: one rank's verdict is everyone's (no hang)."""
    code = ("import os, sys; from mpi4py import MPI\n"
            "if MPI.COMM_WORLD.Get_rank() == 2: os.cpu_count = lambda: 1\n"
            "from graph500.cli import main; main(['-s', '4', '--threads', '8'])\n")
    res = run_mpi(3, ["-c", code], timeout=120)
    assert_one_line_error(res, "--threads must be between 1 and 4 (4 x the 1 CPUs")


def test_equal_output_paths_are_refused(tmp_path):
    p = str(tmp_path / "r.json")
    res = run_single(["-s", "4", "--json", p, "--energy-trace", p])
    assert_one_line_error(res, "--json and --energy-trace name the same file")
    os.link(__file__, str(tmp_path / "a.csv"))
    os.link(__file__, str(tmp_path / "b.png"))    # two names of one file count as the same
    res = run_single(["-s", "4", "--energy-trace", str(tmp_path / "a.csv"),
                      "--energy-plot", str(tmp_path / "b.png")])
    assert_one_line_error(res, "name the same file")
    assert sorted(os.listdir(tmp_path)) == ["a.csv", "b.png"]   # the probe left nothing


def test_threads_bound_names_the_cpus():
    from graph500.cli import THREADS_PER_CPU, parse_args
    most = THREADS_PER_CPU * (os.cpu_count() or 1)
    assert parse_args(["--threads", str(most)]).threads == most
    res = run_single(["--threads", str(most + 1)])
    assert_one_line_error(res, "between 1 and %d (%d x the %d CPUs" % (most, THREADS_PER_CPU,
                                                                      os.cpu_count()))


def test_memory_refusal_gives_both_numbers():
    res = run_single(["-s", "36", "--kernels", "bfs"])
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
def test_failed_validation_exits_1_without_results(kernel, tmp_path):
    out = tmp_path / "r.json"
    res = run_mpi(2, ["-m", "graph500", "-s", "8", "--roots", "3", "--kernels", kernel,
                      "--energy", "off", "--quiet", "--json", str(out)],
                  env={"GRAPH500_INJECT_FAILURE": "1:corrupt-" + kernel}, timeout=120)
    assert res.returncode == 1, res.stderr
    assert res.stdout.strip() == "No results printed for invalid run."
    assert "validation failed: %s root" % kernel.upper() in res.stderr
    # The record is still written: invalid, with the failing check, and no statistics.
    r = json.loads(out.read_text())
    assert r["status"] == "invalid" and r["validated"] is True
    f = r["failure"]
    assert set(f) == {"kernel", "root", "search", "check", "message"}
    assert f["kernel"] == kernel and f["search"] == 0 and f["root"] == r["roots"][0]
    assert f["message"] and f["message"] in res.stderr
    if kernel == "bfs":
        assert isinstance(f["check"], int)
    assert kernel not in r and "bfs" not in r and "sssp" not in r
    assert r["energy"]["mteps_per_watt"] in ({}, {kernel: None})


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


def test_record_progress_positional_and_skip_validation(tmp_path):
    """The reference's way (SCALE as an argument, SKIP_VALIDATION=1) with a JSON record and
    the progress lines of a run."""
    out = tmp_path / "r.json"
    t_before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    res = run_mpi(2, ["-m", "graph500", "8", "--roots", "2", "--kernels", "bfs",
                      "--json", str(out), "--energy", "off"], env={"SKIP_VALIDATION": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "SCALE:                          8"
    assert "bfs  mean_validate:             -1" in res.stdout
    lines = res.stderr.splitlines()
    assert all(re.match(r"graph500 \[ *\d+\.\d s\] ", line) for line in lines), lines
    text = "\n".join(lines)
    assert "SKIP_VALIDATION=1: validation skipped" in text
    for phase in ("compile", "generation", "construction", "bfs"):
        assert re.search(r"\] %s( \(.*\))? \.\.\.$" % phase, text, re.M), phase
        assert re.search(r"\] %s: done in \d" % phase, text), phase
    assert re.search(r"bfs   1/2 root \d+: .* TEPS; 1/2 searches, about .* left", text)
    assert re.search(r"bfs   2/2 root \d+: .* TEPS; 2/2 searches, about 0\.0 s left", text)

    r = json.loads(out.read_text())
    assert r["schema"] == 4
    from graph500.cli import package_version
    assert r["graph500_version"] == package_version() != "unknown"
    assert t_before <= r["start_time"] <= r["end_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["end_time"])
    assert r["argv"] == ["graph500", "8", "--roots", "2", "--kernels", "bfs", "--json", str(out),
                         "--energy", "off"]
    assert r["nodes"] == 1 and r["status"] == "not validated" and r["failure"] is None
    assert r["skipped"] == ["validation"] and r["validated"] is False
    assert [x["rank"] for x in r["ranks"]] == [0, 1]
    for x in r["ranks"]:
        assert set(x) == {"rank", "host", "peak_rss_bytes", "threads", "affinity"}
        assert x["peak_rss_bytes"] > 0 and x["threads"] == r["threads_per_rank"]
        assert x["affinity"] is None or all(isinstance(c, int) for c in x["affinity"])
    assert [x["peak_rss_bytes"] for x in r["ranks"]] == r["peak_rss_bytes"]
    assert r["cpu_model"] is None or isinstance(r["cpu_model"], str)
    for key in ("scale", "edgefactor", "seed", "num_mpi_processes", "threads_per_rank", "bfs",
                "versions", "hosts", "host", "energy", "roots", "kernels", "startup_time"):
        assert key in r, key                      # every older key is kept


def test_no_search_roots_is_a_clear_error():
    res = run_mpi(2, ["-m", "graph500", "-s", "1", "-e", "1", "--energy", "off", "--quiet"])
    assert_one_line_error(res, "no search roots")


def test_failing_artefact_keeps_the_results(tmp_path):
    """A trace that cannot be written (a full disk, injected) costs only the trace: the block
    and the JSON are written first, the failure is one line, no temporary file is left."""
    out, trace = tmp_path / "r.json", tmp_path / "t.csv"
    code = ("import graph500.energy.monitor as m, graph500.energy.atomic as a\n"
            "def full(path, *args, **k):\n"      # the real atomic writer, on a disk that fills
            "    def write(f):\n"
            "        f.write('half')\n"
            "        raise OSError(28, 'No space left on device')\n"
            "    a.write_atomic(path, write)\n"
            "m.write_trace_csv = full\n"
            "from graph500.cli import main\n"
            "main(['-s', '6', '--roots', '2', '--kernels', 'bfs', '--energy', 'off', '--quiet',"
            " '--json', %r, '--energy-trace', %r])\n" % (str(out), str(trace)))
    res = run_mpi(1, ["-c", code])
    assert res.returncode == 0, res.stderr
    assert "bfs  harmonic_mean_TEPS:     !  " in res.stdout
    err = stderr_lines(res.stderr)
    assert len(err) == 1 and err[0].endswith(
        "] warning: energy trace not written: cannot write %s: No space left on device" % trace), err
    r = json.loads(out.read_text())
    assert r["status"] == "valid" and r["energy"]["trace"] is None
    assert any("energy trace not written" in w for w in r["energy"]["warnings"])
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_version_and_help():
    res = run_single(["--version"])
    assert res.returncode == 0 and re.fullmatch(r"graph500 \S+\n", res.stdout), res.stdout
    res = run_single(["--help"])
    assert res.returncode == 0, res.stderr
    from graph500.cli import EPILOG, SKIP_ENV
    from graph500.kernels.sssp import DEFAULT_DELTA
    from graph500.kernels.sssp2d import DEFAULT_DELTA as DEFAULT_DELTA_2D
    both = ("%g" % DEFAULT_DELTA if DEFAULT_DELTA == DEFAULT_DELTA_2D
            else "%g with --layout 1d, %g with 2d" % (DEFAULT_DELTA, DEFAULT_DELTA_2D))
    assert "(default: %s, the measured best)" % both in " ".join(res.stdout.split())
    assert EPILOG.strip() in res.stdout
    for var in list(SKIP_ENV) + ["GRAPH500_ENERGY_NODES", "GRAPH500_INJECT_FAILURE"]:
        assert var in res.stdout
    assert "graph500 20 16" in res.stdout


def test_json_lost_at_the_end_keeps_the_rest(tmp_path):
    """The disk fills up during the run: the block is printed, the trace still written, one
    error line, exit 3, and no temporary file left."""
    out, trace = tmp_path / "r.json", tmp_path / "t.csv"
    code = ("import graph500.output as o\n"
            "def full(path, data):\n"
            "    raise OSError(28, 'No space left on device')\n"
            "o.write_json_atomic = full\n"
            "from graph500.cli import main\n"
            "main(['-s', '6', '--roots', '2', '--kernels', 'bfs', '--energy', 'off', '--quiet',"
            " '--json', %r, '--energy-trace', %r])\n" % (str(out), str(trace)))
    res = run_mpi(1, ["-c", code])
    assert res.returncode == 3, res.stderr
    assert "bfs  harmonic_mean_TEPS:     !  " in res.stdout
    err = stderr_lines(res.stderr)
    assert len(err) == 1 and err[0].endswith(
        "] error: result JSON not written: %s: [Errno 28] No space left on device" % out), err
    assert sorted(os.listdir(tmp_path)) == ["t.csv"]
