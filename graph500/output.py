"""The reference's output block (spec section 7) and the JSON result.

Every label is padded so the value starts at column 33; numbers use C's %g (%.11g for the
edge counts), which Python's %-formatting reproduces exactly.
"""
from energy.join import write_json_atomic  # noqa: F401 - the one atomic writer, shared

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
