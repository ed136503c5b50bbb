"""One node's phase accounting over its sources (lives on the node leader only).

Every read, from a phase edge or from the sampler thread, goes through one lock: a source's
unwrap state must see its reads in order. A phase's energy is the counted total at its end edge
minus the total at its begin edge, both read synchronously, so the sampler never decides an
energy; it only keeps the reads close enough for unwrapping (and for integrating power sources)
and records the trace. Phases are keyed by name and may overlap ("bfs" inside "run"); a name
entered again accumulates into the same record.
"""
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List


@dataclass
class PhaseRecord:
    count: int = 0            # how many begin/end intervals
    seconds: float = 0.0
    joules: float = 0.0
    joules_by_domain: Dict[str, float] = field(default_factory=dict)
    samples: int = 0          # reads inside the intervals, both edges included
    wraps: int = 0
    lost: int = 0             # intervals a source could not account for (energy under-counted)
    failed: bool = False      # a source stopped answering during the phase
    largest_gap: float = 0.0  # longest time between two reads inside the phase
    rejected: int = 0         # impossible power readings refused inside the phase
    reasons: List[str] = field(default_factory=list)  # why it is incomplete, each once

    @property
    def complete(self):
        return self.lost == 0 and not self.failed and self.rejected == 0

    def to_dict(self):
        return {"count": self.count, "seconds": self.seconds, "joules": self.joules,
                "watts": self.joules / self.seconds if self.seconds > 0 else None,
                "joules_by_domain": dict(self.joules_by_domain), "samples": self.samples,
                "wraps": self.wraps, "lost": self.lost, "failed": self.failed,
                "complete": self.complete, "largest_gap_s": self.largest_gap,
                "rejected_samples": self.rejected, "incomplete_reasons": list(self.reasons)}


class _Open:
    __slots__ = ("t", "total", "cum", "wraps", "lost", "failed", "samples", "gap", "edge_ok",
                 "rejected", "gaps", "failures")


# Consecutive failed reads after which a source is given up. One failure is retried: the
# counter's last good value is kept, so the next good read still spans the whole interval.
GIVE_UP_AFTER = 3


class NodeMeter:
    def __init__(self, sources, keep_trace=False, clock=time.perf_counter, wall=time.time):
        self.sources = list(sources)
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._labels = [[f"{s.name}:{d.label}" for d in s.domains] for s in self.sources]
        self._counted = [[d.counted for d in s.domains] for s in self.sources]
        self._cum = [[0.0] * len(s.domains) for s in self.sources]
        self._failed = [False] * len(self.sources)
        self._errors = [0] * len(self.sources)
        self.read_errors = 0
        self._open = {}
        self.records = {}
        self.failures = []
        self.trace = [] if keep_trace else None
        self.reads = 0
        self.largest_gap = 0.0
        self.total = 0.0
        self._t_last = None
        self.t0 = None
        self.edge_seconds = 0.0   # time the driver's thread spent in edge reads
        self.edge_max = 0.0
        self.edges = 0
        self.power_integrated = any(s.kind == "power" for s in self.sources)

    # -- reads -----------------------------------------------------------------------------
    def _read(self, kind, phase):
        now, wall = self._clock(), self._wall()
        if self.t0 is None:
            self.t0 = (now, wall)
        ok = True
        for i, src in enumerate(self.sources):
            if self._failed[i]:
                continue
            try:
                self._cum[i] = src.read(now)
                self._errors[i] = 0
            except Exception as e:  # a dead counter must not stop the benchmark
                ok = False
                self.read_errors += 1
                self._errors[i] += 1
                if self._errors[i] >= GIVE_UP_AFTER:
                    self._failed[i] = True
                    self.failures.append(f"{src.name} stopped answering {now - self.t0[0]:.1f} s into "
                                         f"the run ({e}); phases still open then are incomplete")
                else:
                    src.warn_once(f"{src.name}: read error ({e}); a phase edge read then is inexact")
        total = 0.0
        for cum, counted in zip(self._cum, self._counted):
            for v, c in zip(cum, counted):
                if c:
                    total += v
        self.total = total
        self.reads += 1
        if self._t_last is not None:
            gap = now - self._t_last
            if gap > self.largest_gap:
                self.largest_gap = gap
            for op in self._open.values():
                op.samples += 1
                if gap > op.gap:
                    op.gap = gap
        self._t_last = now
        if self.trace is not None:
            self.trace.append((wall, now - self.t0[0], kind, phase, total))
        return now, ok

    def _state(self):
        return (sum(s.wraps for s in self.sources), sum(s.lost for s in self.sources),
                sum(self._failed))

    def _gap_state(self):
        """(rejected samples, every source's gap reasons with counts, failures so far)."""
        return (sum(s.rejected for s in self.sources),
                [dict(s.gaps) for s in self.sources], len(self.failures))

    def start(self):
        with self._lock:
            self._read("start", "")

    def sample(self):
        with self._lock:
            self._read("sample", "")

    # -- phases ----------------------------------------------------------------------------
    def begin(self, name):
        with self._lock:
            if name in self._open:
                raise ValueError(f"energy phase {name!r} begun twice without end")
            now, ok = self._read("begin", name)
            self._edge_cost(now)
            op = _Open()
            op.edge_ok = ok
            op.t, op.total = now, self.total
            op.cum = [list(c) for c in self._cum]
            op.wraps, op.lost, op.failed = self._state()
            op.rejected, op.gaps, op.failures = self._gap_state()
            op.samples, op.gap = 1, 0.0
            self._open[name] = op

    def end(self, name):
        with self._lock:
            if name not in self._open:
                raise ValueError(f"energy phase {name!r} ended without begin")
            now, ok = self._read("end", name)
            self._edge_cost(now)
            op = self._open.pop(name)
            rec = self.records.setdefault(name, PhaseRecord())
            wraps, lost, failed = self._state()
            rec.count += 1
            rec.seconds += now - op.t
            rec.joules += self.total - op.total
            for labels, counted, c0, c1 in zip(self._labels, self._counted, op.cum, self._cum):
                for label, is_counted, a, b in zip(labels, counted, c0, c1):
                    if is_counted:
                        rec.joules_by_domain[label] = rec.joules_by_domain.get(label, 0.0) + (b - a)
            rec.samples += op.samples
            rec.wraps += wraps - op.wraps
            rec.lost += lost - op.lost
            rec.failed = rec.failed or failed > op.failed or not (ok and op.edge_ok)
            rec.largest_gap = max(rec.largest_gap, op.gap)
            rejected, gaps, failures = self._gap_state()
            rec.rejected += rejected - op.rejected
            new = [text for before, after in zip(op.gaps, gaps) for text, n in after.items()
                   if n > before.get(text, 0)]
            new += self.failures[op.failures:failures]
            if not (ok and op.edge_ok) and failed == op.failed:
                new.append("a counter read failed at a phase edge")
            for text in new:
                if text not in rec.reasons:
                    rec.reasons.append(text)

    def _edge_cost(self, started):
        cost = self._clock() - started
        self.edges += 1
        self.edge_seconds += cost
        self.edge_max = max(self.edge_max, cost)

    def open_phases(self):
        return list(self._open)

    def summary(self):
        warnings = [w for s in self.sources for w in s.warnings] + list(self.failures)
        return {"phases": {k: r.to_dict() for k, r in self.records.items()},
                "reads": self.reads, "largest_gap_s": self.largest_gap,
                "wraps": sum(s.wraps for s in self.sources), "lost": sum(s.lost for s in self.sources),
                "read_errors": self.read_errors,
                "edge_read_s": {"count": self.edges, "max": self.edge_max,
                                "mean": self.edge_seconds / self.edges if self.edges else None},
                "power_integrated": self.power_integrated, "warnings": warnings}
