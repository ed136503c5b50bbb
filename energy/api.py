"""The energy meter as a Python library: measure named windows of any code on this node.

    from graph500 import energy

    with energy.Meter() as meter:            # probes this node's counters, starts sampling
        with meter.window("solve"):
            solve()
        r = meter.result("solve")
    print(r["joules"], r["watts"], r["seconds"], r["complete"], r["not_measured"])

`begin(name)` / `end(name)` do the same as `window(name)`; a name entered again accumulates.
`result(name)` is a plain dict: seconds, joules and watts (None when nothing was measured, with
the reasons in `not_measured`), the per-source and per-domain joules, `complete` with
`incomplete_reasons` (a counter reset, a frozen zone, a rejected reading: the figure is then
not to be trusted), the method and the sources read. One meter per node: this measures the
whole node (every process on it), not only the calling code; for MPI programs use
energy.EnergyMonitor, which elects one reader per node. Never raises for missing counters.
"""
import time
from contextlib import contextmanager

from .config import MIN_INTERVAL, EnergyConfig
from .meter import NodeMeter
from .sampler import Sampler
from .sources import COMPONENT_GAPS, open_node_sources
from .sysfs import FileReader


class Meter:
    def __init__(self, powercap_root=None, cray_root=None, ipmi_log=None, nvml=True, interval=0.1,
                 max_watts=None, *, nvml_module=None, reader_factory=FileReader, keep_trace=False):
        """Options as the benchmark's --powercap-root, --cray-root, --ipmi-log, --no-nvml,
        --energy-interval and --energy-max-watts (EnergyConfigError on a bad value)."""
        self.cfg = EnergyConfig(interval=interval, powercap_root=powercap_root, cray_root=cray_root,
                                ipmi_log=ipmi_log, nvml=nvml, max_watts=max_watts)
        self.node = open_node_sources(self.cfg, "0", reader_factory=reader_factory,
                                      nvml_module=nvml_module)
        self.interval = self.cfg.interval
        self._meter = self._sampler = None
        self._clock = {}   # name -> [count, seconds, open start]
        if self.node.sources:
            self._meter = NodeMeter(self.node.sources, keep_trace=keep_trace)
            safest = min(s.max_interval for s in self.node.sources)
            if safest < self.interval:
                self.interval = max(safest, MIN_INTERVAL)
            self._meter.start()
            self._sampler = Sampler(self._meter.sample, self.interval)
            self._sampler.start()

    @property
    def method(self):
        return self.node.method if self.node.sources else "none"

    @property
    def not_measured(self):
        return list(self.node.not_measured)

    def begin(self, name):
        c = self._clock.setdefault(name, [0, 0.0, None])
        if c[2] is not None:
            raise ValueError(f"energy window {name!r} begun twice without end")
        if self._meter is not None:
            self._meter.begin(name)
        c[2] = time.perf_counter()

    def end(self, name):
        c = self._clock.get(name)
        if c is None or c[2] is None:
            raise ValueError(f"energy window {name!r} ended without begin")
        c[0] += 1
        c[1] += time.perf_counter() - c[2]
        c[2] = None
        if self._meter is not None:
            self._meter.end(name)

    @contextmanager
    def window(self, name):
        self.begin(name)
        try:
            yield self
        finally:
            self.end(name)

    def result(self, name):
        """The window's figures so far (closed intervals only), as a JSON-able dict."""
        if name not in self._clock:
            raise KeyError(f"no energy window {name!r}")
        count, seconds, _ = self._clock[name]
        out = {"name": name, "count": count, "seconds": seconds, "joules": None, "watts": None,
               "by_source": {}, "by_domain": {}, "complete": None, "incomplete_reasons": [],
               "method": self.method, "sources": [s.describe() for s in self.node.sources],
               "not_measured": [r for r in self.node.not_measured if r != COMPONENT_GAPS]
               + ([COMPONENT_GAPS] if COMPONENT_GAPS in self.node.not_measured else []),
               "notes": list(self.node.notes)}
        rec = self._meter.records.get(name) if self._meter is not None else None
        if rec is not None:
            by_source = {}
            for label, joules in rec.joules_by_domain.items():
                src = label.split(":", 1)[0]
                by_source[src] = by_source.get(src, 0.0) + joules
            out.update(joules=rec.joules, watts=rec.joules / rec.seconds if rec.seconds > 0 else None,
                       by_source=by_source, by_domain=dict(rec.joules_by_domain),
                       complete=rec.complete, incomplete_reasons=list(rec.reasons),
                       seconds_metered=rec.seconds)
        return out

    def trace(self):
        return list(self._meter.trace or []) if self._meter is not None else []

    def close(self):
        """Stop sampling and release the counters; results stay readable. Idempotent."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None
        for s in self.node.sources:
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
