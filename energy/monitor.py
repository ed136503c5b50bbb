"""EnergyMonitor: the driver's one handle on energy, collective over an mpi4py communicator.

Lifecycle (every call on every rank): construct (node split; leaders probe their sources),
start() (first read, sampler thread), begin(name)/end(name) right after the driver's barriers,
finish() (stop the thread, gather the leaders' records to rank 0, build the `energy` section,
write trace and plot there). Non-leaders only check that phases pair up, so a mistake in the
driver fails the same way on every rank, and rank 0 keeps each phase's wall-clock intervals,
which `graph500 energy-join` needs even when no counter was readable. Missing counters are
never an error: they become "not measured: reason" in the result.
"""
import os
import sys
import time
from contextlib import contextmanager

from .atomic import OutputError
from .config import MIN_INTERVAL, EnergyConfig, EnergyConfigError
from .meter import NodeMeter
from .node import NodeMapError, split_nodes
from .sampler import Sampler
from .sources import open_node_sources
from .summary import build_result
from .sysfs import FileReader
from .trace import write_plot, write_trace_csv


class EnergyMonitor:
    def __init__(self, comm, cfg=None, *, nvml_module=None, reader_factory=FileReader,
                 search_device="cpu"):
        self.comm = comm
        # "cpu" or "gpu": which processors run the searches, i.e. whose power MTEPS/W needs.
        self.search_device = search_device
        self.cfg = cfg if cfg is not None else EnergyConfig()
        self.rank = comm.Get_rank() if comm is not None else 0
        try:
            self.node = split_nodes(comm, self.cfg.resolved_node_map())
        except NodeMapError as e:
            raise EnergyConfigError(str(e)) from None
        self._open = {}
        self._phases = {}
        self._finished = False
        self.meter = self.sampler = self.node_sources = None
        self.interval = self.cfg.interval
        if self.node.is_leader:
            self.node_sources = open_node_sources(self.cfg, self.node.label, self.node.host,
                                                  reader_factory=reader_factory, nvml_module=nvml_module)
            if self.node_sources.sources:
                keep = bool(self.cfg.trace_path or self.cfg.plot_path)
                self.meter = NodeMeter(self.node_sources.sources, keep_trace=keep)
                safest = min(s.max_interval for s in self.node_sources.sources)
                if safest < self.interval:
                    safest = max(safest, MIN_INTERVAL)
                    self.node_sources.notes.append(
                        f"sampling every {safest:.3g} s instead of {self.interval:g} s: a counter "
                        "can wrap that fast at full power, and every wrap must be seen")
                    self.interval = safest

    @property
    def measuring(self):
        """True on a node leader that has at least one source."""
        return self.meter is not None

    def start(self):
        if self.meter is not None and self.sampler is None:
            self.meter.start()
            self.sampler = Sampler(self.meter.sample, self.interval)
            self.sampler.start()

    def begin(self, name):
        if name in self._open:
            raise ValueError(f"energy phase {name!r} begun twice without end")
        self._open[name] = (time.perf_counter(), time.time())
        if self.meter is not None:
            self.meter.begin(name)

    def end(self, name):
        if name not in self._open:
            raise ValueError(f"energy phase {name!r} ended without begin")
        t0, w0 = self._open.pop(name)
        t1, w1 = time.perf_counter(), time.time()
        if self.meter is not None:
            self.meter.end(name)
        if self.rank == 0:
            rec = self._phases.setdefault(name, {"count": 0, "seconds": 0.0, "intervals": []})
            rec["count"] += 1
            rec["seconds"] += t1 - t0
            rec["intervals"].append([w0, w1])

    @contextmanager
    def phase(self, name):
        self.begin(name)
        try:
            yield
        finally:
            self.end(name)

    def _node_record(self):
        ns = self.node_sources
        rec = {"node": self.node.index, "label": self.node.label, "host": self.node.host,
               "leader_rank": self.rank, "method": ns.method if ns.sources else "none",
               "sources": [s.describe() for s in ns.sources],
               "not_measured": list(ns.not_measured), "notes": list(ns.notes),
               "files": [f for s in ns.sources for f in s.files],
               "phases": {}, "reads": 0, "largest_gap_s": 0.0, "wraps": 0, "lost": 0,
               "power_integrated": False, "warnings": []}
        if self.meter is not None:
            rec.update(self.meter.summary())
            if self.sampler is not None:
                rec["warnings"] += self.sampler.errors
        return rec

    def finish(self, teps=None, loop_teps=None, scale=None, defer_artefacts=False):
        """Collective. The `energy` dict on rank 0, None elsewhere. `scale` only titles the plot.

        With defer_artefacts the trace and plot are written only by write_artefacts() (rank 0),
        so that a caller can write its results first and lose none of them to a failing
        optional file. A trace or plot that cannot be written is a warning (in the result and
        on stderr), never an exception: the measured figures are kept and no partial file is
        left.
        """
        if self._finished:
            raise RuntimeError("EnergyMonitor.finish called twice")
        self._finished = True
        if self.sampler is not None:
            self.sampler.stop()
        left_open = list(self._open)
        for name in left_open:
            self.end(name)
        payload = trace = None
        if self.node.is_leader:
            payload = self._node_record()
            if self.meter is not None and self.meter.trace is not None:
                trace = (self.node.index, self.node.host, self.meter.trace)
            for s in self.node_sources.sources:
                s.close()
        if self.comm is not None:
            gathered = self.comm.gather((payload, trace), root=0)
            if self.node.node_comm is not None:
                self.node.node_comm.Free()
        else:
            gathered = [(payload, trace)]
        if self.rank != 0:
            return None
        nodes = [p for p, _ in gathered if p is not None]
        traces = [t for _, t in gathered if t is not None]
        warnings = [f"phase {n!r} was still open at finish; ended there" for n in left_open]
        cfg = self.cfg
        result = build_result(nodes=nodes, nnodes=self.node.nnodes, rank0_phases=self._phases,
                              teps=teps, loop_teps=loop_teps, interval=self.interval,
                              override=self.node.override, extra_warnings=warnings,
                              trace_path=cfg.trace_path, plot_path=cfg.plot_path,
                              search_device=self.search_device)
        self._artefacts = (traces, {k: v["intervals"] for k, v in self._phases.items()}, scale,
                           result)
        if not defer_artefacts:
            for problem in self.write_artefacts():
                print(problem, file=sys.stderr)
                result["warnings"].append(problem)
        return result

    def write_artefacts(self):
        """Rank 0, after finish(): write the trace, then the plot. Each failure is one line in
        the returned list and sets that artefact's path in the result to None; neither stops
        the other."""
        traces, intervals, scale, result = self._artefacts
        cfg = self.cfg
        problems = []
        if cfg.trace_path:
            try:
                write_trace_csv(cfg.trace_path, traces, self.interval / 2)
            except (OutputError, OSError, ValueError) as e:
                problems.append(f"energy trace not written: {e}")
                result["trace"] = None
        if cfg.plot_path:
            ranks = self.comm.Get_size() if self.comm is not None else None
            method = result["method"]
            detail = "; ".join(dict.fromkeys(s["method"] for s in result["sources"]
                                             if s.get("method")))
            try:
                problem = write_plot(cfg.plot_path, traces, intervals, self.interval / 2,
                                     scale=scale, ranks=ranks,
                                     method=f"{method} ({detail})" if detail else method)
            except (OutputError, OSError, ValueError) as e:
                problem = f"energy plot not written: {e}"
            if problem:
                problems.append(problem)
                result["plot"] = None
        return problems
