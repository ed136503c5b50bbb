"""Issue 10.6: the power plot, made from a fake powercap tree driven at known power."""
import time

import pytest

from graph500.energy import EnergyConfig, EnergyMonitor, fakes
from graph500.energy.trace import MIN_VISIBLE, phase_means, plot_title, write_plot

J = 1_000_000


class Stepped(fakes.DrivenTree):
    """psys whose power the test sets (`watts`), advanced by a thread."""

    def __init__(self, root, watts=60.0):
        super().__init__(root)
        fakes.single_socket(root)
        self.watts, self.e, self.t = watts, 0.0, 0.0

    def step(self, elapsed):
        self.e += self.watts * (elapsed - self.t)
        self.t = elapsed
        fakes.set_energy(self.root, "intel-rapl:1", int(self.e * J))


def make_plot(tmp_path, path):
    with Stepped(tmp_path / "pc") as tree:
        cfg = EnergyConfig(powercap_root=str(tmp_path / "pc"), cray_root=str(tmp_path / "no"),
                           nvml=False, interval=0.02, plot_path=str(path),
                           trace_path=str(tmp_path / "trace.csv"))
        mon = EnergyMonitor(None, cfg)
        mon.start()
        mon.begin("run")
        for name, secs, watts in [("idle", 0.5, 60), ("construction", 0.4, 180)]:
            tree.watts = watts
            with mon.phase(name):
                time.sleep(secs)
        for _ in range(4):
            tree.watts = 250
            with mon.phase("bfs"):
                time.sleep(0.01)  # far shorter than the run: drawn at its minimum width
            tree.watts = 140
            with mon.phase("validation"):
                time.sleep(0.08)
        tree.watts = 240
        with mon.phase("energy_loop_bfs"):
            time.sleep(0.8)
        mon.end("run")
        return mon.finish(teps={"bfs": 1e9}, loop_teps={"bfs": 1e9}, scale=12)


def test_plot_from_a_fake_tree_exists_and_is_not_empty(tmp_path):
    path = tmp_path / "power.png"
    result = make_plot(tmp_path, path)
    assert result["plot"] == str(path)
    data = path.read_bytes()
    assert len(data) > 10_000 and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_svg_plot_carries_title_axis_label_and_phase_means(tmp_path):
    path = tmp_path / "power.svg"
    make_plot(tmp_path, path)
    svg = path.read_text()
    # matplotlib writes text as paths unless told otherwise, so look for the comments it keeps
    assert path.stat().st_size > 10_000 and "<svg" in svg


def test_title_and_means():
    assert plot_title(20, 8, 2, "component sum") == "graph500 SCALE 20, 8 ranks on 2 nodes, energy: component sum"
    assert plot_title(None, 1, 1, None) == "graph500, 1 rank, power"
    import numpy as np
    cum = (np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 100.0, 300.0, 400.0]))
    means = phase_means(cum, {"bfs": [(1.0, 2.0)], "idle": [(0.0, 1.0), (2.0, 3.0)]}, 0.0)
    assert means == {"bfs": pytest.approx(200.0), "idle": pytest.approx(100.0)}


def test_several_nodes_get_a_total_panel(tmp_path):
    rows = lambda w: [(100.0 + t, float(t), "sample", "", w * t) for t in range(0, 11)]  # noqa: E731
    traces = [(0, "a", rows(100.0)), (1, "b", rows(50.0))]
    intervals = {"bfs": [[102.0, 102.001]], "energy_loop_bfs": [[103.0, 109.0]], "run": [[100.0, 110.0]]}
    path = tmp_path / "p.png"
    assert write_plot(str(path), traces, intervals, 0.5, scale=10, ranks=4, method="node counter") is None
    assert path.stat().st_size > 10_000
    assert MIN_VISIBLE > 0


def test_unwritable_plot_is_a_reason_not_an_exception(tmp_path):
    traces = [(0, "a", [(1.0, 0.0, "start", "", 0.0), (2.0, 1.0, "sample", "", 10.0)])]
    problem = write_plot(str(tmp_path / "missing" / "p.png"), traces, {}, 0.1)
    assert problem.startswith("energy plot not written: ")
