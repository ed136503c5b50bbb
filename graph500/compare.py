"""`graph500 compare A.json B.json ...`: runs side by side, each number with its ratio to the
first run's.

TEPS fall as the graph outgrows the caches, so runs of different SCALEs are refused unless
--allow-different-scale is given; different edgefactors are compared but said so, since TEPS
count edges. An invalid run shows its status and failure and no numbers.
"""
import argparse
import json
import sys

from .result_file import NOT_RECORDED, ResultFileError, dict_at, fmt, load, mib
from .spec import KERNELS

PROG = "graph500 compare"
TEPS_ROWS = (("harmonic_mean", "harmonic mean"), ("min", "min"), ("median", "median"),
             ("max", "max"))


def rows(runs):
    """[(section, label, [value or None per run])]: what the table shows, in its order."""
    out = []

    def add(section, label, values):
        out.append((section, label, [None if r.invalid else v for r, v in zip(runs, values)]))

    def ran(r, k, v):
        return v if k in r.kernels else "not run"

    def measured(r, v, what="not measured"):
        # A record with an energy section that holds no number measured nothing: say so,
        # rather than "not recorded", which means the record has no such key.
        return v if v is not None or r.energy is None else what

    kernels = [k for k in KERNELS if any(k in r.kernels for r in runs)]
    for k in kernels:
        for stat, name in TEPS_ROWS:
            add("TEPS", "%s GTEPS %s" % (k.upper(), name),
                [ran(r, k, None if r.teps(k, stat) is None else r.teps(k, stat) / 1e9)
                 for r in runs])
    phases = [r.phase_seconds() for r in runs]
    for name in ("generation", "construction", "audit"):
        add("time (s)", name, [p[name] for p in phases])
    for what in ("searches", "validation"):
        for k in kernels:
            name = "%s %s" % (k, what)
            add("time (s)", name, [ran(r, k, "skipped" if what == "validation" and p[name] is None
                                       and r.status[0] == "not validated" else p[name])
                                   for r, p in zip(runs, phases)])
    add("time (s)", "start-up", [p["start-up"] for p in phases])
    add("memory (MiB)", "peak RSS, largest rank",
        [mib(max(r.peak_rss)) if r.peak_rss else None for r in runs])
    add("memory (MiB)", "peak RSS, all ranks", [mib(sum(r.peak_rss)) if r.peak_rss else None
                                                for r in runs])
    add("memory (MiB)", "estimate per node", [mib(r.memory_estimate) for r in runs])
    for k in kernels:
        add("energy", "%s MTEPS/W" % k.upper(),
            [ran(r, k, measured(r, r.mteps_per_watt(k)[0])) for r in runs])
        add("energy", "%s average power (W)" % k.upper(),
            [ran(r, k, measured(r, r.power_watts(k))) for r in runs])
    add("energy", "idle power (W)",
        [measured(r, r.idle_watts, "not measured" if r.idle_run else "not run") for r in runs])
    return out


def _ratio(v, base):
    if not isinstance(v, float) or not isinstance(base, float) or base == 0:
        return None
    return v / base


def _describe(i, r):
    status, _ = r.status
    threads = r.threads
    threads = "%d-%d" % threads if isinstance(threads, tuple) else (threads or "?")
    nodes = r.nodes[0]
    bits = ["SCALE %d" % r.scale, "edgefactor %d" % r.edgefactor,
            "%s ranks x %s threads" % (r.nranks or "?", threads),
            "%s node%s" % (nodes, "" if nodes == 1 else "s") if nodes is not None else "nodes " + NOT_RECORDED,
            "device " + (r.device or NOT_RECORDED),
            "status " + (status or NOT_RECORDED)]
    if r.get("start_time"):
        bits.append("started %s" % r.get("start_time"))
    line = "run %d: %s: %s" % (i + 1, r.path, ", ".join(bits))
    if r.invalid:
        line += "\n       invalid: %s (no numbers shown)" % r.failure
    method = dict_at(r.data, "energy").get("method")
    if r.external_meter():
        method = "external meter"
    line += "\n       energy: %s" % (method or NOT_RECORDED)
    return line


def check_comparable(runs, allow_different_scale):
    """Refuse different SCALEs unless allowed; return the notes the table should carry."""
    notes = []
    scales = sorted({r.scale for r in runs})
    if len(scales) > 1:
        which = ", ".join("%s: %d" % (r.path, r.scale) for r in runs)
        if not allow_different_scale:
            raise ResultFileError("different SCALEs (%s): TEPS fall as the graph outgrows the "
                                  "caches; pass --allow-different-scale to compare anyway" % which)
        notes.append("different SCALEs (%s), compared as asked" % which)
    if len({r.edgefactor for r in runs}) > 1:
        notes.append("different edgefactors (%s): TEPS count edges, so the ratios compare "
                     "different problems" % ", ".join("%s: %d" % (r.path, r.edgefactor) for r in runs))
    return notes


def render(runs, table, notes):
    lines = ["graph500 compare: %d runs; (xR) is the ratio to run 1 (TEPS and MTEPS/W: higher "
             "is better; time, memory, power: lower is better)" % len(runs)]
    lines += ["note: " + n for n in notes]
    lines += [_describe(i, r) for i, r in enumerate(runs)]
    cells = []
    for section, label, values in table:
        row = []
        for i, (r, v) in enumerate(zip(runs, values)):
            if r.invalid:
                row.append("invalid")
            elif v is None:
                row.append(NOT_RECORDED)
            elif isinstance(v, str):
                row.append(v)
            else:
                q = _ratio(v, values[0])
                row.append(fmt(v) + ("" if i == 0 or q is None else " (x%.3g)" % q))
        cells.append((section, label, row))
    width = max(len(label) for _, label, _ in cells) + 2
    colw = [max(len("run %d" % (i + 1)), *(len(row[i]) for _, _, row in cells)) + 2
            for i in range(len(runs))]
    header = " " * width + "".join(("run %d" % (i + 1)).rjust(colw[i]) for i in range(len(runs)))
    section = None
    for sec, label, row in cells:
        if sec != section:
            lines += ["", sec + ":" + header[len(sec) + 1:]]
            section = sec
        lines.append(label.ljust(width) + "".join(c.rjust(colw[i]) for i, c in enumerate(row)))
    return "\n".join(lines) + "\n"


def as_json(runs, table, notes):
    return {"runs": [{"file": r.path, "scale": r.scale, "edgefactor": r.edgefactor,
                      "status": r.status[0], "failure": r.failure if r.invalid else None}
                     for r in runs],
            "notes": notes,
            "rows": [{"section": sec, "label": label, "values": values,
                      "ratios": [None if i == 0 else _ratio(v, values[0])
                                 for i, v in enumerate(values)]}
                     for sec, label, values in table]}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ResultFileError(message)


def _parser():
    p = _Parser(prog=PROG, description="Compare graph500 results side by side, with ratios to "
                "the first: TEPS, phase times, memory, energy.")
    p.add_argument("results", nargs="+", metavar="RESULT.json", help="two or more result JSONs")
    p.add_argument("--allow-different-scale", action="store_true",
                   help="compare runs of different SCALEs (refused by default)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON instead")
    return p


def main(argv=None):
    try:
        a = _parser().parse_args(argv)
        if len(a.results) < 2:
            raise ResultFileError("needs at least two results to compare")
        runs = [load(p) for p in a.results]
        notes = check_comparable(runs, a.allow_different_scale)
        try:
            table = rows(runs)
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            # A value of a type no writer of these records produces: one line, no traceback.
            raise ResultFileError("malformed graph500 result among %s (%s: %s)"
                                  % (", ".join(a.results), type(e).__name__, e)) from None
    except ResultFileError as e:
        sys.stderr.write("%s: error: %s\n" % (PROG, e))
        return 2
    if a.json:
        sys.stdout.write(json.dumps(as_json(runs, table, notes), indent=1) + "\n")
    else:
        sys.stdout.write(render(runs, table, notes))
    return 0
