"""The monitor on one process (comm=None) over fake trees: accounting, MTEPS/W, report, outputs."""
import argparse
import csv
import json
import sys

import pytest

from graph500 import energy
from graph500.energy import EnergyConfig, EnergyConfigError, EnergyMonitor, fakes, report_lines
from graph500.energy.meter import NodeMeter
from graph500.energy.rapl import RaplSource
from graph500.energy.summary import build_result
from graph500.energy.sysfs import FileReader

J = 1_000_000


def config(tmp_path, **kw):
    kw.setdefault("powercap_root", str(tmp_path / "pc"))
    kw.setdefault("cray_root", str(tmp_path / "no-cray"))
    kw.setdefault("nvml", False)
    # these tests step counters instantly (joules in microseconds): a bound far above any real
    # power keeps them about accounting; plausibility has its own tests (test_energy_plausible)
    kw.setdefault("max_watts", 1e12)
    return EnergyConfig(**kw)


def value_of(lines, label):
    hits = [line[32:] for line in lines if line.startswith(label)]
    assert hits, f"no line {label!r} in:\n" + "\n".join(lines)
    return hits[0]


def test_no_counters_at_all_says_not_measured(tmp_path):
    mon = EnergyMonitor(None, config(tmp_path))
    mon.start()
    with mon.phase("run"):
        with mon.phase("bfs"):
            pass
    result = mon.finish(teps={"bfs": 1e9, "sssp": None})
    json.dumps(result)  # JSON-able
    assert result["method"] == "none" and result["nodes_measured"] == 0
    assert result["mteps_per_watt"] == {"bfs": None}
    assert result["phases"]["bfs"]["joules"] is None
    assert len(result["intervals"]["bfs"]) == 1  # kept for energy-join even so
    lines = report_lines(result)
    assert value_of(lines, "energy_method:") == "none"
    assert value_of(lines, "bfs  energy_J:") == "not measured"
    mteps = value_of(lines, "bfs  MTEPS_per_W:")
    assert mteps.startswith("not measured (") and "no powercap directory" in mteps
    assert "GPU not measured: --no-nvml" in result["not_measured"]
    assert not any(line.startswith("sssp") for line in lines)


def test_no_nvml_library_is_a_reason(tmp_path):
    nv = fakes.fake_pynvml(init_error="LibraryNotFound")
    mon = EnergyMonitor(None, config(tmp_path, nvml=True), nvml_module=nv)
    mon.start()
    result = mon.finish()
    assert any(r.startswith("GPU not measured: NVML library") for r in result["not_measured"])


def test_off_measures_nothing(tmp_path):
    fakes.single_socket(tmp_path / "pc")
    mon = EnergyMonitor(None, config(tmp_path, mode="off"))
    mon.start()
    mon.begin("bfs"), mon.end("bfs")
    result = mon.finish(teps={"bfs": 1.0})
    assert result["method"] == "none" and result["not_measured"] == ["energy metering off (--energy off)"]


class DenyEnergy(FileReader):
    def read(self, path):
        if path.endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", path)
        return super().read(path)


def test_permission_denied_run_continues(tmp_path):
    fakes.single_socket(tmp_path / "pc", psys_zone=False)
    mon = EnergyMonitor(None, config(tmp_path), reader_factory=DenyEnergy)
    mon.start()
    mon.begin("bfs"), mon.end("bfs")
    result = mon.finish(teps={"bfs": 1e9})
    text = "\n".join(report_lines(result))
    assert "permission denied" in text and "sudo chmod a+r" in text
    assert result["mteps_per_watt"]["bfs"] is None


def drive(tmp_path, mon, loop=True, loop_teps=None):
    """idle 10 J, bfs 30 J, energy loop 60 J (package-0 only), all inside run."""
    pc = tmp_path / "pc"
    e = {"v": 0}

    def add(joules):
        e["v"] += joules * J
        fakes.set_energy(pc, "intel-rapl:0", e["v"])

    mon.start()
    mon.begin("run")
    for name, joules in [("idle", 10), ("bfs", 30)] + ([("energy_loop_bfs", 60)] if loop else []):
        mon.begin(name)
        add(joules)
        mon.end(name)
        add(1)  # between phases: counted in run only
    mon.end("run")
    return mon.finish(teps={"bfs": 2e9}, loop_teps={"bfs": loop_teps})


def test_phase_accounting_and_mteps_from_energy_loop(tmp_path):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    result = drive(tmp_path, EnergyMonitor(None, config(tmp_path)), loop_teps=2.1e9)
    ph = result["phases"]
    assert (ph["idle"]["joules"], ph["bfs"]["joules"], ph["energy_loop_bfs"]["joules"]) == (10, 30, 60)
    assert ph["run"]["joules"] == pytest.approx(103)
    assert result["method"] == "component sum" and result["nodes_measured"] == 1
    k = result["kernels"]["bfs"]
    assert k["power_phase"] == "energy_loop_bfs"
    loop = ph["energy_loop_bfs"]
    assert result["mteps_per_watt"]["bfs"] == pytest.approx(2e9 / 1e6 / (60 / loop["seconds"]))
    assert result["idle_W"] == pytest.approx(10 / ph["idle"]["seconds"])
    assert not any("differs from the official" in w for w in result["warnings"])  # 5 % apart
    assert any("shorter than the 60 s EEHPC" in w for w in result["warnings"])
    assert "DRAM of package-0 not measured: no dram zone" in result["not_measured"]
    lines = report_lines(result)
    assert value_of(lines, "bfs  energy_J:") == "30"
    assert "power from energy_loop_bfs" in value_of(lines, "bfs  MTEPS_per_W:")
    assert value_of(lines, "bfs  energy_loop_TEPS:") == "2.1e+09"
    assert value_of(lines, "energy_domains:") == "rapl:package-0"
    assert value_of(lines, "energy_nodes_measured:") == "1/1"
    assert all(len(line) > 32 and line[31] == " " for line in lines)  # values start at column 33


def test_kernel_phase_power_without_loop_and_loop_teps_warning(tmp_path):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    result = drive(tmp_path, EnergyMonitor(None, config(tmp_path)), loop=False)
    bfs = result["phases"]["bfs"]
    assert result["kernels"]["bfs"]["power_phase"] == "bfs"
    assert result["mteps_per_watt"]["bfs"] == pytest.approx(2e9 / 1e6 / (30 / bfs["seconds"]))
    tmp2 = tmp_path / "b"
    fakes.powercap_zone(tmp2 / "pc", "intel-rapl:0", "package-0")
    result = drive(tmp2, EnergyMonitor(None, config(tmp2)), loop_teps=1.5e9)
    assert any("differs from the official" in w and "25 %" in w for w in result["warnings"])


def test_phases_accumulate_over_many_entries(tmp_path):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    mon = EnergyMonitor(None, config(tmp_path))
    mon.start()
    for i in range(64):
        mon.begin("bfs")
        fakes.set_energy(tmp_path / "pc", "intel-rapl:0", (i + 1) * J)
        mon.end("bfs")
    result = mon.finish(teps={"bfs": 1e6})
    assert result["phases"]["bfs"]["count"] == 64 and result["phases"]["bfs"]["joules"] == 64
    assert len(result["intervals"]["bfs"]) == 64
    assert all(a <= b for a, b in result["intervals"]["bfs"])


def test_wraps_between_edges_are_kept_by_sampling(tmp_path):
    """Three wraps inside one phase: each is seen by a sample in between, none is lost."""
    rng = 1000 * J
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", 0, max_range=rng)
    meter = NodeMeter([RaplSource(str(tmp_path), max_watts=1e12)])
    meter.start()
    meter.begin("bfs")
    total = 0
    for _ in range(6):
        total += 600 * J
        fakes.set_energy(tmp_path, "intel-rapl:0", total % (rng + 1))
        meter.sample()
    meter.end("bfs")
    rec = meter.records["bfs"]
    assert rec.wraps == 3 and rec.complete
    assert rec.joules == pytest.approx(3600)
    assert rec.samples == 8


def test_lost_interval_makes_mteps_null(tmp_path):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0", 5 * J, max_range=None)
    mon = EnergyMonitor(None, config(tmp_path))
    mon.start()
    mon.begin("bfs")
    fakes.set_energy(tmp_path / "pc", "intel-rapl:0", 1 * J)
    mon.end("bfs")
    result = mon.finish(teps={"bfs": 1e9})
    assert result["phases"]["bfs"]["joules"] == 0 and result["phases"]["bfs"]["lost"] == 1
    assert result["mteps_per_watt"]["bfs"] is None
    assert "incomplete" in result["kernels"]["bfs"]["reason"]


def test_trace_csv_and_plot(tmp_path):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    cfg = config(tmp_path, trace_path=str(tmp_path / "trace.csv"), plot_path=str(tmp_path / "p.png"),
                 interval=0.01)
    mon = EnergyMonitor(None, cfg)
    mon.start()
    with mon.phase("bfs"):
        fakes.set_energy(tmp_path / "pc", "intel-rapl:0", 3 * J)
        import time
        time.sleep(0.05)
    result = mon.finish(teps={"bfs": 1e9})
    rows = list(csv.DictReader(open(tmp_path / "trace.csv")))
    kinds = {r["kind"] for r in rows}
    assert {"start", "begin", "end", "sample"} <= kinds
    assert [r["phase"] for r in rows if r["kind"] in ("begin", "end")] == ["bfs", "bfs"]
    assert float(rows[-1]["joules"]) == 3.0
    assert (tmp_path / "p.png").stat().st_size > 1000 and result["plot"] == str(tmp_path / "p.png")
    assert value_of(report_lines(result), "energy_trace:") == str(tmp_path / "trace.csv")


def test_plot_without_matplotlib_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(EnergyConfigError, match="--energy-plot needs matplotlib"):
        config(tmp_path, plot_path=str(tmp_path / "p.png"))


def test_plot_without_matplotlib_at_the_end_says_so_and_continues(tmp_path, monkeypatch, capsys):
    fakes.powercap_zone(tmp_path / "pc", "intel-rapl:0", "package-0")
    mon = EnergyMonitor(None, config(tmp_path, plot_path=str(tmp_path / "p.png")))
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # vanished during the run
    mon.start()
    result = mon.finish()
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert result["plot"] is None and any("matplotlib" in w for w in result["warnings"])
    assert not (tmp_path / "p.png").exists()


def test_phase_misuse_raises():
    mon = EnergyMonitor(None, EnergyConfig(mode="off"))
    mon.begin("bfs")
    with pytest.raises(ValueError, match="begun twice"):
        mon.begin("bfs")
    with pytest.raises(ValueError, match="ended without begin"):
        mon.end("sssp")
    result = mon.finish()  # an open phase is closed at finish, with a warning
    assert any("still open" in w for w in result["warnings"])


def test_arguments_and_config_validation(tmp_path):
    p = argparse.ArgumentParser()
    energy.add_arguments(p)
    cfg = EnergyConfig.from_args(p.parse_args([]))
    assert (cfg.mode, cfg.interval, cfg.nvml, cfg.ipmi) == ("auto", 0.1, True, False)
    cfg = EnergyConfig.from_args(p.parse_args(["--energy", "off", "--no-nvml", "--energy-interval", "0.5",
                                               "--powercap-root", "/x/{node}"]))
    assert (cfg.mode, cfg.nvml, cfg.interval) == ("off", False, 0.5)
    assert cfg.path_for("powercap", "3", env={}) == "/x/3"
    assert cfg.path_for("powercap", "1", env={"GRAPH500_POWERCAP_ROOT": "/y"}) == "/x/1"
    assert EnergyConfig().path_for("cray", "0", env={"GRAPH500_CRAY_ROOT": "/c{node}"}) == "/c0"
    assert EnergyConfig().path_for("powercap", "0", env={}) == "/sys/class/powercap"
    for bad in (["--energy-interval", "0"], ["--energy-interval", "5"], ["--energy-interval", "nan"],
                ["--energy-trace", str(tmp_path / "no" / "t.csv")]):
        with pytest.raises(EnergyConfigError):
            EnergyConfig.from_args(p.parse_args(bad))
    with pytest.raises(EnergyConfigError, match="GRAPH500_ENERGY_NODES"):
        EnergyConfig(node_map="0,x")
    assert EnergyConfig.from_args(argparse.Namespace()).mode == "auto"  # flags the parser lacks


def test_partial_nodes_and_double_counting_are_stated():
    def node(i, method, files=(), joules=10.0):
        phases = {"bfs": {"count": 1, "seconds": 1.0, "joules": joules, "samples": 3, "wraps": 0,
                          "lost": 0, "complete": True, "largest_gap_s": 0.1}} if method != "none" else {}
        return {"node": i, "host": "h", "method": method, "not_measured": [] if method != "none" else
                ["CPU not measured: no powercap directory /sys/class/powercap"],
                "files": list(files), "phases": phases, "sources": [], "notes": [], "warnings": []}
    rank0 = {"bfs": {"count": 1, "seconds": 1.0, "intervals": [[0.0, 1.0]]}}
    r = build_result(nodes=[node(0, "component sum", ["/a"]), node(1, "none")], nnodes=2,
                     rank0_phases=rank0, teps={"bfs": 1e9})
    assert r["mteps_per_watt"]["bfs"] is None and "only 1/2 nodes measured" in r["kernels"]["bfs"]["reason"]
    assert r["not_measured"][0].startswith("1 of 2 nodes have no counter")
    assert "node 1: CPU not measured" in r["not_measured"][1]
    r = build_result(nodes=[node(0, "component sum", ["/a"]), node(1, "component sum", ["/a"])],
                     nnodes=2, rank0_phases=rank0, teps={"bfs": 1e9})
    assert r["phases"]["bfs"]["joules"] == 20.0
    assert any("counted twice" in w for w in r["warnings"])


def test_gpu_only_coverage_gives_no_mteps_per_watt():
    """Seen on a GPU machine without RAPL: NVML measured the idle GPU, the CPUs doing the
    searches were not measured; the GPU's watts must not stand under MTEPS/W."""
    node = {"node": 0, "host": "h", "method": "component sum", "files": ["nvml:gpu0"],
            "not_measured": ["CPU not measured: no powercap directory /sys/class/powercap"],
            "phases": {"bfs": {"count": 1, "seconds": 1.0, "joules": 75.0, "samples": 10,
                               "wraps": 0, "lost": 0, "complete": True, "largest_gap_s": 0.1}},
            "sources": [], "notes": [], "warnings": []}
    rank0 = {"bfs": {"count": 1, "seconds": 1.0, "intervals": [[0.0, 1.0]]}}
    r = build_result(nodes=[node], nnodes=1, rank0_phases=rank0, teps={"bfs": 1e9})
    assert r["mteps_per_watt"]["bfs"] is None
    assert r["kernels"]["bfs"]["reason"].startswith("the searches run on the CPUs")
    assert r["kernels"]["bfs"]["watts"] == 75.0          # the GPU energy is still reported


class Exploding(FileReader):
    def listdir(self, path):
        raise RuntimeError("boom")


def test_unexpected_probe_failure_is_a_reason_not_a_crash(tmp_path):
    mon = EnergyMonitor(None, config(tmp_path), reader_factory=Exploding)
    mon.start()
    result = mon.finish()
    assert result["method"] == "none"
    assert any("unexpected RuntimeError while probing: boom" in r for r in result["not_measured"])


def test_slow_edge_reads_are_warned():
    node = {"node": 0, "host": "h", "method": "component sum", "not_measured": [], "files": ["/a"],
            "phases": {}, "sources": [], "notes": [], "warnings": [],
            "edge_read_s": {"count": 2, "max": 0.004, "mean": 0.003}}
    r = build_result(nodes=[node], nnodes=1, rank0_phases={}, teps={})
    assert any("phase-edge read took up to 4 ms" in w for w in r["warnings"])
