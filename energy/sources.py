"""The per-node policy: which sources a node leader opens, and what the node total then means.

Most complete first, so that nothing is counted twice across sources:
1. Cray pm_counters: the board's own node counter, accelerators included (method "node counter");
   RAPL and NVML are then not read, their domains being inside it.
2. IPMI DCMI, when asked for: the BMC's node power (method "node counter").
3. RAPL plus NVML: CPU packages (+ DRAM) and GPUs, disjoint, summed (method "component sum");
   fans, disks, network and power-supply losses are then not measured, and the result says so.
4. Nothing: method "none", with every reason. Never an estimate.
A probe failure is a reason in `not_measured`, never an exception: the benchmark goes on.
The whole probe runs under a time limit (PROBE_TIMEOUT_S): a counter file on a hung file system
must cost the run its energy figures, not the run itself.
"""
import threading
from dataclasses import dataclass, field
from typing import List

from .cray import CraySource
from .ipmi import NEEDS_HELPER, IpmiSource
from .nvml import NvmlSource
from .rapl import RaplSource
from .source import SourceUnavailable
from .sysfs import FileReader

NODE_GAPS = "outside the nodes: network switches, shared storage, cooling"
PROBE_TIMEOUT_S = 20.0
COMPONENT_GAPS = ("fans, disks, network, voltage regulators and power-supply losses "
                  "(on-board component counters do not see them)")


@dataclass
class NodeSources:
    method: str = "none"
    sources: List[object] = field(default_factory=list)
    not_measured: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _try(make, reasons, prefix):
    try:
        return make()
    except SourceUnavailable as e:
        text = str(e)
    except Exception as e:  # a probe bug or an odd file system must not stop the benchmark
        text = f"unexpected {type(e).__name__} while probing: {e}"
    reasons.append(text if text.startswith(prefix) else prefix + text)
    return None


def open_node_sources(cfg, label, host=None, *, reader_factory=FileReader, nvml_module=None,
                      timeout=PROBE_TIMEOUT_S):
    """The node's sources, probed in a helper thread that may take at most `timeout` seconds."""
    box = {}

    def probe():
        try:
            box["out"] = _open_node_sources(cfg, label, host, reader_factory, nvml_module)
        except Exception as e:  # a bug in a probe must not stop the benchmark either
            box["error"] = f"{type(e).__name__}: {e}"

    t = threading.Thread(target=probe, name="graph500-energy-probe", daemon=True)
    t.start()
    t.join(timeout)
    if "out" in box:
        return box["out"]
    out = NodeSources()
    out.not_measured.append(
        f"energy not measured: unexpected {box['error']} while probing" if "error" in box else
        f"energy not measured: probing the counters took longer than {timeout:g} s "
        "(a hung file system or driver?)")
    return out


def _open_node_sources(cfg, label, host, reader_factory, nvml_module):
    out = NodeSources()
    limit = getattr(cfg, "max_watts", None)
    if not cfg.enabled:
        out.not_measured.append("energy metering off (--energy off)")
        return out
    reasons, cray_reasons = [], []
    cray = _try(lambda: CraySource(cfg.path_for("cray", label, host), reader_factory(),
                                     max_watts=limit),
                cray_reasons, "Cray pm_counters not read: ")
    # a machine without the Cray directory is the normal case, not a gap worth reporting
    reasons += [r for r in cray_reasons if "no Cray pm_counters directory" not in r]
    if cray is not None:
        out.method, out.sources = "node counter", [cray]
        out.notes.append("RAPL and NVML not read: inside the Cray node counter")
        out.not_measured = reasons + [NODE_GAPS]
        return out
    if cfg.ipmi:
        log = cfg.path_for("ipmi", label, host)
        if log is None:
            reasons.append(NEEDS_HELPER)
        else:
            ipmi = _try(lambda: IpmiSource(log, max_watts=limit), reasons, "IPMI not measured: ")
            if ipmi is not None:
                out.method, out.sources = "node counter", [ipmi]
                out.notes.append("RAPL and NVML not read: inside the IPMI node power")
                out.not_measured = reasons + [NODE_GAPS]
                return out
    cpu_reasons = []
    rapl = _try(lambda: RaplSource(cfg.path_for("powercap", label, host), reader_factory(),
                                     max_watts=limit),
                cpu_reasons, "CPU not measured: ")
    gpu = None
    if cfg.nvml:
        gpu = _try(lambda: NvmlSource(nvml_module, max_watts=limit), reasons, "GPU not measured: ")
    else:
        reasons.append("GPU not measured: --no-nvml")
    out.sources = [s for s in (rapl, gpu) if s is not None]
    out.not_measured = cpu_reasons + reasons
    for s in out.sources:
        out.not_measured.extend(s.not_measured)
        out.notes.extend(s.notes)
    if out.sources:
        out.method = "component sum"
        out.not_measured.append(COMPONENT_GAPS)
    return out
