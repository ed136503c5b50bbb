"""Cray pm_counters through fake files: node counter only, freshness-consistent reads."""
import pytest

from graph500.energy import EnergyConfig, EnergyMonitor, fakes
from graph500.energy.cray import CraySource
from graph500.energy.source import SourceUnavailable


def test_node_energy_counted_accelerators_only_recorded(tmp_path):
    root = fakes.cray_tree(tmp_path / "pm", energy=1000, accel=(100, 200), freshness=3)
    src = CraySource(str(root))
    assert [(d.label, d.counted) for d in src.domains] == [
        ("node", True), ("accel0", False), ("accel1", False)]
    assert any("accel0, accel1 read, not added: inside the node counter" in n for n in src.notes)
    fakes.cray_tree(root, energy=1600, accel=(400, 300), freshness=4)
    assert src.read(1.0) == [600.0, 300.0, 100.0]
    assert src.describe()["domains"] == ["node"]


def test_freshness_change_during_read_is_retried():
    state = {"freshness": 7, "energy": 1000, "armed": True}

    def energy():
        value = state["energy"]
        if state["armed"]:  # the controller refreshes right after we read the old energy
            state.update(armed=False, energy=1250, freshness=8)
        return f"{value} J 1 us"

    reader = fakes.DictReader({"/pm/energy": energy, "/pm/freshness": lambda: str(state["freshness"])})
    src = CraySource("/pm", reader)
    # the first attempt saw freshness 7 then 8: its energy (1000) was thrown away
    assert src.retries == 1 and src.inconsistent == 0
    state["energy"] = 1300
    assert src.read(1.0) == [50.0]  # from the consistent 1250, not the torn 1000


def test_freshness_never_settles_is_warned():
    count = {"n": 0}

    def freshness():
        count["n"] += 1
        return str(count["n"])

    reader = fakes.DictReader({"/pm/energy": "5 J", "/pm/freshness": freshness})
    src = CraySource("/pm", reader, attempts=3)
    assert src.inconsistent == 1 and "freshness kept changing" in src.warnings[0]


def test_missing_directory(tmp_path):
    with pytest.raises(SourceUnavailable, match="no Cray pm_counters directory"):
        CraySource(str(tmp_path / "none"))


def test_monitor_prefers_cray_node_counter_over_rapl(tmp_path):
    fakes.cray_tree(tmp_path / "pm", energy=10, freshness=1)
    fakes.single_socket(tmp_path / "pc")
    cfg = EnergyConfig(cray_root=str(tmp_path / "pm"), powercap_root=str(tmp_path / "pc"), nvml=False)
    mon = EnergyMonitor(None, cfg)
    mon.start()
    mon.begin("bfs")
    fakes.cray_tree(tmp_path / "pm", energy=70, freshness=2)
    mon.end("bfs")
    result = mon.finish(teps={"bfs": 6e7})
    assert result["method"] == "node counter"
    assert [s["name"] for s in result["sources"]] == ["cray"]
    assert result["phases"]["bfs"]["joules"] == 60.0
    assert any("RAPL and NVML not read" in n for n in result["notes"])
