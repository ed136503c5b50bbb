"""`graph500 report` and `graph500 compare` on result records: today's keys, the schema-2 keys,
an invalid run, energy from counters and from a joined meter, and bad input (one line, exit 2).

The fixtures in tests/data/result-*.json are real runs at SCALE 10 with 4 roots on 2 ranks,
trimmed (energy phase intervals and per-node records dropped):
  result-bfs-sssp.json, result-bfs.json (--kernels bfs), result-skip-validation.json,
  result-scale11.json (-s 11 --kernels bfs), result-ef8.json (-e 8 --kernels bfs): main's driver;
  result-energy.json: a fake RAPL tree drawing 100 W (tests/test_energy_driver.py's PoweredTree),
    --idle 1 --energy-loop 1;
  result-joined.json: that run joined by `graph500 energy-join` with a 1 Hz, 250 W meter log;
  result-schema2.json, result-invalid.json (GRAPH500_INJECT_FAILURE=1:corrupt-bfs): the `cli`
    branch's schema-2 record, with the `audit`, `memory_estimate_bytes`, `device` and
    `threading_layer` keys added in the shapes the audit, memsetup, gpu and threads branches write.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from graph500 import compare, report
from graph500.result_file import NOT_RECORDED, Result, ResultFileError, load

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def fixture(name):
    return str(DATA / ("result-%s.json" % name))


def data(name):
    return json.loads(pathlib.Path(fixture(name)).read_text())


def run_cli(args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "graph500"] + list(args), capture_output=True,
                          text=True, timeout=60, env=env, cwd=str(ROOT))


def call(main, args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def g(x, digits=4):
    return "%.*g" % (digits, x)


# --- report -----------------------------------------------------------------------------------

def test_report_todays_record(capsys):
    d = data("bfs-sssp")
    code, out, err = call(report.main, [fixture("bfs-sssp")], capsys)
    assert code == 0 and err == ""
    assert "  SCALE:" in out and " 10\n" in out.split("SCALE:")[1][:40]
    for k in ("bfs", "sssp"):
        hm = d[k]["harmonic_mean_TEPS"] / 1e9
        assert "%s GTEPS:" % k.upper() in out
        assert g(hm, 6) + " harmonic mean" in out
        assert "median " + g(d[k]["median_TEPS"] / 1e9) in out
    assert "construction (Kernel 1):" in out and g(d["construction_time"]) + " s" in out
    # keys today's record lacks are said to be absent, not guessed
    for label in ("graph500 version:", "started:", "CPU model:", "device:", "Kernel 1 audit:"):
        line = next(l for l in out.splitlines() if l.strip().startswith(label))
        assert line.endswith(NOT_RECORDED), line
    assert "valid (from `validated`" in out
    assert "MPICH" in out and d["versions"]["numba"] in out
    assert "NBFS 4: the benchmark runs 64" in out


def test_report_schema2_record(capsys):
    d = data("schema2")
    code, out, _ = call(report.main, [fixture("schema2")], capsys)
    assert code == 0
    status = next(l for l in out.splitlines() if l.strip().startswith("status:"))
    assert status.split(":", 1)[1].strip() == "valid"          # recorded, not derived
    assert d["graph500_version"] in out and d["start_time"] in out and d["cpu_model"] in out
    nodes = next(l for l in out.splitlines() if l.strip().startswith("nodes:"))
    assert nodes.split(":", 1)[1].strip() == str(d["nodes"])
    assert "Kernel 1 audit:" in out and "passed" in out
    assert "memory estimate per node:" in out
    assert "device:                        %s" % d["device"] in out
    s = report.summary(load(fixture("schema2")))
    assert s["peak_rss_bytes_max_rank"] == max(r["peak_rss_bytes"] for r in d["ranks"])
    assert s["threads_per_rank"] == d["ranks"][0]["threads"]


def test_report_gpu_device_and_uneven_threads():
    d = data("schema2")
    d.update(device="gpu", gpus=[{"rank": 0, "index": 0, "name": "NVIDIA H200"},
                                 {"rank": 1, "index": 1, "name": "NVIDIA H200"}])
    d["ranks"][1]["threads"] = 3
    out = report.render(report.summary(Result("gpu.json", d)))
    assert "device:                        gpu (NVIDIA H200)" in out
    assert "threads per rank:              1 to 3" in out
    assert "cores used (all threads):      4" in out


def test_report_invalid_run_has_failure_and_no_numbers(capsys):
    d = data("invalid")
    assert d["status"] == "invalid" and "bfs" not in d
    code, out, _ = call(report.main, [fixture("invalid")], capsys)
    assert code == 0
    assert "status:" in out and "invalid" in out
    assert d["failure"]["message"] in out and "root %d" % d["failure"]["root"] in out
    assert "GTEPS" not in out and "MTEPS/W" not in out and "construction (Kernel 1)" not in out
    assert g(d["construction_time"]) not in out
    assert "invalid run: it cannot be submitted" in out
    s = report.summary(load(fixture("invalid")))
    assert s["kernels"] == {} and s["energy"] is None and s["phases"] == {}


def test_report_skip_validation_and_bfs_only(capsys):
    _, out, _ = call(report.main, [fixture("skip-validation")], capsys)
    assert "not validated" in out and "validation was skipped" in out
    assert "BFS validation:                skipped" in out
    _, out, _ = call(report.main, [fixture("bfs")], capsys)
    assert "BFS GTEPS:" in out and "SSSP" not in out


def test_report_energy_from_counters(capsys):
    d = data("energy")
    code, out, _ = call(report.main, [fixture("energy")], capsys)
    assert code == 0
    e = d["energy"]
    for k in ("bfs", "sssp"):
        v = e["kernels"][k]["mteps_per_watt"]
        assert "%s MTEPS/W:" % k.upper() in out and g(v) + " (component sum)" in out
        assert "from energy_loop_%s" % k in out
    assert "measurement level:             none: on-board counters" in out
    assert "rapl:psys" in out and "1/1 nodes measured" in out
    assert "idle power:                    " + g(e["idle_W"]) + " W" in out
    assert "shorter than the 60 s EEHPC" in out


def test_report_energy_from_joined_meter(capsys):
    d = data("joined")
    code, out, _ = call(report.main, [fixture("joined")], capsys)
    assert code == 0
    ext = d["energy"]["external_meter"]
    for k in ("bfs", "sssp"):
        assert g(ext["kernels"][k]["mteps_per_watt"]) + " (external meter)" in out
    assert "method:                        external meter" in out
    assert "below EEHPC Level 1 (external meter)" in out


def test_measurement_level_met_by_a_long_metered_phase():
    r = load(fixture("joined"))
    ext = r.data["energy"]["external_meter"]
    for k, entry in ext["kernels"].items():
        ext["phases"][entry["power_phase"]]["seconds"] = 65.0
    assert report.measurement_level(r).startswith("external meter: EEHPC Level 1 time span")
    ext["period_s"] = 2.0
    assert "Level 1 needs >= 1 Hz" in report.measurement_level(r)


def test_report_json_output(capsys):
    code, out, _ = call(report.main, [fixture("bfs-sssp"), "--json"], capsys)
    s = json.loads(out)
    assert code == 0 and s["scale"] == 10
    assert s["kernels"]["bfs"]["harmonic_mean_GTEPS"] == pytest.approx(
        data("bfs-sssp")["bfs"]["harmonic_mean_TEPS"] / 1e9)
    assert s["graph500_version"] is None


# --- compare ----------------------------------------------------------------------------------

def test_compare_ratios_to_the_first(capsys):
    a, b = data("bfs-sssp"), data("bfs")
    code, out, err = call(compare.main, [fixture("bfs-sssp"), fixture("bfs"), "--json"], capsys)
    assert code == 0 and err == ""
    rows = {r["label"]: r for r in json.loads(out)["rows"]}
    hm = rows["BFS GTEPS harmonic mean"]
    assert hm["values"] == pytest.approx([a["bfs"]["harmonic_mean_TEPS"] / 1e9,
                                          b["bfs"]["harmonic_mean_TEPS"] / 1e9])
    assert hm["ratios"][1] == pytest.approx(b["bfs"]["harmonic_mean_TEPS"]
                                            / a["bfs"]["harmonic_mean_TEPS"])
    gen = rows["generation"]
    assert gen["ratios"][1] == pytest.approx(b["graph_generation"] / a["graph_generation"])
    rss = rows["peak RSS, largest rank"]
    assert rss["values"][1] == pytest.approx(max(b["peak_rss_bytes"]) / 2 ** 20)
    assert rows["SSSP GTEPS harmonic mean"]["values"][1] == "not run"   # a bfs-only run
    assert rows["SSSP GTEPS harmonic mean"]["ratios"][1] is None


def test_compare_text_table(capsys):
    code, out, _ = call(compare.main, [fixture("energy"), fixture("schema2"), fixture("joined")],
                        capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("graph500 compare: 3 runs")
    hm = next(l for l in lines if l.startswith("BFS GTEPS harmonic mean"))
    a, b = data("energy"), data("schema2")
    ratio = b["bfs"]["harmonic_mean_TEPS"] / a["bfs"]["harmonic_mean_TEPS"]
    assert "(x%.3g)" % ratio in hm
    mteps = next(l for l in lines if l.startswith("BFS MTEPS/W"))
    assert g(a["energy"]["kernels"]["bfs"]["mteps_per_watt"]) in mteps
    assert "not measured" in mteps                 # schema2's run had no counter
    audit = next(l for l in lines if l.startswith("audit"))
    assert NOT_RECORDED in audit and g(b["audit"]["time"]) in audit
    assert any(l.startswith("construction") for l in lines)
    assert any(l.startswith("bfs validation") for l in lines)


def test_compare_invalid_run_shows_no_numbers(capsys):
    code, out, _ = call(compare.main, [fixture("schema2"), fixture("invalid")], capsys)
    assert code == 0
    line = next(l for l in out.splitlines() if l.strip().startswith("invalid:"))
    assert data("invalid")["failure"]["message"] in line and "no numbers shown" in line
    row = next(l for l in out.splitlines() if l.startswith("construction"))
    assert row.rstrip().endswith("invalid")
    assert g(data("invalid")["construction_time"]) not in row


def test_compare_refuses_different_scales_unless_asked():
    res = run_cli(["compare", fixture("bfs"), fixture("scale11")])
    assert res.returncode == 2 and res.stdout == ""
    line, = res.stderr.strip().splitlines()
    assert line.startswith("graph500 compare: error: different SCALEs")
    assert "10" in line and "11" in line and "--allow-different-scale" in line
    res = run_cli(["compare", fixture("bfs"), fixture("scale11"), "--allow-different-scale"])
    assert res.returncode == 0, res.stderr
    assert "note: different SCALEs" in res.stdout


def test_compare_kernel_not_run_and_validation_skipped(capsys):
    code, out, _ = call(compare.main, [fixture("skip-validation"), fixture("bfs")], capsys)
    assert code == 0
    lines = out.splitlines()
    row = next(l for l in lines if l.startswith("bfs validation"))
    assert row.split()[2] == "skipped" and "(x" not in row      # no ratio against "skipped"
    row = next(l for l in lines if l.startswith("sssp searches"))
    assert row.rstrip().endswith("not run")


def test_compare_says_when_edgefactors_differ(capsys):
    code, out, _ = call(compare.main, [fixture("bfs"), fixture("ef8")], capsys)
    assert code == 0
    assert "note: different edgefactors" in out and ": 16" in out and ": 8" in out


# --- bad input --------------------------------------------------------------------------------

def _bad_files(tmp):
    (tmp / "notjson.json").write_text("SCALE: 10\n")
    (tmp / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    (tmp / "other-tool.json").write_text(json.dumps(
        {"project_name": "codecarbon", "duration": 12.5, "energy_consumed": 0.01}))
    (tmp / "list.json").write_text("[1, 2, 3]")
    (tmp / "energy-only.json").write_text(json.dumps(data("energy")["energy"]))
    (tmp / "no-kernels.json").write_text(json.dumps({"scale": 10, "edgefactor": 16}))
    (tmp / "string-scale.json").write_text(json.dumps(dict(data("bfs"), scale="10")))
    return {"missing": (str(tmp / "missing.json"), "No such file"),
            "directory": (str(tmp), "directory"),
            "not JSON": (str(tmp / "notjson.json"), "not JSON"),
            "binary": (str(tmp / "binary.json"), "not"),
            "other tool": (str(tmp / "other-tool.json"), "not a graph500 result"),
            "a list": (str(tmp / "list.json"), "not a graph500 result"),
            "energy section alone": (str(tmp / "energy-only.json"), "not a graph500 result"),
            "no kernel sections": (str(tmp / "no-kernels.json"), "not a graph500 result"),
            "SCALE not a number": (str(tmp / "string-scale.json"), "not a graph500 result")}


def assert_one_line_error(res, prog, needle):
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    line, = res.stderr.strip().splitlines()
    assert line.startswith(prog + ": error:") and needle in line, line


@pytest.mark.parametrize("which", ["missing", "directory", "not JSON", "binary", "other tool",
                                   "a list", "energy section alone", "no kernel sections",
                                   "SCALE not a number"])
def test_bad_input_report_and_compare(which, tmp_path):
    path, needle = _bad_files(tmp_path)[which]
    assert_one_line_error(run_cli(["report", path]), "graph500 report", needle)
    assert_one_line_error(run_cli(["compare", fixture("bfs"), path]), "graph500 compare", needle)


@pytest.mark.parametrize("args,needle", [
    (["report"], "required"), (["report", "a.json", "b.json"], "unrecognized"),
    (["report", "--bogus", "x.json"], "unrecognized"),
    (["compare"], "required"), (["compare", "only-one.json"], "at least two"),
    (["compare", "a.json", "b.json", "--scale"], "unrecognized")])
def test_bad_arguments(args, needle, capsys):
    main = report.main if args[0] == "report" else compare.main
    code, out, err = call(main, args[1:], capsys)
    assert code == 2 and out == ""
    line, = err.strip().splitlines()
    assert needle in line, line


def test_no_mpi_and_no_numba_imported():
    """Both commands run on a login node: no MPI initialisation, no Numba import."""
    code = ("import sys\nfrom graph500.cli import main\n"
            "for argv in (['report', %r], ['compare', %r, %r]):\n"
            "    try:\n        main(argv)\n    except SystemExit as e:\n        assert e.code == 0, e\n"
            "print(sorted(m for m in ('mpi4py', 'mpi4py.MPI', 'numba') if m in sys.modules))"
            % (fixture("energy"), fixture("energy"), fixture("joined")))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"


WEIRD = [None, "x", [], {}, -1, 1.5, True, [None, "a"], {"kernels": "x"}]


@pytest.mark.parametrize("name", ["schema2", "joined", "invalid"])
def test_odd_values_in_any_key_are_shown_not_raised(name, tmp_path):
    """A record edited by hand or by another tool: each key in turn (top level, the energy
    section, the kernel sections, audit, failure) holds a value of the wrong type. Both
    summaries are still made (called directly, so main's last-resort one-line error cannot
    hide a gap); only a SCALE or edgefactor that is not an integer in range is refused."""
    text = pathlib.Path(fixture(name)).read_text()
    base = json.loads(text)
    cases = [(k, None) for k in base] + [
        (k, sub) for k in ("energy", "bfs", "sssp", "audit", "failure")
        if isinstance(base.get(k), dict) for sub in base[k]]
    first = load(fixture(name))
    for top, sub in cases:
        for weird in WEIRD:
            d = json.loads(text)
            if sub is None:
                d[top] = weird
            else:
                d[top][sub] = weird
            if top in ("scale", "edgefactor"):
                path = tmp_path / "odd.json"
                path.write_text(json.dumps(d))
                with pytest.raises(ResultFileError, match="not a graph500 result"):
                    load(str(path))
                continue
            r = Result("odd.json", d)
            assert report.render(report.summary(r)).startswith("graph500 report: odd.json")
            runs = [first, r]
            assert "run 2: odd.json" in compare.render(runs, compare.rows(runs), [])


def test_readme_examples_are_real_output(capsys, monkeypatch):
    """Each `$ graph500 report|compare ...` example in the README is this code's output on the
    records in tests/data (the README leaves some sections out, never changes a line)."""
    monkeypatch.chdir(ROOT)              # the examples name tests/data/... from the clone's root
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```")[0] for b in text.split("```text\n$ graph500 ")[1:]]
    assert len(blocks) >= 2
    for block in blocks:
        command, _, shown = block.partition("\n")
        argv = command.split()
        main = {"report": report.main, "compare": compare.main}[argv[0]]
        code, out, _ = call(main, argv[1:], capsys)
        assert code == 0
        lines = out.splitlines()
        for line in shown.splitlines():
            assert line in lines, line
