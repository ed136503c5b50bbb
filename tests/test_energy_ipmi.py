"""IPMI: parsing, the logger outside MPI, the log-reading source, and the refusal to fork under MPI."""
import os
import subprocess
import sys
import types

import pytest

from graph500.energy import EnergyConfig, EnergyMonitor
from graph500.energy.ipmi import NEEDS_HELPER, IpmiSource, parse_dcmi, start_helper
from graph500.energy.source import SourceUnavailable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DCMI = """
    Instantaneous power reading:                   221 Watts
    Minimum during sampling period:                 80 Watts
    Maximum during sampling period:                360 Watts
    Average power reading over sample period:      210 Watts
    Power reading state is:                   activated
"""


def test_parse_dcmi():
    assert parse_dcmi(DCMI) == 221.0
    assert parse_dcmi("Error: no DCMI") is None


def test_source_holds_latest_reading_and_flags_staleness(tmp_path):
    log = tmp_path / "ipmi.csv"
    log.write_text("time,watts\n100.0,200\n101.0,250\n")
    clock = {"t": 101.5}
    src = IpmiSource(str(log), wait=0, clock=lambda: clock["t"])
    assert src.kind == "power" and src.files == [str(log)]
    assert src.read(0.0) == [0.0]
    assert src.read(2.0) == [500.0]          # 250 W held for 2 s
    with open(log, "a") as f:
        f.write("102.0,150\n103.0,1")          # a torn last line is ignored until complete
    assert src.read(3.0) == [700.0]          # trapezoid 250 -> 150 over 1 s
    clock["t"] = 200.0
    src.read(4.0)
    assert src.stale_reads == 1 and "stale" in src.warnings[0]
    src.close()


def test_missing_log_or_no_reading(tmp_path):
    with pytest.raises(SourceUnavailable, match="no logger output"):
        IpmiSource(str(tmp_path / "none.csv"), wait=0)
    (tmp_path / "empty.csv").write_text("time,watts\n")
    with pytest.raises(SourceUnavailable, match="no reading"):
        IpmiSource(str(tmp_path / "empty.csv"), wait=0)


def test_ipmi_without_logger_is_refused_with_reason_and_run_continues(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPH500_IPMI_LOG", raising=False)
    cfg = EnergyConfig(ipmi=True, powercap_root=str(tmp_path / "none"), cray_root=str(tmp_path / "none"),
                       nvml=False)
    mon = EnergyMonitor(None, cfg)
    mon.start()
    result = mon.finish()
    assert result["method"] == "none"
    assert NEEDS_HELPER in result["not_measured"]


def test_ipmi_log_source_is_the_node_counter(tmp_path):
    log = tmp_path / "ipmi-{host}.csv"
    import socket
    real = tmp_path / f"ipmi-{socket.gethostname()}.csv"
    real.write_text("time,watts\n1.0,300\n")
    cfg = EnergyConfig(ipmi_log=str(log), powercap_root=str(tmp_path / "none"),
                       cray_root=str(tmp_path / "none"), nvml=False)
    assert cfg.ipmi
    mon = EnergyMonitor(None, cfg)
    assert [s.name for s in mon.node_sources.sources] == ["ipmi"]
    mon.start()
    result = mon.finish()
    assert result["method"] == "node counter"


def test_start_helper_refuses_after_mpi_init(monkeypatch):
    fake_mpi = types.SimpleNamespace(Is_initialized=lambda: True)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", fake_mpi)
    with pytest.raises(RuntimeError, match="before MPI is initialised"):
        start_helper("/tmp/x.csv")


def test_start_helper_only_on_local_rank_zero(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", types.SimpleNamespace(Is_initialized=lambda: False))
    assert start_helper("/tmp/never.csv", env={"MPI_LOCALRANKID": "1"}) is None


def test_logger_writes_a_meter_csv(tmp_path):
    """The logger itself, in its own process (as on a node, outside MPI), with a stand-in command."""
    log = tmp_path / "ipmi.csv"
    cmd = f"{sys.executable} -c \"print('Instantaneous power reading: 123 Watts')\""
    subprocess.run([sys.executable, "-m", "graph500.energy.ipmi", "--log", str(log), "--count", "2",
                    "--interval", "0.01", "--command", cmd], cwd=ROOT, check=True, timeout=60)
    lines = log.read_text().splitlines()
    assert lines[0] == "time,watts" and len(lines) == 3
    assert all(line.endswith(",123") for line in lines[1:])
