"""NVML through a fake pynvml module: energy counter, power integration, every failure a reason."""
import sys

import pytest

from graph500.energy import fakes
from graph500.energy.meter import NodeMeter
from graph500.energy.nvml import NvmlSource, nvml_reason
from graph500.energy.source import SourceUnavailable


def test_energy_counter_path():
    gpu = fakes.FakeGpu("H100", energy_mj=1_000)
    nv = fakes.fake_pynvml([gpu])
    src = NvmlSource(nv)
    assert src.kind == "counter" and src.method == "NVML energy counter"
    assert [d.label for d in src.domains] == ["gpu0"] and src.gpus[0]["name"] == "H100"
    assert src.read(0.0) == [0.0]
    gpu.energy_mj = 6_500
    assert src.read(1.0) == [5.5]
    src.close()
    assert nv.initialised == 0


def test_power_only_path_integrates_trapezoids():
    gpu = fakes.FakeGpu("V100-ish", power_mw=200_000, energy_supported=False)
    src = NvmlSource(fakes.fake_pynvml([gpu]))
    assert src.kind == "power" and src.method == "NVML power integration"
    assert any("power readings integrated" in n for n in src.notes)
    assert src.read(10.0) == [0.0]
    assert src.read(12.0) == [400.0]
    gpu.power_mw = 100_000
    assert src.read(13.0) == [550.0]  # (200 + 100) / 2 W over 1 s


def test_mixed_gpus_and_one_unmeasurable():
    gpus = [fakes.FakeGpu("a", energy_mj=0), fakes.FakeGpu("b", power_mw=50_000, energy_supported=False),
            fakes.FakeGpu("c", energy_supported=False, power_supported=False)]
    src = NvmlSource(fakes.fake_pynvml(gpus))
    assert [d.label for d in src.domains] == ["gpu0", "gpu1"]
    assert src.method == "NVML energy counter + NVML power integration"
    assert src.not_measured == ["GPU 2 (c) not measured: energy counter not supported by this GPU; "
                                "power not supported by this GPU"]


@pytest.mark.parametrize("error, reason", [
    ("LibraryNotFound", "NVML library (libnvidia-ml.so) not found"),
    ("DriverNotLoaded", "NVIDIA driver not loaded"),
    ("NoPermission", "no permission to query NVML"),
])
def test_init_failures_become_reasons(error, reason):
    with pytest.raises(SourceUnavailable) as e:
        NvmlSource(fakes.fake_pynvml([fakes.FakeGpu()], init_error=error))
    assert str(e.value).startswith("GPU not measured: ") and reason in str(e.value)


def test_not_supported_everywhere_and_no_gpu():
    nv = fakes.fake_pynvml([fakes.FakeGpu(energy_supported=False, power_supported=False)])
    with pytest.raises(SourceUnavailable, match="not supported by this GPU"):
        NvmlSource(nv)
    assert nv.initialised == 0  # shut down again
    with pytest.raises(SourceUnavailable, match="NVML found no GPU"):
        NvmlSource(fakes.fake_pynvml([]))


def test_library_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    with pytest.raises(SourceUnavailable, match="nvidia-ml-py is not installed"):
        NvmlSource()


def test_real_pynvml_error_classes_map_to_reasons():
    import pynvml   # the test extra brings nvidia-ml-py: the real error classes, no GPU needed
    assert "not found" in nvml_reason(pynvml, pynvml.NVMLError_LibraryNotFound())
    assert nvml_reason(pynvml, pynvml.NVMLError_NotSupported()) == "not supported by this GPU"
    assert nvml_reason(pynvml, pynvml.NVMLError_DriverNotLoaded()) == "NVIDIA driver not loaded"
    assert nvml_reason(pynvml, RuntimeError("x")).startswith("unexpected NVML failure")


def test_gpu_lost_mid_run_marks_phase_failed_not_crash():
    gpu = fakes.FakeGpu(energy_mj=0)
    nv = fakes.fake_pynvml([gpu])
    meter = NodeMeter([NvmlSource(nv)])
    meter.start()
    meter.begin("bfs")
    gpu.energy_mj = 2_000
    nv.lost = True
    meter.end("bfs")
    rec = meter.records["bfs"]
    assert rec.failed and not rec.complete
    assert "GPU is lost" in meter.summary()["warnings"][0]
    for _ in range(3):  # still failing: given up, and the run goes on
        meter.sample()
    assert any("stopped answering" in w for w in meter.summary()["warnings"])
