"""NVIDIA GPU energy through NVML (`import pynvml`, from the nvidia-ml-py package; optional).

Per GPU: the total-energy counter (millijoules since the driver loaded, Volta and later) when the
device supports it, else the board power (milliwatts) integrated between reads, which is only as
good as the sampling rate and the driver's own averaging of that reading. Every NVML failure
becomes a reason ("GPU not measured: NVIDIA driver not loaded"), never an exception out of the
probe: a node without GPUs is the common case. NVML enumerates every GPU of the node whatever
CUDA_VISIBLE_DEVICES says, which is what one meter per node needs.

Plausibility (energy.plausible): an energy-counter interval above the GPU's maximum power, or a
counter that goes back, is a gap; a power reading that is not finite, negative or above the
maximum is rejected and the previous good reading is held. The maximum is --energy-max-watts,
else the GPU's power-limit range times a headroom, else a default.
"""
import math
import time

from . import plausible
from .source import Domain, PowerIntegrator, Source, SourceReadError, SourceUnavailable

# NVML return codes, as in nvml.h; used when the module lacks the named constant.
_REASONS = {
    "NVML_ERROR_UNINITIALIZED": (1, "NVML not initialised"),
    "NVML_ERROR_NOT_SUPPORTED": (3, "not supported by this GPU"),
    "NVML_ERROR_NO_PERMISSION": (4, "no permission to query NVML"),
    "NVML_ERROR_DRIVER_NOT_LOADED": (9, "NVIDIA driver not loaded"),
    "NVML_ERROR_LIBRARY_NOT_FOUND": (12, "NVML library (libnvidia-ml.so) not found: "
                                         "no NVIDIA driver installed"),
    "NVML_ERROR_GPU_IS_LOST": (15, "GPU is lost (fell off the bus)"),
}


def _is(nv, err, const):
    code = getattr(nv, const, _REASONS[const][0])
    return getattr(err, "value", None) == code


def nvml_reason(nv, err):
    """One-line reason for an NVML exception."""
    error_class = getattr(nv, "NVMLError", None)
    if error_class is not None and isinstance(err, error_class):
        for const, (_, text) in _REASONS.items():
            if _is(nv, err, const):
                return text
        return f"NVML error: {err}"
    return f"unexpected NVML failure: {type(err).__name__}: {err}"


def _import_pynvml():
    try:
        import pynvml
    except ImportError:
        raise SourceUnavailable("GPU not measured: nvidia-ml-py is not installed "
                                "(pip install nvidia-ml-py)") from None
    return pynvml


class NvmlSource(Source):
    name = "nvml"

    def __init__(self, module=None, max_watts=None, clock=time.perf_counter):
        super().__init__()
        self._max_watts = max_watts
        self._t = clock()
        nv = module if module is not None else _import_pynvml()
        self._nv = nv
        try:
            nv.nvmlInit()
        except Exception as e:
            raise SourceUnavailable(f"GPU not measured: {nvml_reason(nv, e)}") from None
        try:
            self._probe()
        except SourceUnavailable:
            self._shutdown()
            raise
        except Exception as e:
            self._shutdown()
            raise SourceUnavailable(f"GPU not measured: {nvml_reason(nv, e)}") from None

    def _probe(self):
        nv = self._nv
        count = nv.nvmlDeviceGetCount()
        if count == 0:
            raise SourceUnavailable("GPU not measured: NVML found no GPU")
        self._handles, self._modes, self._base, self.gpus = [], [], [], []
        self._bounds, self.limits = [], {}
        for i in range(count):
            try:
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                gpu_name = nv.nvmlDeviceGetName(handle)
                gpu_name = gpu_name.decode() if isinstance(gpu_name, bytes) else str(gpu_name)
            except Exception as e:
                self.not_measured.append(f"GPU {i} not measured: {nvml_reason(nv, e)}")
                continue
            mode = base = None
            try:
                base = nv.nvmlDeviceGetTotalEnergyConsumption(handle)
                mode = "energy"
            except Exception as e:
                energy_reason = nvml_reason(nv, e)
                try:
                    nv.nvmlDeviceGetPowerUsage(handle)
                    mode = "power"
                    self.notes.append(f"gpu{i} ({gpu_name}): energy counter {energy_reason}, "
                                      "power readings integrated instead")
                except Exception as e2:
                    self.not_measured.append(f"GPU {i} ({gpu_name}) not measured: "
                                             f"energy counter {energy_reason}; power {nvml_reason(nv, e2)}")
            if mode is None:
                continue
            hardware = None
            try:
                hardware = nv.nvmlDeviceGetPowerManagementLimitConstraints(handle)[1] / 1000.0
            except Exception:
                pass  # older GPUs and the fake module: the default bound applies
            bound, origin = plausible.max_watts("gpu", self._max_watts, hardware)
            self._bounds.append(bound)
            self.limits[f"gpu{i}"] = {"max_W": bound, "from": origin}
            self._handles.append(handle)
            self._modes.append(mode)
            self._base.append(base)
            self.domains.append(Domain(f"gpu{i}"))
            self.gpus.append({"index": i, "name": gpu_name, "mode": mode})
        if not self._handles:
            raise SourceUnavailable("GPU not measured: " + "; ".join(self.not_measured))
        modes = set(self._modes)
        self.kind = "power" if "power" in modes else "counter"
        self.method = " + ".join(m for m, k in (("NVML energy counter", "energy"),
                                                 ("NVML power integration", "power")) if k in modes)
        self._integrator = PowerIntegrator(len(self._handles))
        self._last_mj = list(self._base)
        self._cum_mj = [0] * len(self._handles)
        self._good_w = [None] * len(self._handles)
        self.read_power_only = [m == "power" for m in self._modes]

    def read(self, now):
        nv = self._nv
        seconds = now - self._t if now >= self._t else math.inf
        self._t = now
        watts = []
        for i, handle in enumerate(self._handles):
            label = f"gpu{self.gpus[i]['index']}"
            try:
                if self._modes[i] == "energy":
                    mj = nv.nvmlDeviceGetTotalEnergyConsumption(handle)
                    # only a driver reload resets it: that interval is unknown, not negative
                    kind, value = plausible.counter_step(self._last_mj[i], mj, seconds, None,
                                                         self._bounds[i], scale=1e-3,
                                                         slack=plausible.SLOW_SLACK_S)
                    if kind == "gap":
                        self.record_gap(f"nvml {label}: energy counter {value}")
                    else:
                        self._cum_mj[i] += value
                    self._last_mj[i] = mj
                    watts.append(0.0)
                else:
                    w = nv.nvmlDeviceGetPowerUsage(handle) / 1000.0
                    if not plausible.power_ok(w, self._bounds[i]):
                        self.reject_sample(f"nvml {label}: power reading rejected (not finite, "
                                           f"negative or above {self._bounds[i]:g} W)")
                        w = self._good_w[i] if self._good_w[i] is not None else 0.0
                        if self._good_w[i] is None:
                            self.record_gap(f"nvml {label}: no good power reading yet")
                    self._good_w[i] = w
                    watts.append(w)
            except Exception as e:
                raise SourceReadError(f"NVML {label}: {nvml_reason(nv, e)}") from None
        integrated = self._integrator.add(now, watts)
        return [integrated[i] if self._modes[i] == "power" else self._cum_mj[i] / 1000.0
                for i in range(len(self._handles))]

    def describe(self):
        out = super().describe()
        out["gpus"] = list(self.gpus)
        return out

    def _shutdown(self):
        try:
            self._nv.nvmlShutdown()
        except Exception:
            pass

    def close(self):
        self._shutdown()
