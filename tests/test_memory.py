"""The memory preflight: each module's estimate against the arrays it really allocates, the
whole estimate against a real run's peak resident memory, and the memory a job may use
(MemAvailable, cgroup v1/v2 limits) from fake /proc and /sys trees."""
import json
import os

import numpy as np
import pytest
from mpi4py import MPI

from graph500 import memory
from graph500.generator import generate_edges
from graph500.kernels.bfs import BFSWorkspace, bfs_workspace_bytes
from graph500.kernels.construct import construct_graph, expected_max_degree, graph_bytes
from graph500.kernels.sssp import DEFAULT_DELTA, SSSPWorkspace, sssp_workspace_bytes
from mpi_util import run_mpi

MIB = 1 << 20


def _arrays_bytes(obj, skip=()):
    seen, total = set(), 0
    for name, a in vars(obj).items():
        if isinstance(a, np.ndarray) and name not in skip:
            base = a if a.base is None else a.base
            if id(base) not in seen:
                seen.add(id(base))
                total += a.nbytes
    return total


@pytest.fixture(scope="module")
def graph14():
    scale = 14
    src, dst, w = generate_edges(scale, 16, 2, 3, 0, 16 << scale, weights=True)
    return scale, construct_graph(MPI.COMM_SELF, scale, src, dst, w)


# --- each module's estimate against its own allocations --------------------------------------

def test_graph_estimate_matches_the_graph_kernel1_builds(graph14):
    scale, g = graph14
    real = g.rowptr.nbytes + g.col.nbytes + g.weight.nbytes
    est = graph_bytes(scale, 16, 1, True)
    assert real <= est <= 1.1 * real          # self-loops are not subtracted: slightly high


def test_bfs_workspace_estimate_matches_its_arrays(graph14):
    scale, g = graph14
    ws = BFSWorkspace(g, MPI.COMM_SELF)
    real = _arrays_bytes(ws)
    est = bfs_workspace_bytes(scale, 16, 1)
    assert 0.9 * real <= est <= 1.3 * real


def test_sssp_workspace_estimate_matches_its_arrays(graph14):
    scale, g = graph14
    ws = SSSPWorkspace(g, MPI.COMM_SELF, delta=DEFAULT_DELTA)
    real = _arrays_bytes(ws, skip=("col", "weight"))   # dist and parent are the workspace's
    est = sssp_workspace_bytes(scale, 16, 1, DEFAULT_DELTA)
    assert 0.85 * real <= est <= 1.3 * real
    # the record queue holds the longest row: the estimate's longest row is near the real one
    real_max = int(np.diff(g.rowptr).max())
    assert 0.5 * real_max <= expected_max_degree(scale, 16) <= 2 * real_max


def test_sssp_estimate_counts_what_is_allocated_and_only_that():
    # the replicated pull array exists only up to PULL_MAX_VERTICES vertices
    small = sssp_workspace_bytes(27, 16, 64, pull_max_vertices=1 << 27)
    without = sssp_workspace_bytes(27, 16, 64, pull_max_vertices=1 << 26)
    assert small - without >= 4 << 27
    # a small delta makes the bucket array large (the 38 GiB at SCALE 16, 2 ranks)
    assert sssp_workspace_bytes(16, 16, 2, delta=1e-7) > 38 << 30
    # above 2^20 entries the longest row sizes the record queue (SCALE 30)
    assert expected_max_degree(30, 16) > 1 << 20
    big = sssp_workspace_bytes(30, 16, 1024)
    assert big > 40 * expected_max_degree(30, 16)


def test_phases_and_kernels():
    p = memory.phase_bytes(20, 16, 2, ("bfs",))
    assert set(p) == {"kernel1", "bfs"}
    q = memory.phase_bytes(20, 16, 2, ("bfs", "sssp"))
    assert set(q) == {"kernel1", "bfs", "sssp"} and q["kernel1"] > p["kernel1"]
    assert memory.estimate_rank_bytes(20, 16, 2, ("bfs",)) == memory.BASE_BYTES + max(p.values())


# --- the whole estimate against a real run ----------------------------------------------------

def _run(tmp_path, scale, kernels):
    out = tmp_path / ("r%d.json" % scale)
    r = run_mpi(2, ["-m", "graph500", "-s", str(scale), "--roots", "2", "--kernels", kernels,
                    "--quiet", "--json", str(out)], timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def test_estimate_against_a_real_runs_peak(tmp_path):
    """The estimate per node against the peak RSS summed over ranks; and, with the constant
    base taken out, what grows with the graph: SCALE 18 minus SCALE 14, on the last rank
    (rank 0 may compile the kernels first, whose own transient peak is not modelled)."""
    small = _run(tmp_path, 14, "bfs,sssp")
    big = _run(tmp_path, 18, "bfs,sssp")
    est, meas = sum(big["memory_estimate_bytes"]), sum(big["peak_rss_bytes"])
    assert big["memory_estimate_bytes"] == [memory.estimate_rank_bytes(18, 16, 2) * 2]
    assert 0.85 * meas <= est <= 1.2 * meas, (est / MIB, meas / MIB)
    grown = big["peak_rss_bytes"][-1] - small["peak_rss_bytes"][-1]
    model = memory.estimate_rank_bytes(18, 16, 2) - memory.estimate_rank_bytes(14, 16, 2)
    assert 0.75 * grown <= model <= 1.3 * grown, (model / MIB, grown / MIB)


# --- the memory a job may use -----------------------------------------------------------------

def _tree(tmp_path, cgroup_lines, files):
    tmp_path.mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "cgroup"
    proc.write_text("".join(l + "\n" for l in cgroup_lines))
    root = tmp_path / "sys"
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text + "\n")
    root.mkdir(exist_ok=True)
    return str(proc), str(root)


def test_cgroup_v2_limit_of_the_process_cgroup(tmp_path):
    proc, root = _tree(tmp_path, ["0::/system.slice/job.scope"],
                       {"system.slice/job.scope/memory.max": str(200 * MIB),
                        "system.slice/memory.max": "max", "memory.max": "max"})
    assert memory.cgroup_limit(proc, root) == 200 * MIB


def test_cgroup_v2_a_parents_lower_limit_wins(tmp_path):
    proc, root = _tree(tmp_path, ["0::/a/b"], {"a/b/memory.max": str(4 << 30),
                                              "a/memory.max": str(1 << 30)})
    assert memory.cgroup_limit(proc, root) == 1 << 30


def test_cgroup_v2_max_means_no_limit(tmp_path):
    proc, root = _tree(tmp_path, ["0::/"], {"memory.max": "max"})
    assert memory.cgroup_limit(proc, root) is None


def test_cgroup_v1_memory_controller(tmp_path):
    proc, root = _tree(tmp_path, ["5:cpu,cpuacct:/slurm/job_7", "4:memory:/slurm/job_7",
                                  "1:name=systemd:/init.scope"],
                       {"memory/slurm/job_7/memory.limit_in_bytes": str(300 * MIB),
                        "memory/slurm/memory.limit_in_bytes": "9223372036854771712",
                        "memory/memory.limit_in_bytes": "9223372036854771712"})
    assert memory.cgroup_limit(proc, root) == 300 * MIB


def test_cgroup_v1_unlimited(tmp_path):
    proc, root = _tree(tmp_path, ["4:memory:/"],
                       {"memory/memory.limit_in_bytes": "9223372036854771712"})
    assert memory.cgroup_limit(proc, root) is None


def test_no_cgroup_files(tmp_path):
    assert memory.cgroup_limit(str(tmp_path / "missing"), str(tmp_path)) is None
    proc, root = _tree(tmp_path, ["0::/gone"], {})
    assert memory.cgroup_limit(proc, root) is None


def _meminfo(tmp_path, kib):
    p = tmp_path / "meminfo"
    p.write_text("MemTotal:       24000000 kB\nMemAvailable:   %d kB\n" % kib)
    return str(p)


def test_usable_memory_is_the_smaller_of_memavailable_and_the_cgroup(tmp_path):
    meminfo = _meminfo(tmp_path, 16 << 20)                      # 16 GiB
    proc, root = _tree(tmp_path, ["0::/job"], {"job/memory.max": str(200 * MIB)})
    assert memory.usable_memory(0, meminfo, proc, root) == (200 * MIB, "the cgroup memory limit")
    proc2, root2 = _tree(tmp_path / "x", ["0::/job"], {"job/memory.max": "max"})
    # the ranks' own resident memory is counted by the estimate, so added back here
    assert memory.usable_memory(5 * MIB, meminfo, proc2, root2) == ((16 << 30) + 5 * MIB,
                                                                     "MemAvailable")


def test_preflight_refuses_a_run_larger_than_the_cgroup(tmp_path, monkeypatch):
    """The issue's case: a job in a 200 MiB cgroup is refused up front with one message,
    instead of being killed by the kernel during construction."""
    from graph500 import driver
    from graph500.cli import UsageError, parse_args
    meminfo = _meminfo(tmp_path, 16 << 20)
    proc, root = _tree(tmp_path, ["0::/job"], {"job/memory.max": str(200 * MIB)})
    monkeypatch.setattr(driver, "usable_memory",
                        lambda resident: memory.usable_memory(resident, meminfo, proc, root))
    args = parse_args(["-s", "16", "--roots", "2"])
    with pytest.raises(UsageError, match="cgroup memory limit"):
        driver._preflight(MPI.COMM_SELF, MPI.COMM_SELF, args, True)
    # and the same run passes where the limit is generous
    monkeypatch.setattr(driver, "usable_memory",
                        lambda resident: memory.usable_memory(resident, meminfo, proc + "x", root))
    assert driver._preflight(MPI.COMM_SELF, MPI.COMM_SELF, args, True) > 200 * MIB
