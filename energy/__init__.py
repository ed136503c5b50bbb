"""Power meters, per-node sampling, phase accounting and MTEPS/W; never imports graph500 or kernels.

The driver's whole use of it::

    energy.add_arguments(parser)              # --energy, --energy-interval, --energy-trace, ...
    cfg = energy.EnergyConfig.from_args(args)  # EnergyConfigError("one line") on bad values,
                                               # including trace/plot paths that cannot be written
    cfg.check_outputs()                        # the same path checks again, on the writing rank
    mon = energy.EnergyMonitor(comm, cfg)      # collective: node split, leaders probe counters
    mon.start()                                # collective: first read, sampler thread
    mon.begin("bfs"); ...; mon.end("bfs")      # every rank, right after a barrier, outside timers
    result = mon.finish(teps={"bfs": hm, "sssp": hm_or_None},
                        loop_teps={"bfs": t_or_None, "sssp": t_or_None},
                        scale=SCALE)              # collective; dict on rank 0; scale titles the plot
    lines = energy.report_lines(result)        # after the reference block, rank 0

Phase names: idle, generation, construction, bfs, sssp, validation, energy_loop_bfs,
energy_loop_sssp, run. A phase may be entered many times (each timed search, each validation):
seconds, joules and samples accumulate, and every interval's wall-clock start and end is kept for
`graph500 energy-join` (energy.join.main). MTEPS/W uses energy_loop_<kernel> when that ran.

Cost: only each node's leader reads, at each edge, synchronously: about 30 us for four RAPL
zones, but one NVML energy query took about 4 ms on an H200 VM. Call begin() before a timer
starts and end() after it stops, with a barrier after begin(), so no leader's read falls inside a
timed search; the result reports each node's slowest edge read and warns above 1 ms.

Outside the benchmark: `graph500 energy probe|monitor` (energy.tool) and energy.Meter (energy.api)
measure any command or any Python code on one node.

IPMI is opt-in and never forked from a rank: run `python -m graph500.energy.ipmi --log PATH` on each node
before mpiexec (or call energy.ipmi.start_helper(PATH) before MPI is initialised), then pass
--ipmi-log PATH.

Modules: source (the interface), sysfs (reads, regular files only), rapl, nvml, cray, ipmi (the
sources), plausible (physical bounds: resets, jumps, frozen zones, impossible readings), sources
(which ones a node opens), node (one leader per node), meter (phase accounting), sampler (the
thread), monitor (collective API), api (energy.Meter: named windows in any Python program), tool
(`graph500 energy probe|monitor`), summary (JSON section), report (text), trace (CSV, plot),
join (external meter), atomic (every result file), config (options), fakes (fake hardware).

Environment variables (each overridden by its command-line option where one exists):
- GRAPH500_ENERGY_NODES: rank->node override for testing one machine as several nodes, either a
  list of node ids by rank ("0,0,1,1") or "block:K" (K consecutive ranks per node).
- GRAPH500_POWERCAP_ROOT (--powercap-root): powercap root, default /sys/class/powercap.
- GRAPH500_CRAY_ROOT (--cray-root): pm_counters root, default /sys/cray/pm_counters.
- GRAPH500_IPMI_LOG (--ipmi-log): CSV written by `python -m graph500.energy.ipmi` (read only with --ipmi).
The three paths may contain `{node}` (the node id: the override's id, else the node's index) and
`{host}` (the host name), so that each fake node reads its own tree.
"""
from .api import Meter
from .config import EnergyConfig, EnergyConfigError, add_arguments
from .monitor import EnergyMonitor
from .report import report_lines

__all__ = ["EnergyConfig", "EnergyConfigError", "EnergyMonitor", "Meter", "add_arguments",
           "report_lines"]
