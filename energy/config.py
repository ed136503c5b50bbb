"""Energy options: the argparse flags, the validated EnergyConfig, and where each meter lives.

Paths may hold `{node}` (the node's id, see energy.node) and `{host}`; a path left unset falls
back to its environment variable, then to the real sysfs location. The environment is read when
the monitor opens its sources, so a test can build EnergyConfig() directly and steer it with
variables that mpiexec passes to every rank.
"""
import math
import os
import socket
import sys
from dataclasses import dataclass
from typing import Optional

from . import cray, rapl
from .atomic import OutputError, check_writable
from .node import ENV_NODES, NodeMapError, parse_node_map

ENV_POWERCAP = "GRAPH500_POWERCAP_ROOT"
ENV_CRAY = "GRAPH500_CRAY_ROOT"
ENV_IPMI_LOG = "GRAPH500_IPMI_LOG"
MIN_INTERVAL, MAX_INTERVAL = 0.005, 1.0


class EnergyConfigError(ValueError):
    """A bad option value; str(self) is the one-line message for the user."""


def add_arguments(parser):
    g = parser.add_argument_group("energy", "measured energy and MTEPS/W (see energy/__init__.py)")
    g.add_argument("--energy", choices=("auto", "off"), default="auto",
                   help="read the node's power counters (auto) or not (off); default auto")
    g.add_argument("--energy-interval", type=float, default=0.1, metavar="SECONDS",
                   help=f"background sampling period, {MIN_INTERVAL:g}..{MAX_INTERVAL:g} s (default 0.1)")
    g.add_argument("--energy-trace", metavar="PATH",
                   help="write the power samples and phase marks as CSV")
    g.add_argument("--energy-plot", metavar="PATH",
                   help="plot power over time with phases shaded (needs matplotlib)")
    g.add_argument("--ipmi", action="store_true",
                   help="read node power (IPMI DCMI) from a logger started outside MPI (opt-in; "
                        "see energy/ipmi.py)")
    g.add_argument("--ipmi-log", metavar="PATH",
                   help=f"the IPMI logger's CSV, {{node}}/{{host}} allowed (env {ENV_IPMI_LOG})")
    g.add_argument("--no-nvml", action="store_true", help="do not read NVIDIA GPUs through NVML")
    g.add_argument("--energy-max-watts", type=float, metavar="WATTS",
                   help="most power any one measured domain can draw; a counter interval above it "
                        "is a gap, a power reading above it is rejected (default: the hardware's "
                        "limits times 3, else generous per-domain defaults, see energy/plausible.py)")
    g.add_argument("--powercap-root", metavar="PATH",
                   help=f"powercap sysfs root (env {ENV_POWERCAP}; default {rapl.DEFAULT_ROOT})")
    g.add_argument("--cray-root", metavar="PATH",
                   help=f"Cray pm_counters root (env {ENV_CRAY}; default {cray.DEFAULT_ROOT})")
    return g


# What matplotlib's default (Agg-based) canvas saves; checked without importing matplotlib, which
# costs a second and tens of MB on every rank that parses the options.
PLOT_FORMATS = frozenset({"eps", "jpeg", "jpg", "pdf", "pgf", "png", "ps", "raw", "rgba", "svg",
                          "svgz", "tif", "tiff", "webp"})


def plot_formats(import_matplotlib=False):
    """The file extensions a plot can take; EnergyConfigError when matplotlib is missing.
    With import_matplotlib, asks the installed matplotlib itself (the writing rank can afford it)."""
    import importlib.util
    missing = EnergyConfigError("--energy-plot needs matplotlib, which is not installed "
                                "(pip install matplotlib)")
    try:
        if sys.modules.get("matplotlib.figure", ()) is None or \
                importlib.util.find_spec("matplotlib") is None:
            raise missing
    except (ImportError, ValueError):
        raise missing from None
    if not import_matplotlib:
        return set(PLOT_FORMATS)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise missing from None
    return set(Figure().canvas.get_supported_filetypes())


def _check_output_path(flag, path, plot=False, import_matplotlib=False):
    """One line (EnergyConfigError) unless `path` can take the artefact at the end of the run:
    a writable regular-file location, and for a plot an extension matplotlib can write."""
    if path is None:
        return
    if not str(path).strip():
        raise EnergyConfigError(f"{flag} needs a path, got an empty string")
    try:
        check_writable(path)
    except OutputError as e:
        raise EnergyConfigError(f"{flag}: {e}") from None
    if plot:
        ext = os.path.splitext(path)[1].lstrip(".").lower()
        formats = plot_formats(import_matplotlib)
        if not ext:
            raise EnergyConfigError(f"{flag} {path}: no extension to choose the format by "
                                    f"(one of {', '.join(sorted(formats))})")
        if ext not in formats:
            raise EnergyConfigError(f"{flag} {path}: matplotlib cannot write .{ext} files "
                                    f"(one of {', '.join(sorted(formats))})")


def check_output_paths(trace_path=None, plot_path=None, import_matplotlib=False):
    """Up-front check of the energy artefacts' paths, for the rank that will write them."""
    _check_output_path("--energy-trace", trace_path)
    _check_output_path("--energy-plot", plot_path, plot=True, import_matplotlib=import_matplotlib)


@dataclass
class EnergyConfig:
    mode: str = "auto"
    interval: float = 0.1
    trace_path: Optional[str] = None
    plot_path: Optional[str] = None
    ipmi: bool = False
    ipmi_log: Optional[str] = None
    nvml: bool = True
    powercap_root: Optional[str] = None
    cray_root: Optional[str] = None
    node_map: Optional[str] = None   # else env GRAPH500_ENERGY_NODES, else the real node split
    max_watts: Optional[float] = None  # bound on any one domain's power (energy.plausible)

    def __post_init__(self):
        if self.mode not in ("auto", "off"):
            raise EnergyConfigError(f"--energy must be auto or off, not {self.mode!r}")
        try:
            interval = float(self.interval)
        except (TypeError, ValueError):
            raise EnergyConfigError(f"--energy-interval {self.interval!r} is not a number") from None
        if not math.isfinite(interval) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise EnergyConfigError(f"--energy-interval must be between {MIN_INTERVAL:g} and "
                                    f"{MAX_INTERVAL:g} s (wraps must stay unambiguous), got {self.interval}")
        self.interval = interval
        if self.max_watts is not None:
            try:
                w = float(self.max_watts)
            except (TypeError, ValueError):
                raise EnergyConfigError(f"--energy-max-watts {self.max_watts!r} is not a number") from None
            if not math.isfinite(w) or w <= 0:
                raise EnergyConfigError(f"--energy-max-watts must be a positive finite number of "
                                        f"watts, got {self.max_watts}")
            self.max_watts = w
        if self.trace_path is not None and self.plot_path is not None and \
                os.path.abspath(self.trace_path) == os.path.abspath(self.plot_path):
            raise EnergyConfigError("--energy-trace and --energy-plot name the same file")
        self.check_outputs()
        if self.ipmi_log:
            self.ipmi = True
        if self.node_map is not None:
            try:
                parse_node_map(self.node_map, 1 if self.node_map.startswith("block:") else
                               len(self.node_map.split(",")))
            except NodeMapError as e:
                raise EnergyConfigError(str(e)) from None

    def check_outputs(self, import_matplotlib=False):
        """Check the trace and plot paths now (EnergyConfigError, one line). Every rank does the
        cheap checks when the options are parsed; the writing rank (rank 0) may call this again
        with import_matplotlib=True just before the run, to load matplotlib itself."""
        check_output_paths(self.trace_path, self.plot_path, import_matplotlib)

    @classmethod
    def from_args(cls, args):
        """From an argparse namespace; flags the parser lacks take their defaults."""
        get = lambda name, default=None: getattr(args, name, default)  # noqa: E731
        return cls(mode=get("energy", "auto") or "auto",
                   interval=get("energy_interval", 0.1) if get("energy_interval") is not None else 0.1,
                   trace_path=get("energy_trace"), plot_path=get("energy_plot"),
                   ipmi=bool(get("ipmi", False)), ipmi_log=get("ipmi_log"),
                   nvml=not get("no_nvml", False),
                   powercap_root=get("powercap_root"), cray_root=get("cray_root"),
                   max_watts=get("energy_max_watts"))

    @property
    def enabled(self):
        return self.mode != "off"

    def resolved_node_map(self, env=None):
        env = os.environ if env is None else env
        return self.node_map if self.node_map is not None else (env.get(ENV_NODES) or None)

    def path_for(self, which, node_label, host=None, env=None):
        """The root (or log) for one node: option, else environment variable, else the default."""
        env = os.environ if env is None else env
        value, var, default = {
            "powercap": (self.powercap_root, ENV_POWERCAP, rapl.DEFAULT_ROOT),
            "cray": (self.cray_root, ENV_CRAY, cray.DEFAULT_ROOT),
            "ipmi": (self.ipmi_log, ENV_IPMI_LOG, None),
        }[which]
        path = value or env.get(var) or default
        if path is None:
            return None
        return path.replace("{node}", str(node_label)).replace("{host}", host or socket.gethostname())
