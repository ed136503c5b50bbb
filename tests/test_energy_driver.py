"""The energy module inside a real benchmark run: a fake powercap tree whose counters a thread
advances at a known power while `mpiexec -n 2 python -m graph500` runs."""
import json

import pytest

from graph500.energy import fakes
from mpi_util import run_mpi

WATTS = 100.0
ARGS = ["-m", "graph500", "-s", "10", "--roots", "8", "--no-nvml"]


class PoweredTree(fakes.DrivenTree):
    """psys draws WATTS; the package (inside psys) 80 % of it, repeated by the mmio zone."""

    def __init__(self, root):
        super().__init__(root)
        fakes.single_socket(root, mmio=True)

    def step(self, elapsed):
        e = int(elapsed * WATTS * 1e6)
        fakes.set_energy(self.root, "intel-rapl:1", e)
        fakes.set_energy(self.root, "intel-rapl:0", int(e * 0.8))
        fakes.set_energy(self.root, "intel-rapl-mmio:0", int(e * 0.8))


def reference_part(stdout):
    """The lines before the first energy line: the reference block."""
    lines = stdout.splitlines()
    first = next(i for i, l in enumerate(lines) if l.startswith("energy_"))
    return lines[:first], lines[first:]


@pytest.fixture(scope="module")
def metered_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("energy")
    out = d / "r.json"
    with PoweredTree(d / "powercap"):
        res = run_mpi(2, ARGS + ["--powercap-root", str(d / "powercap"), "--energy-loop", "1",
                                 "--energy-trace", str(d / "trace.csv"), "--json", str(out),
                                 "--quiet"])
    assert res.returncode == 0, res.stderr
    return res, json.loads(out.read_text()), d


def test_reference_block_unchanged_by_energy(metered_run):
    res, _, _ = metered_run
    plain = run_mpi(2, ARGS + ["--energy", "off", "--quiet"])
    assert plain.returncode == 0, plain.stderr
    ours, extra = reference_part(res.stdout)
    ref, _ = reference_part(plain.stdout)
    assert len(ours) == len(ref) == 55              # the full BFS + SSSP block
    assert [l[:32] for l in ours] == [l[:32] for l in ref]
    assert ours[:3] == ref[:3]                      # SCALE, edgefactor, NBFS
    assert any(l.startswith("bfs  energy_J:") for l in extra)


def test_energy_lines_and_json_are_consistent(metered_run):
    res, r, d = metered_run
    e = r["energy"]
    assert e["method"] != "none"
    for k in ("bfs", "sssp"):
        ke = e["kernels"][k]
        # the energy loop ran, so its steady power is the one MTEPS/W uses
        assert ke["power_phase"] == "energy_loop_" + k
        assert ke["power_W"] == pytest.approx(WATTS, rel=0.1)
        assert e["mteps_per_watt"][k] == pytest.approx(
            r[k]["harmonic_mean_TEPS"] / 1e6 / ke["power_W"], rel=1e-9)
        assert r[k]["energy_loop"]["searches"] >= 1
        line = [l for l in res.stdout.splitlines() if l.startswith(("bfs  " if k == "bfs" else "sssp ") + "MTEPS_per_W:")]
        assert len(line) == 1
        assert float(line[0][32:].split()[0]) == pytest.approx(e["mteps_per_watt"][k], rel=1e-5)
    # psys alone: the package and its mmio repeat are inside it, never added on top
    run = e["phases"]["run"]
    assert run["watts"] == pytest.approx(WATTS, rel=0.1)
    assert (d / "trace.csv").read_text().count("\n") > 5


def test_no_counters_says_not_measured_and_exits_0(tmp_path):
    out = tmp_path / "r.json"
    res = run_mpi(2, ARGS + ["--powercap-root", str(tmp_path / "none"), "--kernels", "bfs",
                             "--json", str(out), "--quiet"])
    assert res.returncode == 0, res.stderr
    assert "not measured" in res.stdout
    e = json.loads(out.read_text())["energy"]
    assert e["method"] == "none"
    assert e["mteps_per_watt"]["bfs"] is None


def test_energy_join_on_a_real_result(metered_run, tmp_path):
    """A wall meter log at a constant 250 W over the run: every phase averages 250 W."""
    from graph500.energy.join import main as join_main
    _, r, d = metered_run
    intervals = r["energy"]["intervals"]
    t_lo = min(iv[0] for ivs in intervals.values() for iv in ivs) - 2
    t_hi = max(iv[1] for ivs in intervals.values() for iv in ivs) + 2
    csv = tmp_path / "meter.csv"
    rows = ["time,watts"]
    t = t_lo
    while t <= t_hi:
        rows.append("%.3f,250" % t)
        t += 0.01
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "joined.json"
    assert join_main([str(d / "r.json"), str(csv), "--time-col", "time", "--power-col", "watts",
                      "-o", str(out)]) == 0
    meter = json.loads(out.read_text())["energy"]["external_meter"]
    assert meter["method"] == "external meter"
    for name in ("run", "bfs", "sssp", "energy_loop_bfs", "validation"):
        assert meter["phases"][name]["watts"] == pytest.approx(250, rel=0.01), name
    # every phase here is far shorter than the EEHPC minute
    assert any("shorter than 60 s" in f for f in meter["phases"]["bfs"]["flags"])
    for k in ("bfs", "sssp"):
        assert meter["mteps_per_watt"][k] == pytest.approx(
            r[k]["harmonic_mean_TEPS"] / 1e6 / 250, rel=0.01)
