"""Fake hardware for tests and benchmarks: powercap and pm_counters trees, a dict reader, pynvml.

The sources take their roots, readers and NVML module by injection, so these fakes drive the real
code. Files are rewritten in place (same inode), as sysfs values change, because the real reader
keeps each file open and re-reads it from offset 0.
"""
import os
import threading
import time
import types
from pathlib import Path

MAX_RANGE_UJ = 262143328850  # a typical package max_energy_range_uj (about 262 kJ)


def write_value(path, value):
    """Rewrite in place (same inode). Write first, truncate after: a reader racing with it sees
    the new first token, never an empty file (which real sysfs never shows either)."""
    data = f"{value}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def powercap_zone(root, dirname, name, energy_uj=0, max_range=MAX_RANGE_UJ):
    d = Path(root) / dirname
    d.mkdir(parents=True, exist_ok=True)
    write_value(d / "name", name)
    write_value(d / "energy_uj", energy_uj)
    if max_range is not None:
        write_value(d / "max_energy_range_uj", max_range)
    return d


def set_energy(root, dirname, energy_uj):
    write_value(Path(root) / dirname / "energy_uj", energy_uj)


def single_socket(root, package=0, dram=0, psys=0, core=0, mmio=True, psys_zone=True):
    """package-0 with core/uncore/dram subzones, psys as intel-rapl:1, and an MMIO repeat of package-0."""
    powercap_zone(root, "intel-rapl:0", "package-0", package)
    powercap_zone(root, "intel-rapl:0:0", "core", core)
    powercap_zone(root, "intel-rapl:0:1", "uncore", 0)
    powercap_zone(root, "intel-rapl:0:2", "dram", dram)
    if psys_zone:
        powercap_zone(root, "intel-rapl:1", "psys", psys)
    if mmio:
        powercap_zone(root, "intel-rapl-mmio:0", "package-0", package)
    return Path(root)


def two_sockets_swapped(root, pkg0=0, pkg1=0, dram0=0, dram1=0):
    """Zone 0 is package-1 and zone 1 is package-0, each with its dram: indices opposite to names."""
    powercap_zone(root, "intel-rapl:0", "package-1", pkg1)
    powercap_zone(root, "intel-rapl:0:0", "dram", dram1)
    powercap_zone(root, "intel-rapl:1", "package-0", pkg0)
    powercap_zone(root, "intel-rapl:1:0", "dram", dram0)
    return Path(root)


def cray_tree(root, energy=0, accel=(), freshness=0, power=0):
    d = Path(root)
    d.mkdir(parents=True, exist_ok=True)
    write_value(d / "energy", f"{energy} J 1700000000000000 us")
    write_value(d / "power", f"{power} W 1700000000000000 us")
    write_value(d / "freshness", freshness)
    for i, e in enumerate(accel):
        write_value(d / f"accel{i}_energy", f"{e} J 1700000000000000 us")
    return d


class DictReader:
    """In-memory reader: {path: text or callable returning text}; directories are implied by paths."""

    def __init__(self, files=None):
        self.files = dict(files or {})
        self.opened = []
        self.reads = 0

    def listdir(self, path):
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/", 1)[0] for p in self.files if p.startswith(prefix)}
        if not names:
            raise FileNotFoundError(2, "No such file or directory", path)
        return sorted(names)

    def read(self, path):
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory", path)
        if path not in self.opened:
            self.opened.append(path)
        self.reads += 1
        value = self.files[path]
        return value() if callable(value) else str(value)

    def close(self):
        pass


class FakeGpu:
    def __init__(self, name="Fake GPU", energy_mj=0, power_mw=0, energy_supported=True,
                 power_supported=True):
        self.name, self.energy_mj, self.power_mw = name, energy_mj, power_mw
        self.energy_supported, self.power_supported = energy_supported, power_supported


_ERRORS = {"Uninitialized": 1, "NotSupported": 3, "NoPermission": 4, "DriverNotLoaded": 9,
           "LibraryNotFound": 12, "GpuIsLost": 15}


def fake_pynvml(gpus=(), init_error=None):
    """A pynvml stand-in with the real error classes' shape (NVMLError.value, NVMLError_<Name>)."""
    m = types.ModuleType("pynvml")

    class NVMLError(Exception):
        value = 999

        def __init__(self, value=None):
            if value is not None:
                self.value = value
            super().__init__(self.value)

        def __str__(self):
            return {v: k for k, v in _ERRORS.items()}.get(self.value, f"NVML error {self.value}")

    m.NVMLError = NVMLError
    for name, value in _ERRORS.items():
        const = "NVML_ERROR_" + "".join("_" + c if c.isupper() else c.upper() for c in name)[1:]
        setattr(m, const, value)
        setattr(m, f"NVMLError_{name}", type(f"NVMLError_{name}", (NVMLError,), {"value": value}))
    m.gpus = list(gpus)
    m.initialised = 0
    m.lost = False  # set True to make every later device query fail (GPU fell off the bus)

    def init():
        if init_error:
            raise getattr(m, f"NVMLError_{init_error}")()
        m.initialised += 1

    def shutdown():
        m.initialised -= 1

    def handle(i):
        if i >= len(m.gpus):
            raise m.NVMLError_NotSupported()
        return i

    def check(h):
        if m.initialised <= 0:
            raise m.NVMLError_Uninitialized()
        if m.lost:
            raise m.NVMLError_GpuIsLost()
        return m.gpus[h]

    def energy(h):
        g = check(h)
        if not g.energy_supported:
            raise m.NVMLError_NotSupported()
        return int(g.energy_mj)

    def power(h):
        g = check(h)
        if not g.power_supported:
            raise m.NVMLError_NotSupported()
        return int(g.power_mw)

    m.nvmlInit, m.nvmlShutdown = init, shutdown
    m.nvmlDeviceGetCount = lambda: len(m.gpus)
    m.nvmlDeviceGetHandleByIndex = handle
    m.nvmlDeviceGetName = lambda h: m.gpus[h].name
    m.nvmlDeviceGetTotalEnergyConsumption = energy
    m.nvmlDeviceGetPowerUsage = power
    return m


class DrivenTree:
    """A fake counter tree that a background thread advances while a test runs (a context
    manager): every `period` seconds it calls `self.step(elapsed)`, elapsed counted from
    __enter__. Subclasses build the tree in __init__ and write the counters in step()."""

    period = 0.002

    def __init__(self, root):
        self.root = root
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def step(self, elapsed):
        raise NotImplementedError

    def _run(self):
        t0 = time.monotonic()
        while not self.stop:
            self.step(time.monotonic() - t0)
            time.sleep(self.period)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()
