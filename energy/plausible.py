"""Physical plausibility of counter intervals and power samples: what a real meter cannot show.

A wrong number is worse than none, so every counter interval and every power sample is checked
before it enters a phase's energy:
- Counter intervals: the energy between two reads must lie between 0 and the domain's maximum
  power times the time between the reads (plus SLACK_S for the counter's own update period and
  a late read). A counter that goes back is a wrap only when the wrapped difference passes this
  test; otherwise it was reset (driver reload, firmware) or jumped, and the interval's energy is
  unknown: it is recorded as a gap (never guessed), and the phases around it are incomplete.
- A counter that stands still for more than FROZEN_S while the CPUs are busy is frozen: a
  powered package or DRAM draws watts, and RAPL, NVML and pm_counters update every 1-100 ms, so
  nothing real stays flat for seconds under load. Each read while it stays flat is a gap.
- Power samples (IPMI, NVML power, external meters): NaN, infinity, negative or above the
  domain's maximum are rejected one by one and counted; the phase they fall in says so.

Maximum power per domain: the configured value (--energy-max-watts) when given, else what the
hardware says (RAPL constraint files, NVML's power-limit range) times HEADROOM, else these
deliberately generous defaults. They are bounds against nonsense (a reset read as 65 kW), not
estimates: anything a real machine draws passes them.
"""
import math
import os

DEFAULT_MAX_WATTS = {
    "package": 1000.0,   # one CPU package (the largest server parts are about 500 W)
    "dram": 500.0,       # one package's memory
    "psys": 5000.0,      # a whole platform as RAPL sees it
    "gpu": 2000.0,       # one accelerator (H200: 700 W, B200: 1000 W)
    "node": 20000.0,     # a whole node (Cray blade node, BMC reading)
    "meter": 1e6,        # an external meter or PDU log: up to a megawatt of machine
}
HEADROOM = 3.0   # hardware maxima are limits on average power; short bursts go above them
SLACK_S = 0.05   # RAPL: counter update period (about 1 ms) and a read that lands late
SLOW_SLACK_S = 0.5  # NVML (20-100 ms updates, more under load) and pm_counters (about 10 Hz)
FROZEN_S = 2.0   # a counter flat this long under load is frozen (real ones update every 1-100 ms;
#                 the margin absorbs a reader or a fake tree descheduled on a loaded machine)
BUSY_CPUS = 0.5  # "busy": at least half a CPU's worth of non-idle time over the frozen span


def domain_type(label):
    """'package-1' -> 'package', 'dram(package-0)' -> 'dram', 'gpu3' -> 'gpu'."""
    label = label.lower()
    for kind in ("psys", "dram", "package", "gpu", "meter"):
        if label.startswith(kind):
            return kind
    return "node"


def max_watts(label, configured=None, hardware=None):
    """(bound in W, where it comes from) for one domain."""
    if configured:
        return float(configured), "configured"
    if hardware and math.isfinite(hardware) and hardware > 0:
        return float(hardware) * HEADROOM, f"{HEADROOM:g} x the hardware's {hardware:g} W limit"
    kind = domain_type(label)
    return DEFAULT_MAX_WATTS[kind], f"default for a {kind} domain"


def interval_ok(joules, seconds, bound_w, slack=SLACK_S):
    """Energy over an interval is physically possible for a domain of at most bound_w, allowing
    `slack` seconds for a counter that updates in steps (a step may land between two reads)."""
    return 0 <= joules <= bound_w * (max(seconds, 0.0) + slack)


def counter_step(prev, cur, seconds, max_range, bound_w, scale=1.0, slack=SLACK_S):
    """Classify one counter interval: ("ok"|"wrap", delta) or ("gap", why).

    prev, cur and max_range are raw counter units; scale converts a unit to joules.
    """
    delta = cur - prev
    if delta >= 0:
        if interval_ok(delta * scale, seconds, bound_w, slack):
            return "ok", delta
        return "gap", (f"jumped by {delta * scale:.6g} J in {seconds:.3g} s "
                       f"(above {bound_w:g} W): energy of that interval unknown")
    if max_range:
        wrapped = delta + max_range + 1
        if interval_ok(wrapped * scale, seconds, bound_w, slack):
            return "wrap", wrapped
        return "gap", (f"went back by {-delta * scale:.6g} J, which no wrap explains at up to "
                       f"{bound_w:g} W (reset?): energy of that interval unknown")
    return "gap", ("went back with no max_energy_range_uj (a wrap that cannot be sized, or a "
                   "reset): energy of that interval unknown")


def power_ok(watts, bound_w):
    """A single power reading that can be believed: finite, not negative, within the bound."""
    return isinstance(watts, (int, float)) and math.isfinite(watts) and 0 <= watts <= bound_w


class CpuBusy:
    """Whether the node's CPUs were busy between two moments, from /proc/stat.

    Read only when a counter has stood still (rare on real hardware), so it costs nothing in
    the common case. Without /proc/stat the machine counts as busy: a flat counter is then
    flagged, the safe side.
    """

    def __init__(self, path="/proc/stat"):
        self.path = path

    def snapshot(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            try:
                text = os.read(fd, 1 << 16).decode("ascii", "replace")
            finally:
                os.close(fd)
            lines = text.splitlines()
            fields = [int(x) for x in lines[0].split()[1:]]
            ncpu = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        total = sum(fields[:8])  # user..steal; guest time is already inside user
        return total - idle, total, max(ncpu, 1)

    @staticmethod
    def busy(a, b):
        """True/False between two snapshots; True when either is unknown or no tick passed."""
        if a is None or b is None or b[1] <= a[1]:
            return True
        return (b[0] - a[0]) / (b[1] - a[1]) * b[2] >= BUSY_CPUS


class FrozenWatch:
    """Per domain: since when its counter has not moved, and whether that is now implausible."""

    def __init__(self, n, busy=None, frozen_s=FROZEN_S):
        self.frozen_s = frozen_s
        self._busy = busy if busy is not None else CpuBusy()
        self._since = [None] * n   # (time first seen flat, CPU snapshot then)

    def update(self, i, moved, now):
        """Record one read of domain i; True when the domain is frozen at this read."""
        if moved:
            self._since[i] = None
            return False
        since = self._since[i]
        if since is None:
            self._since[i] = (now, None)
            return False
        t0, snap = since
        if snap is None:
            # the CPU snapshot is taken at the second flat read, not at every read
            self._since[i] = (t0, self._busy.snapshot())
            return False
        if now - t0 <= self.frozen_s:
            return False
        return CpuBusy.busy(snap, self._busy.snapshot())

    def frozen_text(self):
        return (f"counter stood still for more than {self.frozen_s:g} s while the CPUs were busy "
                "(frozen zone): energy while frozen unknown")
