"""The one interface every power source implements, and the errors its probe raises.

A source turns its hardware into cumulative joules per domain since it was opened. Counter
sources (RAPL, NVML energy, pm_counters) difference a hardware counter, so a phase's energy is
exact whatever the sampling rate. Power sources (NVML power, IPMI) integrate watts between reads
with the trapezoid rule, so their accuracy depends on how often they are read, and a phase with
few reads is flagged. Only domains marked `counted` enter the node total: double counting is
prevented once, by the source that knows its hardware (a package contains its cores, the Cray
node counter contains its accelerators).
"""
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    label: str
    counted: bool = True


class SourceUnavailable(Exception):
    """The probe found nothing to read; str(self) is the user-facing reason, one line."""


class SourceReadError(Exception):
    """A read failed after a successful probe (counter vanished, permission revoked)."""


class Source:
    """Base class: subclasses fill `domains` in their constructor (the probe) and implement read."""

    name = "source"
    kind = "counter"  # "counter" or "power" (integrated)

    def __init__(self):
        self.domains = []     # list[Domain], the order of read()'s values
        self.notes = []       # what discovery left out and why ("core not added: inside package-0")
        self.not_measured = []  # parts of the node this source should cover but cannot
        self.warnings = []    # raised while reading, each once
        self.files = []       # every file opened, for the audit in the result
        self.wraps = 0        # counter wraps unwrapped so far
        self.lost = 0         # read intervals whose energy could not be known (dropped, not guessed)
        self.rejected = 0     # power samples refused as impossible (NaN, inf, negative, too high)
        self.gaps = {}        # why each lost interval or rejected sample happened -> how often
        self.max_interval = math.inf  # longest gap between reads that stays unambiguous
        self.method = ""
        self.limits = {}      # label -> {"max_W", "from"}: the bound each interval is checked against
        self.reader = None    # file-reading sources (sysfs) keep their reader here, closed by close()

    def read(self, now):
        """Cumulative joules per domain since the probe; `now` is time.perf_counter()."""
        raise NotImplementedError

    def close(self):
        close = getattr(self.reader, "close", None)
        if close:
            close()

    def warn_once(self, text):
        if text not in self.warnings:
            self.warnings.append(text)

    def record_gap(self, text):
        """One interval whose energy cannot be known: nothing is added for it, and it is said."""
        self.lost += 1
        self.gaps[text] = self.gaps.get(text, 0) + 1
        self.warn_once(text)

    def reject_sample(self, text):
        """One power reading refused as physically impossible; the integral bridges over it."""
        self.rejected += 1
        self.gaps[text] = self.gaps.get(text, 0) + 1
        self.warn_once(text)

    def describe(self):
        return {
            "name": self.name,
            "kind": self.kind,
            "method": self.method,
            "domains": [d.label for d in self.domains if d.counted],
            "read_not_counted": [d.label for d in self.domains if not d.counted],
            "notes": list(self.notes),
            "files": list(self.files),
            "max_W": dict(self.limits),
        }


class PowerIntegrator:
    """Trapezoid integral of several power readings over the read times; the first read is t=0."""

    def __init__(self, n):
        self.joules = [0.0] * n
        self._t = None
        self._w = None

    def add(self, now, watts):
        if self._t is not None:
            dt = now - self._t
            if dt > 0:
                for i, (w0, w1) in enumerate(zip(self._w, watts)):
                    self.joules[i] += 0.5 * (w0 + w1) * dt
        self._t = now
        self._w = list(watts)
        return list(self.joules)
