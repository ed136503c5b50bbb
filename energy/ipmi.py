"""Node power from the BMC (IPMI DCMI power reading, watts, about 1 s resolution); opt-in.

Reading IPMI means running `ipmitool`, a fork and exec. Forking from a process that has
initialised MPI is unsafe (registered memory, progress threads), so a benchmark rank never does
it. Instead a small logger runs outside MPI, one per node, and appends "epoch_seconds,watts" to a
CSV; the node leader only reads that file. Two ways to start the logger:
- from the job script, before mpiexec: `python -m graph500.energy.ipmi --log /tmp/ipmi-{host}.csv &`;
- from the launcher process before it initialises MPI: `graph500.energy.ipmi.start_helper(path)`, which
  refuses once MPI is initialised and starts nothing on ranks other than node-local rank 0.
The log is also a valid meter log for `graph500 energy-join` (columns `time`, `watts`), which
integrates the BMC's own timestamps instead of our sample-and-hold of the latest reading.

The log is read only when it is a regular file (a FIFO or /dev/zero would block or never end),
from its last LOG_TAIL bytes at the probe and at most LOG_CHUNK bytes per read after that, so a
huge or endless file cannot stall a phase edge. A reading that is not finite, negative or above
the node's maximum power (energy.plausible) is rejected, counted, and the previous good reading
is held; the phases it falls in say so.
"""
import argparse
import atexit
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

from . import plausible
from .source import Domain, PowerIntegrator, Source, SourceReadError, SourceUnavailable
from .sysfs import NotARegularFile, open_regular

LOG_TAIL = 1 << 16    # bytes of an existing log read at the probe: only the newest lines matter
LOG_CHUNK = 1 << 20   # bytes read per read() at most; the rest waits for the next read

DEFAULT_COMMAND = "ipmitool dcmi power reading"
NEEDS_HELPER = ("IPMI not measured: --ipmi needs a logger started outside MPI (forking ipmitool "
                "from an MPI rank is unsafe): run `python -m graph500.energy.ipmi --log PATH` on each node "
                "before mpiexec, then pass --ipmi-log PATH")
_READING = re.compile(r"Instantaneous power reading\s*:\s*([0-9]+(?:\.[0-9]*)?)\s*Watts", re.I)
# Launchers' names for the node-local rank, read before MPI exists.
_LOCAL_RANK_VARS = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK",
                    "PALS_LOCAL_RANKID", "SLURM_LOCALID")


def parse_dcmi(text):
    """Watts from `ipmitool dcmi power reading` output, or None."""
    m = _READING.search(text)
    return float(m.group(1)) if m else None


def expand(path, host=None):
    return path.replace("{host}", host or socket.gethostname())


def helper_main(argv=None):
    """The logger loop: one reading per interval appended to --log, until SIGTERM or --count."""
    p = argparse.ArgumentParser(prog="python -m graph500.energy.ipmi",
                                description="Log IPMI DCMI node power for graph500 (run outside MPI).")
    p.add_argument("--log", required=True, help="CSV to append to; {host} is replaced")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--command", default=DEFAULT_COMMAND)
    p.add_argument("--count", type=int, default=0, help="stop after this many readings (0: never)")
    a = p.parse_args(argv)
    path = expand(a.log)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cmd = shlex.split(a.command)
    last_error = None
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", buffering=1) as log:
        if new:
            log.write("time,watts\n")
        n = 0
        next_t = time.time()
        while not stop and (a.count == 0 or n < a.count):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=max(5.0, a.interval * 5))
                watts = parse_dcmi(out.stdout)
                error = None if watts is not None else (out.stderr.strip() or "no power reading in output")
            except (OSError, subprocess.SubprocessError) as e:
                watts, error = None, str(e)
            if watts is not None:
                log.write(f"{time.time():.3f},{watts:g}\n")
            elif error != last_error:
                print(f"graph500.energy.ipmi: {error}", file=sys.stderr)
            last_error = error
            n += 1
            next_t += a.interval
            time.sleep(max(0.0, next_t - time.time()))
    return 0


def _local_rank(env):
    for var in _LOCAL_RANK_VARS:
        if env.get(var, "").strip().isdigit():
            return int(env[var])
    return None


def start_helper(log_path, interval=1.0, command=DEFAULT_COMMAND, env=None):
    """Start the logger as a child, before MPI_Init; returns the Popen, or None on other local ranks."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized():
        raise RuntimeError("graph500.energy.ipmi.start_helper must run before MPI is initialised "
                           "(forking after MPI_Init is unsafe)")
    env = os.environ if env is None else env
    if (_local_rank(env) or 0) != 0:
        return None
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child_env = dict(env)
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_parent, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-m", "graph500.energy.ipmi", "--log", log_path,
                             "--interval", str(interval), "--command", command],
                            env=child_env, stdin=subprocess.DEVNULL)
    atexit.register(lambda: proc.poll() is None and proc.terminate())
    return proc


class IpmiSource(Source):
    """Reads the newest line of the logger's CSV at each read; integrates it as held power."""

    name = "ipmi"
    kind = "power"
    method = "IPMI DCMI node power (BMC), sample-and-hold"

    def __init__(self, log_path, wait=3.0, stale_after=5.0, clock=time.time, max_watts=None):
        super().__init__()
        self.method = IpmiSource.method
        self.path = log_path
        self.stale_after = stale_after
        self._clock = clock
        self._bound, origin = plausible.max_watts("node", max_watts)
        self.limits = {"node": {"max_W": self._bound, "from": origin}}
        try:
            self._fd = open_regular(log_path)
        except FileNotFoundError:
            raise SourceUnavailable(f"IPMI not measured: no logger output at {log_path} "
                                    "(start `python -m graph500.energy.ipmi --log PATH` before mpiexec)") from None
        except NotARegularFile as e:
            raise SourceUnavailable(f"IPMI not measured: {e}") from None
        except OSError as e:
            raise SourceUnavailable(f"IPMI not measured: cannot open {log_path}: {e.strerror}") from None
        self.files = [log_path]
        size = os.fstat(self._fd).st_size
        self._offset = max(0, size - LOG_TAIL)
        self._partial = b""
        self._skip_first = self._offset > 0  # the tail starts mid-line
        self.latest = None
        deadline = time.monotonic() + wait
        while True:
            self._drain()
            if self.latest is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if self.latest is None:
            os.close(self._fd)
            why = (f"no plausible reading in {log_path} ({self.rejected} rejected: not finite, "
                   f"negative or above {self._bound:g} W)" if self.rejected
                   else f"no reading in {log_path} yet")
            raise SourceUnavailable(f"IPMI not measured: {why}")
        # readings rejected before the run are not the run's
        self.rejected, self.gaps, self.warnings = 0, {}, []
        self.domains = [Domain("node")]
        self._integrator = PowerIntegrator(1)
        self.stale_reads = 0

    def _drain(self):
        budget = LOG_CHUNK
        while budget > 0:
            chunk = os.pread(self._fd, min(65536, budget), self._offset)
            if not chunk:
                break
            budget -= len(chunk)
            self._offset += len(chunk)
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()
            if len(self._partial) > 4096:
                self._partial = b""  # no real log line is this long: drop it, not memory
            if self._skip_first and lines:
                lines.pop(0)
                self._skip_first = False
            for line in lines:
                fields = line.split(b",")
                try:
                    t, watts = float(fields[0]), float(fields[1])
                except (ValueError, IndexError):
                    continue  # the header, or a torn line
                if not plausible.power_ok(watts, self._bound) or not plausible.power_ok(t, float("inf")):
                    self.reject_sample(f"ipmi: reading rejected (not finite, negative or above "
                                       f"{self._bound:g} W) in {self.path}")
                    continue
                self.latest = (t, watts)

    def read(self, now):
        try:
            self._drain()
        except OSError as e:
            raise SourceReadError(f"reading {self.path}: {e.strerror}") from None
        t, watts = self.latest
        if self._clock() - t > self.stale_after:
            self.stale_reads += 1
            self.warn_once(f"IPMI log {self.path} is stale (last reading {self._clock() - t:.0f} s old): "
                           "held power may be wrong")
        return self._integrator.add(now, [watts])

    def close(self):
        try:
            os.close(self._fd)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(helper_main())
