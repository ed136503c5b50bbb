"""Issue 10.5: `graph500 energy probe`, `graph500 energy monitor` and the Python API (energy.Meter)."""
import json
import os
import subprocess
import sys
import time

import pytest

from graph500.energy import Meter, fakes
from graph500.energy.tool import main
from mpi_util import run_mpi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
J = 1_000_000


class PoweredPsys(fakes.DrivenTree):
    """A fake powercap tree whose psys counter a thread advances at `watts`."""

    def __init__(self, root, watts=100.0):
        super().__init__(root)
        self.watts = watts
        fakes.single_socket(root)

    def step(self, elapsed):
        fakes.set_energy(self.root, "intel-rapl:1", int(elapsed * self.watts * J))


def tool(args, timeout=120):
    return subprocess.run([sys.executable, "-m", "graph500", "energy"] + args, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def nowhere(tmp_path):
    return ["--cray-root", str(tmp_path / "no-cray"), "--no-nvml"]


def test_monitor_a_command_on_a_fake_tree(tmp_path, capsys):
    out = tmp_path / "m.json"
    with PoweredPsys(tmp_path / "pc"):
        rc = main(["monitor", "--interval", "0.05", "--powercap-root", str(tmp_path / "pc"),
                   "--json", str(out)] + nowhere(tmp_path) +
                  ["--", sys.executable, "-c", "import time, sys; time.sleep(1.0); sys.exit(3)"])
    assert rc == 3  # the command's own exit status
    text = capsys.readouterr().out
    assert "command exited with status 3" in text
    assert "rapl" in text and "W average" in text and "total" in text
    data = json.loads(out.read_text())
    e = data["energy"]
    assert data["exit_status"] == 3 and data["command"][0] == sys.executable
    assert e["method"] == "component sum" and e["complete"]
    assert e["watts"] == pytest.approx(100.0, rel=0.25)
    assert e["by_source"]["rapl"] == pytest.approx(e["joules"])
    assert e["seconds"] >= 1.0
    assert out.stat().st_mode & 0o777 == 0o644 & ~_umask()


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_monitor_with_no_counters_says_not_measured(tmp_path):
    res = tool(["monitor", "--powercap-root", str(tmp_path / "none")] + nowhere(tmp_path) +
               ["--", sys.executable, "-c", "print('hello from the command')"])
    assert res.returncode == 0, res.stderr
    assert "hello from the command" in res.stdout
    assert "energy: not measured" in res.stdout
    assert "CPU not measured: no powercap directory" in res.stdout
    assert "GPU not measured: --no-nvml" in res.stdout


def test_monitor_reports_a_signal_as_128_plus_n(tmp_path):
    rc = main(["monitor", "--powercap-root", str(tmp_path / "none")] + nowhere(tmp_path) +
              ["--", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"])
    assert rc == 128 + 15


@pytest.mark.parametrize("args", [
    [],                                                   # no subcommand
    ["frobnicate"],                                       # unknown subcommand
    ["monitor"],                                          # no command
    ["monitor", "--"],                                    # empty command
    ["monitor", "--interval", "nan", "--", "true"],
    ["monitor", "--interval", "0", "--", "true"],
    ["monitor", "--interval", "x", "--", "true"],
    ["monitor", "--max-watts", "-1", "--", "true"],
    ["monitor", "--json", "/", "--", "true"],             # a directory
    ["monitor", "--json", "/nonexistent-dir/x.json", "--", "true"],
    ["monitor", "--no-such-option", "--", "true"],
    ["monitor", "--powercap-root", "/nonexistent", "--", "/nonexistent/command"],
    ["probe", "--", "true"],                              # probe takes no command
    ["probe", "--json", "/"],
    ["probe", "--bogus"],
])
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("graph500 energy")


def test_bad_input_through_the_graph500_command(tmp_path):
    res = tool(["monitor", "--interval", "inf", "--", "true"])
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "--interval" in res.stderr


def test_probe_lists_sources_files_and_permissions(tmp_path):
    fakes.single_socket(tmp_path / "pc", psys=9 * J)
    os.chmod(tmp_path / "pc" / "intel-rapl:1" / "energy_uj", 0o400)  # as on kernels since 2020
    out = tmp_path / "probe.json"
    res = tool(["probe", "--powercap-root", str(tmp_path / "pc"), "--json", str(out)] + nowhere(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "can read  rapl: RAPL psys (platform) counter: psys" in res.stdout
    assert "-r-------- root" in res.stdout and "not world-readable" in res.stdout
    assert "sudo chmod a+r" in res.stdout
    assert "cannot    GPU not measured: --no-nvml" in res.stdout
    node = json.loads(out.read_text())["nodes"][0]
    assert node["method"] == "component sum" and node["sources"][0]["name"] == "rapl"


def test_probe_with_nothing_readable(tmp_path):
    res = tool(["probe", "--powercap-root", str(tmp_path / "none")] + nowhere(tmp_path))
    assert res.returncode == 0, res.stderr
    assert ": none" in res.stdout and "cannot    CPU not measured: no powercap directory" in res.stdout


def test_probe_under_mpi_every_node_answers(tmp_path):
    for n in (0, 1):
        fakes.single_socket(tmp_path / f"pc{n}", psys=(n + 1) * J)
    res = run_mpi(4, ["-m", "graph500", "energy", "probe", "--powercap-root",
                      str(tmp_path / "pc{node}")] + nowhere(tmp_path),
                  env={"GRAPH500_ENERGY_NODES": "block:2"}, timeout=180)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    heads = [l for l in lines if l.startswith("node ")]
    assert len(heads) == 2, res.stdout
    assert "ranks 0,1" in heads[0] and "ranks 2,3" in heads[1]
    assert str(tmp_path / "pc0") in res.stdout and str(tmp_path / "pc1") in res.stdout


def test_python_api_windows(tmp_path):
    with PoweredPsys(tmp_path / "pc"):
        with Meter(powercap_root=str(tmp_path / "pc"), cray_root=str(tmp_path / "no"), nvml=False,
                   interval=0.05) as meter:
            with meter.window("solve"):
                time.sleep(0.6)
            meter.begin("solve")
            time.sleep(0.2)
            meter.end("solve")
            r = meter.result("solve")
    assert r["count"] == 2 and r["seconds"] >= 0.8
    assert r["complete"] and r["method"] == "component sum"
    assert r["watts"] == pytest.approx(100.0, rel=0.25)
    assert r["by_domain"] == {"rapl:psys": pytest.approx(r["joules"])}
    json.dumps(r)
    with pytest.raises(KeyError):
        meter.result("never")


def test_python_api_without_counters(tmp_path):
    with Meter(powercap_root=str(tmp_path / "none"), cray_root=str(tmp_path / "no"), nvml=False) as m:
        with m.window("x"):
            pass
    r = m.result("x")
    assert r["joules"] is None and r["watts"] is None and r["count"] == 1
    assert any("no powercap directory" in t for t in r["not_measured"])
