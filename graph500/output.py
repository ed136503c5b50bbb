"""The reference's output block (spec section 7), the JSON result, and the output files'
checks before the run.

Every label is padded so the value starts at column 33; numbers use C's %g (%.11g for the
edge counts), which Python's %-formatting reproduces exactly.

Output files are checked on rank 0 (which writes them all) before the warm-up, so a path that
cannot be written is refused in a second, not after an hour of searches. At the end the block
and the JSON come first and the optional artefacts (trace, plot) after, so a failing artefact
costs only itself.
"""
import os

from graph500.energy.atomic import OutputError, check_writable, write_json_atomic  # noqa: F401 - the one writer
from graph500.energy.config import EnergyConfigError

from .stats import NAMES

# Kernel prefixes: two spaces after "bfs", one after "sssp", so both line up.
PREFIX = {"bfs": "bfs  ", "sssp": "sssp "}


def _line(label, text):
    return "%-32s%s" % (label, text)


def _g(x):
    return "%g" % x


def reference_block(result):
    """Lines of the block, from a result dict shaped like the JSON (see driver.py)."""
    kernels = [k for k in ("bfs", "sssp") if k in result]
    lines = [
        _line("SCALE:", "%d" % result["scale"]),
        _line("edgefactor:", "%d" % result["edgefactor"]),
        _line("NBFS:", "%d" % len(result["roots"])),
        _line("graph_generation:", _g(result["graph_generation"])),
        _line("num_mpi_processes:", "%d" % result["num_mpi_processes"]),
        _line("construction_time:", _g(result["construction_time"])),
    ]
    for k in kernels:
        for s in NAMES:
            lines.append(_line(PREFIX[k] + s + "_time:", _g(result[k][s + "_time"])))
    # The reference prints one nedge block: both kernels count the same edges per root.
    nedge = result[kernels[0]]
    for s in NAMES:
        lines.append(_line(s + "_nedge:", "%.11g" % nedge[s + "_nedge"]))
    for k in kernels:
        for s in NAMES[:5]:
            lines.append(_line(PREFIX[k] + s + "_TEPS:", _g(result[k][s + "_TEPS"])))
        lines.append(_line(PREFIX[k] + "harmonic_mean_TEPS:     !",
                           _g(result[k]["harmonic_mean_TEPS"])))
        lines.append(_line(PREFIX[k] + "harmonic_stddev_TEPS:",
                           _g(result[k]["harmonic_stddev_TEPS"])))
    for k in kernels:
        for s in NAMES:
            lines.append(_line(PREFIX[k] + s + "_validate:", _g(result[k][s + "_validate"])))
    return lines


# --- output files -----------------------------------------------------------------------------

def output_paths(args):
    """[(flag, path)] of the files rank 0 will write, in the order they are written."""
    cfg = getattr(args, "energy_config", None)
    pairs = [("--json", args.json),
             ("--energy-trace", getattr(cfg, "trace_path", None)),
             ("--energy-plot", getattr(cfg, "plot_path", None))]
    return [(flag, path) for flag, path in pairs if path is not None]


def check_output_path(flag, path):
    """None when `path` can be written as a result file, else the one-line reason. The rules
    are the atomic writer's own (energy/atomic.py), so what passes here is what it writes."""
    try:
        check_writable(path)
    except OutputError as e:
        return "%s %s" % (flag, e)
    return None


def check_outputs(args):
    """Every output path writable and each a different file; None or the one-line reason.
    Rank 0 only (the rank that writes them)."""
    seen = {}
    for flag, path in output_paths(args):
        problem = check_output_path(flag, path)
        if problem:
            return problem
        key = os.path.realpath(path)
        for other_flag, other in seen.items():
            same = other == key or (os.path.exists(key) and os.path.exists(other)
                                    and os.path.samefile(key, other))
            if same:
                return "%s and %s name the same file %s: each output needs its own" % (
                    other_flag, flag, path)
        seen[flag] = key
    # The energy package's own checks of its files (the plot's format, matplotlib importable).
    cfg = getattr(args, "energy_config", None)
    if cfg is not None:
        try:
            cfg.check_outputs(import_matplotlib=True)
        except EnergyConfigError as e:
            return str(e)
    return None
