#!/usr/bin/env python3
"""Does the energy sampler slow the searches? Runs the benchmark alternately with `--energy off` and
with the sampler reading a fake powercap tree at 10 Hz, N times each, and compares the median
`bfs  harmonic_mean_TEPS`. Runs alternate (off/on, then on/off) so that drift in the machine's
state falls on both sides equally.

    python bench/sampler_overhead.py -n 5 --args "-s 16 -e 16"
    python bench/sampler_overhead.py --cmd ".venv/bin/mpiexec -n 2 .venv/bin/python -m graph500"

--synthetic measures the same question without the benchmark: a nogil workload (a Numba prange
loop, or NumPy matrix products where Numba is unusable) timed in-process with the monitor off and
on; --nvml adds the real GPUs to the sampled sources.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from graph500.energy import fakes  # noqa: E402

TEPS = re.compile(r"^bfs  harmonic_mean_TEPS:\s+!\s+(\S+)", re.M)


def run_once(cmd, env, timeout):
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    m = TEPS.search(proc.stdout)
    if proc.returncode != 0 or not m:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise SystemExit(f"run failed (exit {proc.returncode}): {' '.join(cmd)}\n" + "\n".join(tail))
    return float(m.group(1))


def _workload(inner):
    """(callable doing nogil work on all cores, its name); `inner` scales the Numba loop."""
    import numpy as np
    try:
        import math
        from numba import njit, prange

        @njit(parallel=True, nogil=True, cache=False)
        def burn(x, reps):
            s = 0.0
            for i in prange(x.size):
                v = x[i]
                for _ in range(reps):
                    v = math.sqrt(v * 1.0001 + 1e-3)
                s += v
            return s

        x = np.random.default_rng(1).random(1 << 20)
        burn(x, 1)
        return (lambda: burn(x, inner)), f"numba prange sqrt loop, 2^20 x {inner}"
    except Exception as e:  # e.g. a Numba that does not match the installed NumPy
        a = np.random.default_rng(1).random((4096, 4096))
        return (lambda: a @ a), f"numpy 4096^2 matmul (numba unusable: {type(e).__name__})"


def synthetic(a, tree, tmp):
    import time
    from graph500 import energy
    work, name = _workload(a.inner)
    cfg = dict(powercap_root=tree, cray_root=os.path.join(tmp, "no-cray"), nvml=a.nvml,
               interval=a.interval)
    times = {"off": [], "on": []}
    for i in range(a.n):
        for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
            on = mode == "on"
            mon = energy.EnergyMonitor(None, energy.EnergyConfig(mode="auto" if on else "off", **cfg))
            mon.start()
            mon.begin("bfs")
            t0 = time.perf_counter()
            for _ in range(a.reps):
                work()
            times[mode].append(time.perf_counter() - t0)
            mon.end("bfs")
            result = mon.finish()
            if on and i == 0:
                edge = result["nodes"][0]["edge_read_s"]["max"]
                print(f"sources sampled: {[s['method'] for s in result['sources']]}, "
                      f"every {result['interval_s']:g} s; edge read max {1e3 * edge:.3g} ms")
            print(f"run {i + 1}/{a.n} energy {mode:<3} {times[mode][-1]:.4f} s", flush=True)
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"workload: {name}, {a.reps} calls per run")
    print(f"median seconds, energy off: {off:.4f}")
    print(f"median seconds, sampler at {1 / a.interval:g} Hz: {on:.4f}")
    print(f"slowdown (on - off) / off:  {100 * (on - off) / off:+.2f} %")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=5, help="runs per setting (default 5)")
    p.add_argument("--cmd", default=f"{sys.executable} -m graph500", help="the benchmark command")
    p.add_argument("--args", default="", help="extra benchmark arguments, e.g. '-s 16'")
    p.add_argument("--interval", type=float, default=0.1, help="sampler period with energy on (s)")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--synthetic", action="store_true", help="time a nogil workload in-process instead")
    p.add_argument("--reps", type=int, default=10, help="workload calls per synthetic run")
    p.add_argument("--inner", type=int, default=40, help="synthetic: inner iterations per element")
    p.add_argument("--nvml", action="store_true", help="synthetic: also sample the real GPUs through NVML")
    a = p.parse_args(argv)
    base = shlex.split(a.cmd) + shlex.split(a.args)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="g500-fake-powercap-") as tmp:
        tree = os.path.join(tmp, "powercap")
        fakes.two_sockets_swapped(tree)
        if a.synthetic:
            return synthetic(a, tree, tmp)
        settings = {
            "off": base + ["--energy", "off"],
            "on": base + ["--energy", "auto", "--energy-interval", str(a.interval), "--powercap-root", tree,
                          "--cray-root", os.path.join(tmp, "no-cray"), "--no-nvml"],
        }
        teps = {"off": [], "on": []}
        for i in range(a.n):
            for name in (("off", "on") if i % 2 == 0 else ("on", "off")):
                t = run_once(settings[name], env, a.timeout)
                teps[name].append(t)
                print(f"run {i + 1}/{a.n} energy {name:<3}  bfs harmonic_mean_TEPS {t:.6g}", flush=True)
    off, on = statistics.median(teps["off"]), statistics.median(teps["on"])
    print(f"median TEPS, energy off:                 {off:.6g}")
    print(f"median TEPS, sampler at {1 / a.interval:g} Hz (fake RAPL): {on:.6g}")
    print(f"difference (on - off) / off:             {100 * (on - off) / off:+.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
