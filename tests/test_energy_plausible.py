"""Issue 11.1: a counter reset, jump or freeze and an impossible power reading are never energy.

Each case of the issue: a reset to 0 during the energy loop (65,331 W and an MTEPS/W 650x too
low before), jumps of -5 kJ and +500 kJ, a frozen zone (25 W instead of 100 W before), an IPMI
log with nan/inf, 1e12 W. Deterministic cases use fake clocks; two run a thread-driven tree in
real time through the monitor, as the benchmark does.
"""
import json
import math
import time

import pytest

from graph500.energy import EnergyConfig, EnergyMonitor, fakes, plausible, report_lines
from graph500.energy.atomic import write_json_atomic
from graph500.energy.cray import CraySource
from graph500.energy.ipmi import IpmiSource
from graph500.energy.meter import NodeMeter
from graph500.energy.nvml import NvmlSource
from graph500.energy.rapl import RaplSource

J = 1_000_000
MAX = fakes.MAX_RANGE_UJ


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class Busy:
    """CpuBusy stand-in: snapshots whose busy share is set by the test."""

    def __init__(self, busy=True):
        self.busy, self.n = busy, 0

    def snapshot(self):
        self.n += 100
        return (self.n if self.busy else 0, self.n, 1)


def psys_tree(tmp_path, uj=0):
    fakes.powercap_zone(tmp_path, "intel-rapl:1", "psys", uj)
    return tmp_path


def steady(meter, clock, tmp_path, start_uj, seconds, watts=100.0, step=0.1, zone="intel-rapl:1"):
    """Advance the fake counter at `watts` for `seconds`, a sampler read every `step`."""
    e = start_uj
    for _ in range(round(seconds / step)):
        clock.t += step
        e += int(watts * step * J)
        fakes.set_energy(tmp_path, zone, e % (MAX + 1))
        meter.sample()
    return e


def run_phases(tmp_path, event, busy=True, start=10 * J):
    """bfs (2 s at 100 W), then the energy loop (4 s at 100 W) with `event` in its middle."""
    clock = Clock()
    src = RaplSource(str(psys_tree(tmp_path, start)), busy=Busy(busy))
    meter = NodeMeter([src], clock=clock, wall=clock)
    meter.start()
    meter.begin("bfs")
    e = steady(meter, clock, tmp_path, start, 2.0)
    meter.end("bfs")
    meter.begin("energy_loop_bfs")
    e = steady(meter, clock, tmp_path, e, 2.0)
    e = event(meter, clock, e)
    steady(meter, clock, tmp_path, e, 2.0)
    meter.end("energy_loop_bfs")
    return meter


def summary_of(meter, teps=1e9):
    from graph500.energy.summary import build_result
    node = {"node": 0, "label": "0", "host": "h", "leader_rank": 0, "method": "component sum",
            "sources": [s.describe() for s in meter.sources], "not_measured": [], "notes": [],
            "files": []}
    node.update(meter.summary())
    clock_phases = {k: {"count": r.count, "seconds": r.seconds, "intervals": []}
                    for k, r in meter.records.items()}
    return build_result(nodes=[node], nnodes=1, rank0_phases=clock_phases, teps={"bfs": teps},
                        loop_teps={"bfs": teps})


def test_steady_100_w_is_complete_and_exact(tmp_path):
    meter = run_phases(tmp_path, lambda m, c, e: e)
    loop = meter.records["energy_loop_bfs"]
    assert loop.complete and loop.joules / loop.seconds == pytest.approx(100.0, rel=1e-6)
    result = summary_of(meter)
    assert result["mteps_per_watt"]["bfs"] == pytest.approx(1e9 / 1e6 / 100.0, rel=1e-6)


@pytest.mark.parametrize("name, to", [("reset to 0", lambda e: 0),
                                      ("jump of -5 kJ", lambda e: e - 5000 * J),
                                      ("jump of +500 kJ", lambda e: e + 500_000 * J)])
def test_reset_or_jump_in_the_energy_loop_is_a_gap_and_withholds_mteps(tmp_path, name, to):
    def event(meter, clock, e):
        clock.t += 0.1
        new = to(e) % (MAX + 1)
        fakes.set_energy(tmp_path, "intel-rapl:1", new)
        meter.sample()
        return new

    meter = run_phases(tmp_path, event, start=6000 * J)  # -5 kJ needs more than 5 kJ to go back

    loop, bfs = meter.records["energy_loop_bfs"], meter.records["bfs"]
    assert bfs.complete and bfs.joules / bfs.seconds == pytest.approx(100.0, rel=1e-6)
    assert not loop.complete and loop.lost == 1 and loop.wraps == 0
    # the gap's interval is left out, never invented: 4 s at 100 W of the 4.1 s are counted
    assert loop.joules == pytest.approx(400.0, rel=1e-6)
    assert loop.joules / loop.seconds < 100.0
    assert any("rapl psys" in r and ("went back" in r or "jumped" in r) for r in loop.reasons)
    result = summary_of(meter)
    k = result["kernels"]["bfs"]
    assert result["mteps_per_watt"]["bfs"] is None and k["mteps_per_watt"] is None
    assert "energy_loop_bfs energy incomplete" in k["reason"] and "rapl psys" in k["reason"]
    assert result["phases"]["energy_loop_bfs"]["incomplete_reasons"] == loop.reasons
    lines = report_lines(result)
    mteps_line = [line for line in lines if line.startswith("bfs  MTEPS_per_W:")]
    assert mteps_line[0][32:].startswith("not measured (energy_loop_bfs energy incomplete")
    loop_w = [line for line in lines if line.startswith("bfs  energy_loop_W:")][0][32:]
    assert loop_w.endswith("(incomplete, see MTEPS_per_W)")
    assert "incomplete" not in [line for line in lines if line.startswith("bfs  energy_J:")][0]


def test_a_real_wrap_is_still_a_wrap(tmp_path):
    def event(meter, clock, e):
        clock.t += 0.1
        fakes.set_energy(tmp_path, "intel-rapl:1", MAX - 3 * J)  # 100 W brings it near the top
        meter.sample()
        return MAX - 3 * J

    meter = run_phases(tmp_path, event)
    # the event's own step (to MAX - 3 J) is a jump: that one is a gap; the wrap after it is not
    loop = meter.records["energy_loop_bfs"]
    assert loop.wraps == 1 and loop.lost == 1


def test_wrap_exactly_at_the_top_is_plausible():
    kind, delta = plausible.counter_step(MAX - 5 * J, 5 * J, 0.1, MAX, 200.0, scale=1e-6)
    assert kind == "wrap" and delta * 1e-6 == pytest.approx(10.0, abs=1e-5)
    kind, why = plausible.counter_step(50 * J, 0, 0.1, MAX, 200.0, scale=1e-6)
    assert kind == "gap" and "went back" in why


def test_frozen_zone_while_busy_is_flagged(tmp_path):
    def freeze(meter, clock, e):
        for _ in range(25):  # 2.5 s flat while the CPUs are busy
            clock.t += 0.1
            meter.sample()
        return e

    meter = run_phases(tmp_path, freeze)
    loop = meter.records["energy_loop_bfs"]
    assert not loop.complete and loop.lost >= 1
    assert any("frozen zone" in r for r in loop.reasons)
    result = summary_of(meter)
    assert result["mteps_per_watt"]["bfs"] is None and "frozen" in result["kernels"]["bfs"]["reason"]


def test_flat_counter_on_an_idle_machine_is_not_frozen(tmp_path):
    def flat(meter, clock, e):
        for _ in range(25):
            clock.t += 0.1
            meter.sample()
        return e

    meter = run_phases(tmp_path, flat, busy=False)
    assert meter.records["energy_loop_bfs"].complete


def test_short_flat_stretch_is_not_frozen(tmp_path):
    def flat(meter, clock, e):
        for _ in range(15):  # 1.5 s: below FROZEN_S
            clock.t += 0.1
            meter.sample()
        return e

    assert run_phases(tmp_path, flat).records["energy_loop_bfs"].complete


def test_hardware_limit_from_constraint_files_sets_the_bound(tmp_path):
    z = fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", 0)
    fakes.write_value(z / "constraint_0_max_power_uw", 150 * J)  # 150 W TDP
    fakes.write_value(z / "constraint_1_max_power_uw", 0)
    src = RaplSource(str(tmp_path))
    assert src.limits["package-0"]["max_W"] == pytest.approx(150 * plausible.HEADROOM)
    src.read(0.0)
    fakes.set_energy(tmp_path, "intel-rapl:0", 400 * J)  # 400 W for 1 s: within 3 x 150 W
    src.read(1.0)
    fakes.set_energy(tmp_path, "intel-rapl:0", 1000 * J)  # 600 W: not
    src.read(2.0)
    assert src.lost == 1 and src.read(2.0) == [400.0]
    configured = RaplSource(str(tmp_path), max_watts=50.0)
    assert configured.limits["package-0"] == {"max_W": 50.0, "from": "configured"}


def test_defaults_per_domain_type():
    assert plausible.max_watts("package-1")[0] == plausible.DEFAULT_MAX_WATTS["package"]
    assert plausible.max_watts("dram(package-0)")[0] == plausible.DEFAULT_MAX_WATTS["dram"]
    assert plausible.max_watts("psys")[0] == plausible.DEFAULT_MAX_WATTS["psys"]
    assert plausible.max_watts("gpu0")[0] == plausible.DEFAULT_MAX_WATTS["gpu"]
    assert plausible.max_watts("node")[0] == plausible.DEFAULT_MAX_WATTS["node"]


def test_cray_node_counter_reset_is_a_gap(tmp_path):
    fakes.cray_tree(tmp_path, energy=1000)
    src = CraySource(str(tmp_path), busy=Busy())
    src.read(0.0)
    fakes.cray_tree(tmp_path, energy=1100, freshness=1)
    assert src.read(1.0) == [100.0]
    fakes.cray_tree(tmp_path, energy=5, freshness=2)  # controller restarted
    assert src.read(2.0) == [100.0] and src.lost == 1
    fakes.cray_tree(tmp_path, energy=10_000_000, freshness=3)  # 10 MJ in a second
    assert src.read(3.0) == [100.0] and src.lost == 2


# -- power sources: IPMI, NVML ------------------------------------------------------------------
def ipmi_log(path, rows):
    path.write_text("time,watts\n" + "".join(f"{t},{w}\n" for t, w in rows))


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "-20", "1e12"])
def test_ipmi_impossible_readings_rejected_and_phase_says_so(tmp_path, bad):
    log = tmp_path / "ipmi.csv"
    now = 1_700_000_000.0
    ipmi_log(log, [(now, 100.0)])
    src = IpmiSource(str(log), wait=0, clock=lambda: now)
    clock = Clock()
    meter = NodeMeter([src], clock=clock, wall=clock)
    meter.start()
    meter.begin("bfs")
    for i in range(20):
        clock.t += 0.5
        with open(log, "a") as f:
            f.write(f"{now},{bad if i in (5, 6) else 100.0}\n")
        meter.sample()
    meter.end("bfs")
    bfs = meter.records["bfs"]
    assert src.rejected == 2 and bfs.rejected == 2 and not bfs.complete
    assert math.isfinite(bfs.joules) and bfs.joules == pytest.approx(1000.0)  # held at 100 W
    assert any("ipmi: reading rejected" in r for r in bfs.reasons)
    result = summary_of(meter)
    assert result["mteps_per_watt"]["bfs"] is None
    assert "rests on 2 rejected power reading(s)" in result["kernels"]["bfs"]["reason"]
    out = tmp_path / "r.json"
    write_json_atomic(str(out), result)
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()


def test_ipmi_log_of_nothing_but_nan_is_not_measured(tmp_path):
    from graph500.energy.source import SourceUnavailable
    log = tmp_path / "ipmi.csv"
    ipmi_log(log, [(1.0, "nan"), (2.0, "inf")])
    with pytest.raises(SourceUnavailable, match="no plausible reading.*2 rejected"):
        IpmiSource(str(log), wait=0)


def test_nvml_power_above_bound_rejected_and_energy_counter_reset_is_a_gap():
    gpu = fakes.FakeGpu(energy_supported=False, power_mw=300_000)
    nv = fakes.fake_pynvml([gpu])
    clock = Clock()
    src = NvmlSource(nv, clock=clock)
    src.read(clock.t)
    clock.t += 1
    gpu.power_mw = 1e15  # 1e12 W
    src.read(clock.t)
    clock.t += 1
    gpu.power_mw = 300_000
    (joules,) = src.read(clock.t)
    assert src.rejected == 1 and joules == pytest.approx(600.0)  # held 300 W
    gpu2 = fakes.FakeGpu(energy_mj=5_000_000)
    nv2 = fakes.fake_pynvml([gpu2])
    src2 = NvmlSource(nv2, clock=clock)
    clock.t += 1
    gpu2.energy_mj = 5_300_000
    assert src2.read(clock.t) == [300.0]
    clock.t += 1
    gpu2.energy_mj = 0  # driver reloaded
    assert src2.read(clock.t) == [300.0] and src2.lost == 1


def test_json_writer_never_writes_nan(tmp_path):
    out = tmp_path / "x.json"
    write_json_atomic(str(out), {"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": -float("inf")}})
    assert json.loads(out.read_text()) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


# -- real time, through the monitor, the way the benchmark drives it ----------------------------
class PoweredTree(fakes.DrivenTree):
    """psys at `watts` from a thread; setting `frozen` stops it advancing, setting `reset` puts
    it back to 0 (and freezes it there)."""

    def __init__(self, root, watts=100.0):
        super().__init__(root)
        self.watts = watts
        fakes.powercap_zone(root, "intel-rapl:1", "psys", 0)
        self.frozen = self.reset = False

    def step(self, elapsed):
        # The thread is the counter's only writer: a reset asked for by the test is done here,
        # so no advance can land just after it (that raced, and read as a plausible +110 J).
        if self.reset:
            fakes.set_energy(self.root, "intel-rapl:1", 0)
            self.frozen, self.reset = True, False
        elif not self.frozen:
            fakes.set_energy(self.root, "intel-rapl:1", int(elapsed * self.watts * J))


def spin(seconds):
    """Keep a CPU busy, as the searches do (the frozen check looks at the CPUs)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.mark.parametrize("case", ["reset", "frozen"])
def test_monitor_real_time_reset_and_frozen_in_the_energy_loop(tmp_path, case):
    with PoweredTree(tmp_path / "pc") as tree:
        cfg = EnergyConfig(powercap_root=str(tmp_path / "pc"), cray_root=str(tmp_path / "no"),
                           nvml=False, interval=0.05)
        mon = EnergyMonitor(None, cfg)
        mon.start()
        with mon.phase("bfs"):
            spin(0.6)
        with mon.phase("energy_loop_bfs"):
            spin(0.4)
            if case == "reset":  # the counter goes to 0 and stays there briefly (no freeze flag)
                tree.reset = True
                spin(0.3)
            else:
                tree.frozen = True
                spin(2.6)
        result = mon.finish(teps={"bfs": 1e9}, loop_teps={"bfs": 1e9})
    bfs, loop = result["phases"]["bfs"], result["phases"]["energy_loop_bfs"]
    assert bfs["complete"] and bfs["watts"] == pytest.approx(100.0, rel=0.2)
    assert not loop["complete"] and loop["incomplete_reasons"]
    assert result["mteps_per_watt"]["bfs"] is None
    reason = result["kernels"]["bfs"]["reason"]
    assert ("went back" in reason) if case == "reset" else ("frozen" in reason)
    assert loop["watts"] < 150  # never the 65 kW a wrap would have invented


def test_nodes_far_apart_are_warned_about():
    from graph500.energy.summary import build_result

    def node(i, watts):
        return {"node": i, "label": str(i), "host": f"h{i}", "leader_rank": 2 * i,
                "method": "component sum", "sources": [], "not_measured": [], "notes": [],
                "files": [f"/x{i}"], "phases": {"bfs": {"count": 1, "seconds": 10.0,
                                                         "joules": 10.0 * watts, "samples": 100,
                                                         "wraps": 0, "lost": 0, "complete": True,
                                                         "largest_gap_s": 0.1}}}

    clock = {"bfs": {"count": 1, "seconds": 10.0, "intervals": []}}
    three = build_result(nodes=[node(0, 200), node(1, 210), node(2, 5000)], nnodes=3,
                         rank0_phases=clock, teps={"bfs": 1e9})
    assert any(w.startswith("node 2: 5000 W during bfs, against a median of 210 W") for w in three["warnings"])
    assert not any(w.startswith(("node 0:", "node 1:")) for w in three["warnings"])
    two = build_result(nodes=[node(0, 200), node(1, 20)], nnodes=2, rank0_phases=clock,
                       teps={"bfs": 1e9})
    assert any("nodes 1 and 0 drew 20 W and 200 W during bfs" in w for w in two["warnings"])
    fine = build_result(nodes=[node(0, 200), node(1, 180)], nnodes=2, rank0_phases=clock,
                        teps={"bfs": 1e9})
    assert not any("drew" in w for w in fine["warnings"])
