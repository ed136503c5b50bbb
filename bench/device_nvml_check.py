#!/usr/bin/env python3
"""Our NVML source on a real NVIDIA GPU: what it reads at idle and under a ~20 s load.

Self-contained: imports `energy` from the repository root, needs only nvidia-ml-py (and numba.cuda,
cupy or torch for the load). Prints the device, the method the source chose, its energy and
average power per phase, the raw NVML total-energy counter before and after, the raw power
readings, the cost of one read, and the same load measured again by the power-integration path
(the energy counter hidden) as a cross-check. Always exits 0 and prints what it saw, also with
no GPU. Total runtime stays under 60 s.
"""
import os
import statistics
import sys
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LOAD_SECONDS, IDLE_SECONDS, HZ = 20.0, 3.0, 10.0
T_START = time.monotonic()


def say(*a):
    print(f"[{time.monotonic() - T_START:5.1f}s]", *a, flush=True)


def gpu_load(seconds):
    """Heavy FMA loops on the GPU for about `seconds`; returns a description or raises."""
    errors = []
    try:
        import numpy as np
        from numba import cuda

        @cuda.jit
        def burn(a, n):
            i = cuda.grid(1)
            if i < a.size:
                x = a[i]
                for _ in range(n):
                    x = x * np.float32(1.0000001) + np.float32(1e-7)
                a[i] = x

        a = cuda.to_device(np.ones(1 << 23, dtype=np.float32))
        threads = 256
        blocks = (a.size + threads - 1) // threads
        burn[blocks, threads](a, 10)  # compile outside the timed load
        cuda.synchronize()
        end, launches = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            burn[blocks, threads](a, 20000)
            cuda.synchronize()
            launches += 1
        return f"numba.cuda FMA kernel, {launches} launches"
    except Exception as e:
        errors.append(f"numba.cuda: {type(e).__name__}: {' '.join(str(e).split())}")
    try:
        import cupy as cp
        x = cp.random.random((8192, 8192), dtype=cp.float32)
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            x = (x @ x) * cp.float32(1e-4)
            cp.cuda.Device().synchronize()
            n += 1
        return f"cupy 8192^2 matmul, {n} products (numba.cuda failed: {errors[0][:200]})"
    except Exception as e:
        errors.append(f"cupy: {type(e).__name__}: {' '.join(str(e).split())}")
    raise RuntimeError("no GPU load possible: " + " | ".join(e[:200] for e in errors))


def power_only(nv):
    """pynvml with the energy counter hidden, so NvmlSource takes its power-integration path."""
    m = types.ModuleType("pynvml_power_only")
    m.__dict__.update({k: getattr(nv, k) for k in dir(nv) if not k.startswith("__")})

    def no_energy(handle):
        raise nv.NVMLError_NotSupported()
    m.nvmlDeviceGetTotalEnergyConsumption = no_energy
    return m


def main():
    try:
        import pynvml as nv
    except ImportError as e:
        say("not measured: nvidia-ml-py is not importable:", e)
        whole_node()
        return
    from graph500.energy.meter import NodeMeter
    from graph500.energy.nvml import NvmlSource, nvml_reason
    from graph500.energy.sampler import Sampler
    from graph500.energy.source import SourceUnavailable

    # raw view, independent of our source
    raw_handles = []
    try:
        nv.nvmlInit()
        say("driver", nv.nvmlSystemGetDriverVersion(), "| NVML", nv.nvmlSystemGetNVMLVersion())
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            raw_handles.append(h)
            say(f"gpu{i}: {nv.nvmlDeviceGetName(h)}")
    except Exception as e:
        say("raw NVML: not measured:", nvml_reason(nv, e))

    def raw_energy():
        out = []
        for h in raw_handles:
            try:
                out.append(nv.nvmlDeviceGetTotalEnergyConsumption(h))
            except Exception as e:
                out.append(nvml_reason(nv, e))
        return out

    try:
        src = NvmlSource(nv)
    except SourceUnavailable as e:
        say("our source:", e)
        whole_node()
        return
    say("our source: method =", src.method, "| gpus =", src.gpus)
    for note in src.notes + src.not_measured:
        say("  note:", note)
    try:
        src_p = NvmlSource(power_only(nv))
        src_p.name = "nvml-power"
    except SourceUnavailable as e:
        src_p = None
        say("power-integration path unavailable:", e)

    t0 = time.perf_counter()
    for _ in range(200):
        src.read(time.perf_counter())
    say(f"one read of our source (all GPUs): {1e6 * (time.perf_counter() - t0) / 200:.1f} us")

    powers = []  # raw power readings at the sampler's rate, in W

    meter = NodeMeter([s for s in (src, src_p) if s is not None], keep_trace=True)

    def tick():
        meter.sample()
        if raw_handles:
            try:
                powers.append((time.monotonic(), nv.nvmlDeviceGetPowerUsage(raw_handles[0]) / 1000.0))
            except Exception:
                pass

    meter.start()
    sampler = Sampler(tick, 1.0 / HZ)
    sampler.start()
    e_before = raw_energy()
    meter.begin("idle")
    time.sleep(IDLE_SECONDS)
    meter.end("idle")
    n_idle = len(powers)
    meter.begin("load")
    try:
        what = gpu_load(LOAD_SECONDS)
    except Exception as e:
        what = f"{e}"
    meter.end("load")
    sampler.stop()
    e_after = raw_energy()
    say("load:", what)

    for name in ("idle", "load"):
        rec = meter.records[name]
        say(f"phase {name}: {rec.seconds:.2f} s, {rec.samples} reads, "
            f"largest gap {rec.largest_gap * 1000:.0f} ms")
        for label, joules in rec.joules_by_domain.items():
            say(f"  {label:<18} {joules:10.1f} J   {joules / rec.seconds:8.1f} W")
    say("raw NVML total energy (mJ) before:", e_before, "after:", e_after)
    if all(isinstance(x, int) for x in e_before + e_after) and e_before:
        d = (e_after[0] - e_before[0]) / 1000.0
        say(f"raw counter delta gpu0 over both phases: {d:.1f} J")
    for label, seg in (("idle", powers[:n_idle]), ("load", powers[n_idle:])):
        w = [p for _, p in seg]
        if w:
            integral = sum(0.5 * (a[1] + b[1]) * (b[0] - a[0]) for a, b in zip(seg, seg[1:]))
            say(f"raw power gpu0 {label}: n={len(w)} min {min(w):.1f} mean {statistics.mean(w):.1f} "
                f"max {max(w):.1f} W; trapezoid {integral:.1f} J; first {[round(x) for x in w[:5]]}")
    rec = meter.records["load"]
    a, b = rec.joules_by_domain.get("nvml:gpu0"), rec.joules_by_domain.get("nvml-power:gpu0")
    if a and b:
        say(f"load energy, counter vs power integration: {a:.1f} J vs {b:.1f} J ({100 * (b - a) / a:+.1f} %)")
    for s in meter.sources:
        for w in s.warnings:
            say("warning:", w)
    say("wraps", sum(s.wraps for s in meter.sources), "lost", sum(s.lost for s in meter.sources),
        "sampler errors", sampler.errors)
    for s in meter.sources:
        s.close()
    whole_node()


def whole_node():
    """What the monitor's own policy finds on this node (RAPL, Cray, NVML), read over 1 s."""
    from graph500.energy import EnergyConfig
    from graph500.energy.meter import NodeMeter
    from graph500.energy.sources import open_node_sources
    ns = open_node_sources(EnergyConfig(), "0")
    say("node policy: method =", ns.method, "| sources =", [s.describe()["domains"] for s in ns.sources])
    for text in ns.not_measured + ns.notes:
        say("  node:", text)
    if ns.sources:
        meter = NodeMeter(ns.sources)
        meter.start()
        meter.begin("probe")
        time.sleep(1.0)
        meter.end("probe")
        rec = meter.records["probe"]
        say(f"node total over {rec.seconds:.2f} s: {rec.joules:.1f} J = {rec.joules / rec.seconds:.1f} W",
            {k: round(v, 1) for k, v in rec.joules_by_domain.items()})
        for s in ns.sources:
            s.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # print what was seen, never fail the check itself
        say(f"check stopped: {type(e).__name__}: {e}")
    say("done")
    sys.exit(0)
