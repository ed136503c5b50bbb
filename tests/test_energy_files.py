"""Issue 11.3 (result files) and 11.5 (files that are not files), for the energy side.

Result files: umask permissions, symlinks written through, read-only files refused, nothing
left behind on a failed write (a full disk is an injected failing writer: root ignores chmod).
Inputs: a FIFO or /dev/zero where a counter or a log should be is "not measured", never a hang;
the hanging cases run in a subprocess with a timeout so that a regression fails, not hangs.
"""
import errno
import json
import os
import subprocess
import sys

import pytest

from graph500.energy import EnergyConfig, EnergyConfigError, fakes
from graph500.energy.atomic import OutputError, check_writable, write_atomic, write_json_atomic
from graph500.energy.rapl import RaplSource
from graph500.energy.source import SourceUnavailable

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def leftovers(d):
    return [p.name for p in d.iterdir() if ".partial-" in p.name]


@pytest.fixture
def umask():
    def set_(mask):
        old = os.umask(mask)
        restore.append(old)
    restore = []
    yield set_
    if restore:
        os.umask(restore[0])


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_results_take_the_umask_permissions(tmp_path, umask, mask, mode):
    umask(mask)
    write_json_atomic(str(tmp_path / "r.json"), {"a": 1})
    write_atomic(str(tmp_path / "t.csv"), lambda f: f.write("x\n"))
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == mode
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == mode


def test_symlink_is_written_through_and_kept(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json_atomic(str(link), {"new": True})
    assert link.is_symlink() and json.loads(target.read_text()) == {"new": True}
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "made.json")
    write_json_atomic(str(dangling), {"made": 1})
    assert dangling.is_symlink() and json.loads((tmp_path / "made.json").read_text()) == {"made": 1}
    assert not leftovers(tmp_path)


def test_read_only_existing_file_and_directory_are_refused(tmp_path):
    ro = tmp_path / "ro.json"
    ro.write_text("keep")
    ro.chmod(0o444)
    with pytest.raises(OutputError, match="read-only"):
        write_json_atomic(str(ro), {})
    assert ro.read_text() == "keep"
    with pytest.raises(OutputError, match="is a directory"):
        write_json_atomic(str(tmp_path), {})
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(str(tmp_path / "no" / "x.json"))
    with pytest.raises(OutputError, match="empty"):
        check_writable("")
    assert not leftovers(tmp_path)


def test_full_disk_leaves_no_temporary_file_and_keeps_the_old_file(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("previous")

    def fills_the_disk(f):
        f.write("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError) as e:
        write_atomic(str(out), fills_the_disk)
    assert str(e.value) == f"cannot write {out}: No space left on device"
    assert isinstance(e.value, OSError)  # callers that catch OSError still do
    assert out.read_text() == "previous" and not leftovers(tmp_path)


def test_fsync_failure_and_interrupt_leave_nothing(tmp_path, monkeypatch):
    import graph500.energy.atomic as atomic

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(OutputError, match="No space left"):
        write_json_atomic(str(tmp_path / "r.json"), {"a": 1})
    monkeypatch.undo()

    def interrupted(f):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(tmp_path / "r.json"), interrupted)
    assert not (tmp_path / "r.json").exists() and not leftovers(tmp_path)


def test_trace_csv_failure_is_output_error_without_leftovers(tmp_path, monkeypatch):
    from graph500.energy import trace
    rows = [(1.0, 0.0, "start", "", 0.0), (2.0, 1.0, "sample", "", 100.0)]

    def broken_writer(f):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(trace.csv, "writer", broken_writer)
    with pytest.raises(OutputError, match="No space left"):
        trace.write_trace_csv(str(tmp_path / "t.csv"), [(0, "h", rows)], 0.05)
    assert not leftovers(tmp_path) and not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("case", ["dir", "missing_dir", "read_only", "no_ext", "bad_ext", "empty",
                                  "same"])
def test_output_paths_checked_up_front(tmp_path, case):
    kw = {"cray_root": str(tmp_path / "no"), "powercap_root": str(tmp_path / "no"), "nvml": False}
    ro = tmp_path / "ro.csv"
    ro.write_text("")
    ro.chmod(0o444)
    kw.update({"dir": {"trace_path": str(tmp_path)},
               "missing_dir": {"trace_path": str(tmp_path / "no" / "t.csv")},
               "read_only": {"trace_path": str(ro)},
               "no_ext": {"plot_path": str(tmp_path / "plot")},
               "bad_ext": {"plot_path": str(tmp_path / "plot.docx")},
               "empty": {"trace_path": ""},
               "same": {"trace_path": str(tmp_path / "a.png"), "plot_path": str(tmp_path / "a.png")},
               }[case])
    with pytest.raises(EnergyConfigError) as e:
        EnergyConfig(**kw)
    assert "\n" not in str(e.value) and str(e.value).startswith("--energy-")
    assert not leftovers(tmp_path)


def test_good_output_paths_pass(tmp_path):
    cfg = EnergyConfig(trace_path=str(tmp_path / "t.csv"), plot_path=str(tmp_path / "p.svg"))
    cfg.check_outputs()  # the driver may repeat the check on the writing rank
    assert not list(tmp_path.iterdir())  # the check creates nothing


# -- files that are not files ---------------------------------------------------------------------
def test_fifo_as_energy_uj_is_not_measured(tmp_path):
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", 0)
    os.unlink(tmp_path / "intel-rapl:0" / "energy_uj")
    os.mkfifo(tmp_path / "intel-rapl:0" / "energy_uj")
    code = ("import sys; from graph500.energy.rapl import RaplSource\n"
            "from graph500.energy.source import SourceUnavailable\n"
            "try:\n    RaplSource(sys.argv[1])\nexcept SourceUnavailable as e:\n    print(e)\n")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "energy_uj" in res.stdout and "not a regular file but a FIFO" in res.stdout


def test_device_as_name_or_range_is_skipped_or_refused(tmp_path):
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", 0)
    os.unlink(tmp_path / "intel-rapl:0" / "max_energy_range_uj")
    os.symlink("/dev/zero", tmp_path / "intel-rapl:0" / "max_energy_range_uj")
    src = RaplSource(str(tmp_path))  # a range that is not a file is a missing range
    assert any("max_energy_range_uj missing" in n for n in src.notes)
    os.unlink(tmp_path / "intel-rapl:0" / "name")
    os.symlink("/dev/zero", tmp_path / "intel-rapl:0" / "name")
    with pytest.raises(SourceUnavailable, match="no RAPL zones"):
        RaplSource(str(tmp_path))


@pytest.mark.parametrize("what", ["fifo", "/dev/zero"])
def test_ipmi_log_that_is_not_a_file_is_not_measured_and_the_tool_goes_on(tmp_path, what):
    log = "/dev/zero"
    if what == "fifo":
        log = str(tmp_path / "ipmi.fifo")
        os.mkfifo(log)
    res = subprocess.run([sys.executable, "-m", "graph500", "energy", "monitor", "--ipmi-log", log,
                          "--powercap-root", str(tmp_path / "none"), "--cray-root",
                          str(tmp_path / "none"), "--no-nvml", "--", sys.executable, "-c", "pass"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "IPMI not measured" in res.stdout and "not a regular file" in res.stdout


def test_plot_check_without_importing_matplotlib_and_with(tmp_path, monkeypatch):
    cfg = EnergyConfig(plot_path=str(tmp_path / "p.png"))
    cfg.check_outputs(import_matplotlib=True)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(EnergyConfigError, match="needs matplotlib"):
        cfg.check_outputs()
    with pytest.raises(EnergyConfigError, match="needs matplotlib"):
        cfg.check_outputs(import_matplotlib=True)
