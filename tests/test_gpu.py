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
    from graph500.kernels import gpu_bfs, gpu_sssp, gpu_warp
    from numba import types as t
    kernels = dict(("bfs" + n, ks) for n, ks in gpu_bfs.kernel_signatures().items())
    kernels.update(("sssp" + n, ks) for n, ks in gpu_sssp.kernel_signatures().items())
    for name, k, ty in (("fill_i64", gpu_warp.fill_i64, t.int64), ("fill_u64", gpu_warp.fill_u64, t.uint64),
                        ("fill_u32", gpu_warp.fill_u32, t.uint32), ("fill_i32", gpu_warp.fill_i32, t.int32)):
        kernels[name] = (k, (ty[::1], ty))
    assert len(kernels) == 17
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
@pytest.mark.parametrize("nranks", [1, 2])
def test_simulated_gpu_kernels_equal_cpu_kernels_and_validate(tmp_path, nranks):
    out = tmp_path / "check.json"
    r = run_mpi(nranks, [str(ROOT / "tests" / "gpu_check.py"), "5", "1", str(out)], timeout=900,
                env=SIM)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep["ranks"] == nranks and rep["gpu"]["name"] == "Numba CUDA simulator"
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
    out = tmp_path / "r.json"
    r = run_mpi(2, ["-m", "graph500", "--device", "gpu", "-s", "5", "--roots", "2", "--quiet",
                    "--energy", "off", "--json", str(out)], timeout=900, env=SIM)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "bfs  harmonic_mean_TEPS:" in r.stdout and "sssp harmonic_mean_TEPS:" in r.stdout
    res = json.loads(out.read_text())
    assert res["device"] == "gpu" and res["validated"]
    assert [g["rank"] for g in res["gpus"]] == [0, 1]
    assert all(g["name"] == "Numba CUDA simulator" for g in res["gpus"])
    assert len(res["bfs"]["nedge"]) == 2 and min(res["sssp"]["nedge"]) > 0


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
