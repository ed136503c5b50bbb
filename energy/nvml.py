"""NVIDIA GPU energy through NVML (`import pynvml`, from the nvidia-ml-py package; optional).

Per GPU: the total-energy counter (millijoules since the driver loaded, Volta and later) when the
device supports it, else the board power (milliwatts) integrated between reads, which is only as
good as the sampling rate and the driver's own averaging of that reading. Every NVML failure
becomes a reason ("GPU not measured: NVIDIA driver not loaded"), never an exception out of the
probe: a node without GPUs is the common case. NVML enumerates every GPU of the node whatever
CUDA_VISIBLE_DEVICES says, which is what one meter per node needs.
"""
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

    def __init__(self, module=None):
        super().__init__()
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
        self.read_power_only = [m == "power" for m in self._modes]

    def read(self, now):
        nv = self._nv
        watts = []
        for i, handle in enumerate(self._handles):
            try:
                if self._modes[i] == "energy":
                    mj = nv.nvmlDeviceGetTotalEnergyConsumption(handle)
                    if mj < self._last_mj[i]:
                        # only a driver reload resets it: that interval is unknown, not negative
                        self.lost += 1
                        self.warn_once("gpu energy counter went back (driver reloaded?): interval dropped")
                    else:
                        self._cum_mj[i] += mj - self._last_mj[i]
                    self._last_mj[i] = mj
                    watts.append(0.0)
                else:
                    watts.append(nv.nvmlDeviceGetPowerUsage(handle) / 1000.0)
            except Exception as e:
                raise SourceReadError(f"NVML gpu{self.gpus[i]['index']}: {nvml_reason(nv, e)}") from None
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
