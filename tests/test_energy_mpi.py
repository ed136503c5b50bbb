"""One meter per node under mpiexec: fake nodes via GRAPH500_ENERGY_NODES, and the real node split."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from graph500.energy import fakes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "mpi_energy_nodes.py")
MPIEXEC = os.path.join(os.path.dirname(sys.executable), "mpiexec")
if not os.path.exists(MPIEXEC):
    MPIEXEC = shutil.which("mpiexec") or MPIEXEC
J = 1_000_000

pytestmark = pytest.mark.skipif(not os.path.exists(MPIEXEC), reason="no mpiexec found")


def launch(tmp_path, n, env_extra, bumps):
    out, watch = tmp_path / "out", tmp_path / "trees"
    out.mkdir(exist_ok=True)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"bumps": [[str(p), v] for p, v in bumps]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPH500_")}
    env.update(env_extra, PYTHONPATH=ROOT)
    proc = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, "-m", "mpi4py", SCRIPT,
                           str(out), str(watch), str(plan)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    audits = {}
    for r in range(n):
        audits[r] = json.loads((out / f"audit-{r}.json").read_text())
    result = json.loads((out / "result.json").read_text())
    return audits, result["energy"], result["lines"]


def counter_opens(audit):
    return [p for p in audit["audit"] if p.endswith("energy_uj")]


def test_two_fake_nodes_two_meters_sum_of_both_trees(tmp_path):
    trees = tmp_path / "trees"
    n0 = fakes.single_socket(trees / "node0" / "powercap", package=J, dram=J, psys_zone=False)
    n1 = fakes.two_sockets_swapped(trees / "node1" / "powercap")
    bumps = [(n0 / "intel-rapl:0" / "energy_uj", 11 * J), (n0 / "intel-rapl-mmio:0" / "energy_uj", 11 * J),
             (n0 / "intel-rapl:0:2" / "energy_uj", 3 * J), (n0 / "intel-rapl:0:0" / "energy_uj", 7 * J),
             (n1 / "intel-rapl:1" / "energy_uj", 20 * J), (n1 / "intel-rapl:0" / "energy_uj", 30 * J),
             (n1 / "intel-rapl:1:0" / "energy_uj", 4 * J), (n1 / "intel-rapl:0:0" / "energy_uj", 5 * J)]
    audits, result, lines = launch(tmp_path, 4, {
        "GRAPH500_ENERGY_NODES": "0,0,1,1",
        "GRAPH500_POWERCAP_ROOT": str(trees / "node{node}" / "powercap"),
        "GRAPH500_CRAY_ROOT": str(trees / "node{node}" / "cray"),
    }, bumps)

    # exactly two meters: ranks 0 and 2 lead; 1 and 3 never touched a file under the trees
    assert [a["leader"] for a in audits.values()] == [True, False, True, False]
    assert audits[1]["audit"] == [] and audits[3]["audit"] == []
    assert {r for r, a in audits.items() if counter_opens(a)} == {0, 2}
    assert all("/node0/" in p for p in audits[0]["audit"])
    assert all("/node1/" in p for p in audits[2]["audit"])
    assert len(counter_opens(audits[0])) == 2 and len(counter_opens(audits[2])) == 4

    assert (result["nodes_total"], result["nodes_measured"]) == (2, 2)
    by_node = {n["node"]: n for n in result["nodes"]}
    assert by_node[0]["phases"]["bfs"]["joules"] == pytest.approx(12.0)   # package 10 + dram 2
    assert by_node[1]["phases"]["bfs"]["joules"] == pytest.approx(59.0)   # 20 + 30 + 4 + 5
    assert result["phases"]["bfs"]["joules"] == pytest.approx(71.0)
    assert result["phases"]["run"]["joules"] == pytest.approx(71.0)
    assert by_node[0]["leader_rank"] == 0 and by_node[1]["leader_rank"] == 2
    assert sorted(by_node[1]["files"]) == sorted(counter_opens(audits[2]) + [
        p for p in audits[2]["audit"] if p.endswith(("name", "max_energy_range_uj"))])
    assert result["mteps_per_watt"]["bfs"] is not None
    assert any("GRAPH500_ENERGY_NODES=0,0,1,1" in w for w in result["warnings"])
    assert any(line.startswith("energy_nodes_measured:") and line.endswith("2/2") for line in lines)


def test_real_node_split_one_leader(tmp_path):
    tree = fakes.single_socket(tmp_path / "trees" / "pc", psys_zone=False)
    audits, result, _ = launch(tmp_path, 3, {
        "GRAPH500_POWERCAP_ROOT": str(tree), "GRAPH500_CRAY_ROOT": str(tmp_path / "trees" / "cray")},
        [(tree / "intel-rapl:0" / "energy_uj", 5 * J)])
    assert [a["leader"] for a in audits.values()] == [True, False, False]
    assert audits[1]["audit"] == [] and audits[2]["audit"] == []
    assert result["nodes_total"] == 1 and result["phases"]["bfs"]["joules"] == pytest.approx(5.0)


def test_one_rank_without_counters_is_not_measured(tmp_path):
    (tmp_path / "trees").mkdir()
    audits, result, lines = launch(tmp_path, 1, {
        "GRAPH500_POWERCAP_ROOT": str(tmp_path / "trees" / "pc"),
        "GRAPH500_CRAY_ROOT": str(tmp_path / "trees" / "cray")}, [])
    assert result["method"] == "none" and result["mteps_per_watt"] == {"bfs": None}
    assert any(line.startswith("bfs  MTEPS_per_W:") and "not measured (" in line for line in lines)
