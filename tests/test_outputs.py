"""In-process checks of the command line's pieces: the option forms, the SKIP_* switches, the
output-path checks, the write order of artefacts, the result record's own fields, and the
progress lines (the end-to-end runs are in test_cli.py)."""
import io
import os
import re
import stat

import pytest

from graph500.energy import EnergyConfig, EnergyMonitor
from graph500 import output, progress, record
from graph500.cli import DEFAULT_SCALE, UsageError, parse_args


def comparable(args):
    d = dict(vars(args))
    for k in ("scale_pos", "edgefactor_pos", "energy_config"):
        d.pop(k)
    return d


def test_positional_form_equals_option_form():
    assert comparable(parse_args(["20", "16"], env={})) == \
        comparable(parse_args(["-s", "20", "-e", "16"], env={}))
    assert comparable(parse_args(["18"], env={})) == comparable(parse_args(["-s", "18"], env={}))
    a = parse_args(["18", "-s", "18", "--roots", "2"], env={})    # both, equal: fine
    assert (a.scale, a.edgefactor, a.roots) == (18, 16, 2)
    assert parse_args([], env={}).scale == DEFAULT_SCALE
    with pytest.raises(UsageError, match="SCALE given twice"):
        parse_args(["18", "-s", "19"], env={})


@pytest.mark.parametrize("env,kernels,skip_validation,skipped", [
    ({}, ["bfs", "sssp"], False, []),
    ({"SKIP_VALIDATION": "1"}, ["bfs", "sssp"], True, ["validation"]),
    ({"SKIP_VALIDATION": "0", "SKIP_BFS": ""}, ["bfs", "sssp"], False, []),
    ({"SKIP_BFS": "1"}, ["sssp"], False, ["bfs"]),
    ({"SKIP_SSSP": "true", "SKIP_VALIDATION": "yes"}, ["bfs"], True, ["validation", "sssp"]),
])
def test_skip_environment(env, kernels, skip_validation, skipped):
    a = parse_args(["-s", "10"], env=env)
    assert a.kernels == kernels and a.skip_validation == skip_validation
    assert a.skipped == skipped
    assert len(a.notes) == len(skipped)
    for note, what in zip(a.notes, skipped):
        assert "%s skipped" % what in note


def test_skip_with_kernels_option():
    with pytest.raises(UsageError, match="nothing to run: bfs skipped by SKIP_BFS"):
        parse_args(["--kernels", "bfs"], env={"SKIP_BFS": "1"})
    assert parse_args(["--kernels", "bfs,sssp"], env={"SKIP_SSSP": "1"}).kernels == ["bfs"]


def test_green_keeps_larger_values_and_finite():
    a = parse_args(["--green"], env={})
    assert (a.energy_loop, a.idle) == (60.0, 30.0)
    a = parse_args(["--green", "--energy-loop", "90"], env={})
    assert (a.energy_loop, a.idle) == (90.0, 30.0)


# --- output paths ------------------------------------------------------------------------------

def args_for(tmp_path, json=None, trace=None, plot=None):
    argv = []
    for flag, p in (("--json", json), ("--energy-trace", trace), ("--energy-plot", plot)):
        if p is not None:
            argv += [flag, str(p)]
    return parse_args(argv, env={})


def test_good_outputs_pass_and_leave_nothing(tmp_path):
    a = args_for(tmp_path, tmp_path / "r.json", tmp_path / "t.csv", tmp_path / "p.png")
    assert output.check_outputs(a) is None
    assert os.listdir(tmp_path) == []
    assert [f for f, _ in output.output_paths(a)] == ["--json", "--energy-trace", "--energy-plot"]


def refusal(tmp_path, **kw):
    """The one-line reason these output paths are refused: when the options are parsed (the
    energy options check their own paths) or by check_outputs before the run."""
    try:
        a = args_for(tmp_path, **kw)
    except UsageError as e:
        return str(e)
    return output.check_outputs(a)


def test_outputs_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    os.mkfifo(str(tmp_path / "fifo"))
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling"))
    cases = [
        (dict(trace=tmp_path), "%s is a directory" % tmp_path),
        (dict(json=tmp_path / "file" / "r.json"), "%s is not a directory" % (tmp_path / "file")),
        (dict(json=tmp_path / "no" / "r.json"), "does not exist"),
        (dict(trace=tmp_path / "fifo"), "is not a regular file"),
        (dict(json=tmp_path / "a.json", trace=tmp_path / "a.json"),
         "--json and --energy-trace name the same file"),
        (dict(trace=tmp_path / "x.csv", plot=tmp_path / "." / "x.csv"),
         "--energy-trace and --energy-plot name the same file"),
    ]
    for kw, needle in cases:
        problem = refusal(tmp_path, **kw)
        assert problem is not None and needle in problem, (kw, problem)
        assert "\n" not in problem


def test_unwritable_directory_is_refused(tmp_path, monkeypatch):
    """Root ignores mode bits, so creating a probe file is what decides; a failing one is
    refused (injected: the probe lands in a directory that does not exist)."""
    from graph500 import energy
    import graph500.energy.atomic
    monkeypatch.setattr(energy.atomic, "_temp_name", lambda target: str(tmp_path / "gone" / "p"))
    problem = refusal(tmp_path, trace=tmp_path / "t.csv")
    assert problem.startswith("--energy-trace") and "%s: cannot create a file in %s" % (
        tmp_path / "t.csv", tmp_path) in problem, problem


def test_dangling_symlink_is_written_through(tmp_path):
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling"))
    assert output.check_outputs(args_for(tmp_path, json=tmp_path / "dangling")) is None


def test_read_only_existing_file_is_refused(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("{}")
    p.chmod(0o444)   # refused from the mode bits, also for root
    assert "read-only" in output.check_outputs(args_for(tmp_path, json=p))


def test_energy_output_hook_is_called(tmp_path, monkeypatch):
    a = args_for(tmp_path, plot=tmp_path / "p.png")
    from graph500.energy.config import EnergyConfigError

    def refuse(self, import_matplotlib=False):
        raise EnergyConfigError("--energy-plot: unknown format xyz")
    monkeypatch.setattr(type(a.energy_config), "check_outputs", refuse)
    assert output.check_outputs(a) == "--energy-plot: unknown format xyz"


def test_failing_trace_writer_loses_only_itself(tmp_path, monkeypatch):
    """The artefacts are written after the results, each on its own: a failing trace (a full
    disk) is one line, leaves no temporary file, and does not stop the plot."""
    import graph500.energy.atomic as atomic
    import graph500.energy.monitor as monitor_mod
    written = []

    def full_disk(path, *a, **k):      # the real atomic writer, on a disk that fills up
        def write(f):
            f.write("half")
            raise OSError(28, "No space left on device")
        atomic.write_atomic(path, write)

    def plot(path, *a, **k):
        written.append(path)
        return None
    monkeypatch.setattr(monitor_mod, "write_trace_csv", full_disk)
    monkeypatch.setattr(monitor_mod, "write_plot", plot)
    cfg = EnergyConfig(powercap_root=str(tmp_path / "pc"), cray_root=str(tmp_path / "c"),
                       nvml=False, trace_path=str(tmp_path / "t.csv"),
                       plot_path=str(tmp_path / "p.png"))
    mon = EnergyMonitor(None, cfg)
    mon.start()
    with mon.phase("run"):
        pass
    result = mon.finish(defer_artefacts=True)
    assert result["trace"] == cfg.trace_path and os.listdir(tmp_path) == []   # nothing yet
    problems = mon.write_artefacts()
    assert problems == ["energy trace not written: cannot write %s: No space left on device"
                        % cfg.trace_path]
    assert result["trace"] is None
    assert written == [cfg.plot_path]
    assert os.listdir(tmp_path) == []                                         # no .tmp left


# --- the record --------------------------------------------------------------------------------

def test_record_fields():
    assert record.iso_utc(0) == "1970-01-01T00:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.iso_utc(1.8e9))
    assert record.status(True, False) == "valid"
    assert record.status(False, False) == "not validated"
    assert record.status(True, True) == "invalid"
    f = record.failure("bfs", 5, 2, 4, "root 5: parent[root] is 7")
    assert set(f) == {"kernel", "root", "search", "check", "message"} and f["check"] == 4
    model = record.cpu_model()
    assert model is None or (isinstance(model, str) and model and "\n" not in model)
    if os.path.exists("/proc/cpuinfo") and "model name" in open("/proc/cpuinfo").read():
        assert model in open("/proc/cpuinfo").read()


# --- progress ----------------------------------------------------------------------------------

class FakeComm:
    def __init__(self, rank=0):
        self.rank = rank

    def Get_rank(self):
        return self.rank


def test_progress_lines_carry_elapsed_time_and_estimate(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    log = progress.Progress(FakeComm(), quiet=False, t0=90.0, stream=out)
    with log.phase("generation"):
        now[0] += 2.5
    log.plan(["bfs", "sssp"], searches_per_kernel=3, loop_seconds=60.0)
    log.kernel_started()
    now[0] += 3.0
    # 2 searches x 3 s + this kernel's 60 s loop; sssp has no estimate before it starts
    assert log.search_done() == "; 1/6 searches, about 66.0 s left before sssp"
    now[0] += 1.0
    assert log.search_done() == "; 2/6 searches, about 62.0 s left before sssp"
    now[0] += 2.0
    assert log.search_done() == "; 3/6 searches, about 60.0 s left before sssp"
    log.kernel_started()
    now[0] += 40.0
    assert log.search_done() == "; 4/6 searches, about 2 min 20 s left"
    log.note("SKIP_BFS=1: bfs skipped")
    lines = out.getvalue().splitlines()
    assert lines == ["graph500 [   10.0 s] generation ...",
                     "graph500 [   12.5 s] generation: done in 2.5 s",
                     "graph500 [   58.5 s] SKIP_BFS=1: bfs skipped"]


def test_quiet_silences_progress_but_not_notes():
    out = io.StringIO()
    log = progress.Progress(FakeComm(), quiet=True, stream=out)
    with log.phase("compile"):
        log("x %d", 1)
    assert out.getvalue() == ""
    log.note("a note")
    assert out.getvalue().endswith("] a note\n")
    other = io.StringIO()
    progress.Progress(FakeComm(rank=1), quiet=False, stream=other).note("never")
    assert other.getvalue() == ""
