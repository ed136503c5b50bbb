"""The GPU path (--device gpu) without a GPU: every CUDA kernel compiles to PTX for sm_80 and
sm_90, and the kernels run in Numba's CUDA simulator against the CPU kernels on 1 and 2 ranks
(real mpiexec) and end to end through the driver. The simulator runs every GPU thread as a
Python thread, so the graphs are tiny (SCALE 5-6).

Tests that need Numba CUDA skip when the `gpu` extra is not installed (pip install -e .[gpu]);
the test extra brings it, so in CI they run.
"""
import json
import os
import subprocess
import sys

import pytest

from mpi_util import ROOT, run_mpi

try:
    import numba.cuda  # noqa: F401
    HAVE_CUDA_PKG = True
except ImportError:
    HAVE_CUDA_PKG = False

needs_gpu_extra = pytest.mark.skipif(not HAVE_CUDA_PKG,
                                     reason="numba-cuda not installed (pip install -e .[gpu])")
SIM = {"NUMBA_ENABLE_CUDASIM": "1"}


def _nvvm_available():
    try:
        from numba.cuda.cudadrv import nvvm
        nvvm.NVVM()
        return True
    except Exception:
        return False


@needs_gpu_extra
@pytest.mark.skipif(HAVE_CUDA_PKG and not _nvvm_available(),
                    reason="libNVVM not found (the gpu extra's nvidia-cuda-nvcc wheel brings it)")
def test_every_kernel_compiles_to_ptx_for_sm80_and_sm90():
    from numba import cuda
    from graph500.kernels import gpu_bfs, gpu_mpi, gpu_sssp, gpu_warp
    from numba import types as t
    kernels = dict(("bfs" + n, ks) for n, ks in gpu_bfs.kernel_signatures().items())
    kernels.update(("sssp" + n, ks) for n, ks in gpu_sssp.kernel_signatures().items())
    kernels.update(("mpi" + n, ks) for n, ks in gpu_mpi.kernel_signatures().items())
    for name, k, ty in (("fill_i64", gpu_warp.fill_i64, t.int64), ("fill_u64", gpu_warp.fill_u64, t.uint64),
                        ("fill_u32", gpu_warp.fill_u32, t.uint32), ("fill_i32", gpu_warp.fill_i32, t.int32)):
        kernels[name] = (k, (ty[::1], ty))
    assert len(kernels) == 19
    for name, (kernel, sig) in kernels.items():
        for cc in ((8, 0), (9, 0)):
            ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc)
            assert ".target sm_%d%d" % cc in ptx and ".entry" in ptx, name
    # The warp-level primitives are what the GPU runs (the simulator runs stand-ins).
    ptx, _ = cuda.compile_ptx(gpu_bfs._bu.py_func, gpu_bfs.kernel_signatures()["_bu"][1], cc=(9, 0))
    assert "vote.sync.ballot" in ptx and "shfl.sync.down" in ptx
    ptx, _ = cuda.compile_ptx(gpu_bfs._td_thread.py_func, gpu_bfs.kernel_signatures()["_td_thread"][1],
                              cc=(9, 0))
    assert "activemask" in ptx and "atom.global.cas.b64" in ptx


@needs_gpu_extra
@pytest.mark.parametrize("nranks,cuda_aware", [(1, "auto"), (2, "0"), (2, "1")])
def test_simulated_gpu_kernels_equal_cpu_kernels_and_validate(tmp_path, nranks, cuda_aware):
    # cuda_aware "1": the exchanges hand device arrays to mpi4py (grouped on the "GPU", one
    # Alltoallv and an in-place Allgatherv of device buffers); the simulator's arrays live in
    # host memory, so the (not CUDA-aware) MPI of CI can carry them.
    out = tmp_path / "check.json"
    r = run_mpi(nranks, [str(ROOT / "tests" / "gpu_check.py"), "5", "1", str(out)], timeout=900,
                env=dict(SIM, GRAPH500_CUDA_AWARE=cuda_aware))
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep["ranks"] == nranks and rep["gpu"]["name"] == "Numba CUDA simulator"
    device_exchange = nranks > 1 and cuda_aware == "1"
    assert rep["device_exchange"] == [device_exchange] * 4, rep["device_exchange"]
    assert len(rep["bfs"]) == 3 * len(rep["sssp"]) == 6
    # both step kinds, and top-down steps with each degree bin (thread, warp, block per vertex)
    steps = "".join(rep["steps"])
    assert "bu" in rep["steps"] and all(b in steps for b in "smb"), rep["steps"]
    for b in rep["bfs"]:
        assert b["valid"], b
        assert b["same_depths"] and b["nedge_cpu"] == b["nedge_gpu"] > 0, b
        assert b["reached"] > 1
    for s in rep["sssp"]:
        assert s["valid"], s
        assert s["same_dist"] and s["nedge_cpu"] == s["nedge_gpu"] > 0, s


@needs_gpu_extra
def test_driver_runs_the_gpu_path_end_to_end_in_the_simulator(tmp_path):
    # Through the CUDA-aware path (device arrays to mpi4py); tests/gpu_check.py at 2 ranks
    # covers the host-staged one against the CPU kernels.
    out = tmp_path / "r.json"
    r = run_mpi(2, ["-m", "graph500", "--device", "gpu", "-s", "5", "--roots", "2", "--quiet",
                    "--energy", "off", "--json", str(out)], timeout=900,
                env=dict(SIM, GRAPH500_CUDA_AWARE="1"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "bfs  harmonic_mean_TEPS:" in r.stdout and "sssp harmonic_mean_TEPS:" in r.stdout
    res = json.loads(out.read_text())
    assert res["device"] == "gpu" and res["validated"]
    assert [g["rank"] for g in res["gpus"]] == [0, 1]
    assert all(g["name"] == "Numba CUDA simulator" for g in res["gpus"])
    assert len(res["bfs"]["nedge"]) == 2 and min(res["sssp"]["nedge"]) > 0
    for g in res["gpus"]:   # per rank: the MPI path that ran, why, and the memory check
        assert g["mpi_path"] == "cuda-aware", g
        assert g["cuda_aware_mpi"] == {"cuda_aware": True, "how": "GRAPH500_CUDA_AWARE=1"}
        assert g["memory"]["need_bytes"] > 0 and g["memory"]["ranks_on_gpu"] == 2
        assert g["memory"]["free_bytes"] is None     # the simulator has no memory limit


@needs_gpu_extra
def test_a_broken_gpu_output_fails_validation(tmp_path):
    r = run_mpi(1, ["-m", "graph500", "--device", "gpu", "-s", "5", "--roots", "1", "--quiet",
                    "--energy", "off", "--kernels", "bfs"], timeout=900,
                env=dict(SIM, GRAPH500_INJECT_FAILURE="0:corrupt-bfs"))
    assert r.returncode == 1, r.stderr[-3000:]
    assert "No results printed for invalid run." in r.stdout


@needs_gpu_extra
def test_no_gpu_is_a_one_line_error_on_every_rank():
    # Without the simulator and with no GPU visible, --device gpu refuses cleanly.
    env = {"NUMBA_ENABLE_CUDASIM": "0", "CUDA_VISIBLE_DEVICES": ""}
    r = run_mpi(2, ["-m", "graph500", "--device", "gpu", "-s", "4", "--quiet"], timeout=300,
                env=env)
    assert r.returncode == 2, (r.stdout, r.stderr[-2000:])
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("graph500: error: ") and "--device gpu" in lines[0]
    assert "Traceback" not in r.stderr


@needs_gpu_extra
def test_cuda_aware_mpi_is_the_override_else_the_librarys_answer():
    from types import SimpleNamespace
    from graph500.kernels.gpu_mpi import ENV, cuda_aware_choice, query_cuda_support
    yes, no = (lambda: (True, "asked")), (lambda: (False, "asked"))
    assert cuda_aware_choice({}, yes) == {"cuda_aware": True, "how": "asked"}
    assert cuda_aware_choice({}, no) == {"cuda_aware": False, "how": "asked"}
    assert cuda_aware_choice({ENV: "auto"}, yes)["cuda_aware"] is True
    assert cuda_aware_choice({ENV: "0"}, yes) == {"cuda_aware": False, "how": ENV + "=0"}
    assert cuda_aware_choice({ENV: "1"}, no) == {"cuda_aware": True, "how": ENV + "=1"}
    with pytest.raises(ValueError, match=ENV):
        cuda_aware_choice({ENV: "yes"}, yes)
    # The library's answer: mpi4py's query where it has one ...
    mpi4 = SimpleNamespace(Query_cuda_support=lambda: 1)
    assert query_cuda_support(mpi4, libmpi=lambda: None) == (True, "MPI.Query_cuda_support()")
    mpi4.Query_cuda_support = lambda: 0
    assert query_cuda_support(mpi4, libmpi=lambda: None)[0] is False
    # ... else MPIX_Query_cuda_support of the loaded libmpi (Open MPI, MPICH >= 4) ...
    older = SimpleNamespace()
    for value, expect in ((1, True), (0, False)):
        lib = SimpleNamespace(MPIX_Query_cuda_support=lambda v=value: v)
        assert query_cuda_support(older, libmpi=lambda: lib) == (expect,
                                                                  "MPIX_Query_cuda_support()")
    # ... else host-staged, and why
    ok, how = query_cuda_support(older, libmpi=lambda: SimpleNamespace())
    assert ok is False and "no MPIX_Query_cuda_support" in how
    ok, how = query_cuda_support(older, libmpi=lambda: None)
    assert ok is False and "could not be queried" in how
    # and this process's own library answers one way or the other
    from mpi4py import MPI
    ok, how = query_cuda_support(MPI)
    assert isinstance(ok, bool) and how


@needs_gpu_extra
def test_gpu_memory_estimate_and_the_refusal_line():
    from graph500.device import gpu_memory_problem
    from graph500.memory import GPU_BASE_BYTES, gpu_rank_bytes
    one = gpu_rank_bytes(24, 16, 1)
    # SCALE 24 on one GPU: 2^29 entries of col + weight (8 bytes, 4 GiB), rowptr, the two
    # workspaces (53 bytes per vertex), the base: 5.2 GiB
    assert 5 << 30 < one < 5.5 * (1 << 30)
    assert gpu_rank_bytes(25, 16, 1) > 1.9 * (one - GPU_BASE_BYTES)
    assert gpu_rank_bytes(24, 16, 1, ("bfs",)) < one           # no weights, no SSSP buffers
    # several ranks: half the graph each, but exchange buffers (an SSSP iteration may relax
    # every entry of a rank: 24 bytes each, sent and received); device-buffer exchanges add
    # the grouped send buffers
    two = gpu_rank_bytes(24, 16, 2)
    assert one / 2 < two < 2 * one
    assert gpu_rank_bytes(24, 16, 2, cuda_aware=True) > two
    assert gpu_rank_bytes(24, 16, 1, cuda_aware=True) == one   # one rank exchanges nothing
    info = {"index": 0, "name": "NVIDIA H200"}
    assert gpu_memory_problem(one, 1, one, info, 24) is None
    assert gpu_memory_problem(one, 2, 2 * one - 1, info, 24) is not None   # ranks share it
    msg = gpu_memory_problem(one, 1, 1 << 30, info, 24)
    assert msg.startswith("--device gpu: SCALE 24 needs about") and "\n" not in msg
    assert "GPU 0 (NVIDIA H200) has only 1.00 GiB free" in msg


@needs_gpu_extra
def test_a_run_that_does_not_fit_in_gpu_memory_is_refused_on_every_rank():
    # tests/gpu_check.py fake-free: the benchmark with the GPU's free memory faked to 1 MiB
    r = run_mpi(2, [str(ROOT / "tests" / "gpu_check.py"), "fake-free", str(1 << 20), "--",
                    "--device", "gpu", "-s", "5", "--quiet", "--energy", "off"], timeout=600,
                env=SIM)
    assert r.returncode == 2, (r.stdout, r.stderr[-2000:])
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert lines[0].startswith("graph500: error: ") and "GPU memory" in lines[0]
    assert "has only 0.00 GiB free" in lines[0] and "bfs" not in r.stdout


def test_cpu_path_imports_no_cuda():
    code = ("import sys; from graph500 import cli, driver, device; "
            "import graph500.kernels.bfs, graph500.kernels.sssp; "
            "bad = [m for m in sys.modules if m.startswith('numba.cuda') or m.startswith('graph500.kernels.gpu')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT),
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_gpu_scale_limit_and_device_choices():
    from graph500.cli import UsageError, parse_args
    assert parse_args(["-s", "10"]).device == "cpu"
    assert parse_args(["-s", "10", "--device", "gpu"]).device == "gpu"
    with pytest.raises(UsageError, match="SCALE <= 31"):
        parse_args(["-s", "32", "--device", "gpu"])
    with pytest.raises(UsageError):
        parse_args(["--device", "tpu"])


def _gpu_node(not_measured, sources):
    return {"node": 0, "host": "h", "method": "component sum", "files": ["nvml:gpu0"],
            "not_measured": not_measured,
            "phases": {"bfs": {"count": 1, "seconds": 1.0, "joules": 200.0, "samples": 10,
                               "wraps": 0, "lost": 0, "complete": True, "largest_gap_s": 0.1}},
            "sources": [{"name": s, "domains": [s]} for s in sources], "notes": [],
            "warnings": []}


def test_mteps_per_watt_on_the_gpu_is_labelled_gpu_board_power():
    from graph500.energy.report import report_lines
    from graph500.energy.summary import build_result
    rank0 = {"bfs": {"count": 1, "seconds": 1.0, "intervals": [[0.0, 1.0]]}}
    no_rapl = ["CPU not measured: no powercap directory /sys/class/powercap"]
    node = _gpu_node(no_rapl, ["nvml"])
    # searches on the CPUs: the GPU's watts cannot stand under MTEPS/W
    r = build_result(nodes=[node], nnodes=1, rank0_phases=rank0, teps={"bfs": 1e10})
    assert r["mteps_per_watt"]["bfs"] is None
    # searches on the GPU: GPU board power only, and said so
    r = build_result(nodes=[node], nnodes=1, rank0_phases=rank0, teps={"bfs": 1e10},
                     search_device="gpu")
    assert r["mteps_per_watt"]["bfs"] == pytest.approx(1e10 / 1e6 / 200.0)
    assert r["kernels"]["bfs"]["power_scope"].startswith("GPU board power only")
    line = [x for x in report_lines(r) if x.startswith("bfs  MTEPS_per_W:")][0]
    assert "GPU board power only" in line
    # RAPL and NVML both: summed, and labelled so
    r = build_result(nodes=[_gpu_node([], ["rapl", "nvml"])], nnodes=1, rank0_phases=rank0,
                     teps={"bfs": 1e10}, search_device="gpu")
    assert r["kernels"]["bfs"]["power_scope"].startswith("GPU board power + CPU")
    # searches on the GPU, but only RAPL measured: no MTEPS/W
    r = build_result(nodes=[_gpu_node([], ["rapl"])], nnodes=1, rank0_phases=rank0,
                     teps={"bfs": 1e10}, search_device="gpu")
    assert r["mteps_per_watt"]["bfs"] is None
    assert "GPUs, which were not measured" in r["kernels"]["bfs"]["reason"]


def test_gpu_bench_script_parses():
    r = subprocess.run(["bash", "-n", str(ROOT / "bench" / "device_gpu.sh")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
