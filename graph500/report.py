"""`graph500 report RESULT.json`: what a Graph500 / Green Graph500 submission asks for, from a
run's JSON record.

The Graph500 list shows, per entry: site, machine, nodes, cores, problem SCALE and GTEPS (the
harmonic mean of the 64 searches' TEPS), the submission carrying the full output block. The
Green Graph500 rules (v1.1, derived from Green500 / EEHPC) add MTEPS/W from the total system
power, idle power included and not subtracted, measured while the reported searches ran; the
measurement level and what the meter covered; power-saving features used. The record holds
what the run itself knows; the rest (site, machine name, interconnect ...) is listed as for the
submitter to fill in. A key the record lacks prints as "not recorded". An invalid run prints
its failure and no numbers.
"""
import argparse
import json
import shlex
import sys

from .result_file import (NOT_RECORDED, ResultFileError, dict_at, fmt, integer, load, mib, number,
                          strings)
from .spec import EDGEFACTOR, KERNELS, MAX_ROOTS

PROG = "graph500 report"
LABEL = 30          # value column, like the reference block's padded labels
GIGA = 1e9
TEPS_STATS = ("harmonic_mean", "harmonic_stddev", "min", "median", "max")

# What a submission asks for that a benchmark run cannot know.
FILL_IN = ("site and location", "machine name, vendor and model", "interconnect",
           "total memory of the machine", "Green Graph500: power-saving features used (DVFS ...), "
           "fraction of the machine metered, subsystems included, meter model and accuracy")


# --- the summary (a plain dict: printed as text, or as JSON with --json) ---------------------

def summary(r):
    status, recorded = r.status
    out = {
        "file": r.path,
        "status": status, "status_recorded": recorded,
        "failure": r.failure if status == "invalid" else None,
        "schema": integer(r.get("schema")),
        "graph500_version": r.get("graph500_version"),
        "start_time": r.get("start_time"), "end_time": r.get("end_time"),
        "argv": r.get("argv") if isinstance(r.get("argv"), list)
        and all(isinstance(a, str) for a in r.get("argv")) else None,
        "scale": r.scale, "edgefactor": r.edgefactor, "nbfs": r.nbfs,
        "seed": r.get("seed") if isinstance(r.get("seed"), list) else None,
        "kernels_run": [k for k in (r.get("kernels") or []) if k in KERNELS]
        if isinstance(r.get("kernels"), list) else r.kernels,
        "skipped": strings(r.get("skipped")) if isinstance(r.get("skipped"), list) else None,
    }
    nodes, nodes_from = r.nodes
    threads = r.threads
    out.update({
        "nodes": nodes, "nodes_from": nodes_from, "ranks": r.nranks,
        "threads_per_rank": list(threads) if isinstance(threads, tuple) else threads,
        "cores_used": r.cores_used,
        "device": r.device, "gpus": r.gpus, "cpu_model": r.get("cpu_model"),
        "hosts": r.hosts, "threading_layer": r.get("threading_layer"),
        "memory_estimate_bytes_per_node": r.memory_estimate,
        "peak_rss_bytes_max_rank": max(r.peak_rss) if r.peak_rss else None,
        "peak_rss_bytes_all_ranks": sum(r.peak_rss) if r.peak_rss else None,
        "versions": dict(r.versions, graph500=r.get("graph500_version")),
    })
    if status == "invalid":
        # No numbers from an invalid run: not its times, not its energy.
        out.update(kernels={}, phases={}, energy=None, notes=submission_notes(r, status))
        return out
    audit = r.audit
    out["phases"] = {
        "generation_s": number(r.get("graph_generation")),
        "construction_s": number(r.get("construction_time")),
        "audit_s": number(audit.get("time")) if audit else None,
        "audit_ok": audit.get("ok") if audit and isinstance(audit.get("ok"), bool) else None,
        "startup_s": number(r.get("startup_time")),
    }
    out["kernels"] = {}
    for k in r.kernels:
        sec = r.kernel(k)
        entry = {s + "_GTEPS": _giga(r.teps(k, s)) for s in TEPS_STATS}
        entry.update(searches=len(sec["time"]) if isinstance(sec.get("time"), list) else None,
                     mean_time_s=number(sec.get("mean_time")),
                     validation_s=r.validation_seconds(k))
        if k == "sssp":
            entry["delta"] = number(r.get("delta"))
        out["kernels"][k] = entry
    out["energy"] = energy_summary(r)
    out["notes"] = submission_notes(r, status)
    return out


def _giga(x):
    return None if x is None else x / GIGA


def _str(x):
    return x if isinstance(x, str) else None


def covers(e):
    """What the measured power includes: the sources' methods, each node's domains, the
    nodes measured out of all."""
    if _str(e.get("method")) in (None, "none"):
        return "nothing"
    parts = []
    sources = e.get("sources") if isinstance(e.get("sources"), list) else []
    methods = dict.fromkeys(_str(s.get("method")) for s in sources if isinstance(s, dict))
    methods.pop(None, None)
    if methods:
        parts.append(", ".join(methods))
    domains = {str(k): strings(v) for k, v in dict_at(e, "domains").items()}
    if len(set(map(tuple, domains.values()))) == 1:
        parts.append(", ".join(next(iter(domains.values()))) or "no domain")
    elif domains:
        parts.append("; ".join("node %s: %s" % (k, ", ".join(v) or "no domain")
                               for k, v in domains.items()))
    nm, nt = integer(e.get("nodes_measured")), integer(e.get("nodes_total"))
    if nm is not None and nt is not None:
        parts.append("%d/%d nodes measured" % (nm, nt))
    return "; ".join(parts) or NOT_RECORDED


def _meter_power_phases(ext):
    """[(kernel, power phase name or None, that phase's record)] of a joined meter."""
    out = []
    for k, entry in dict_at(ext, "kernels").items():
        name = _str(entry.get("power_phase")) if isinstance(entry, dict) else None
        out.append((k, name, dict_at(ext, "phases", name) if name else {}))
    return out


def measurement_level(r):
    """The EEHPC quality level the record can support, and why, in one line.

    Only an external meter (joined with `graph500 energy-join`) can back a list claim; of the
    EEHPC Level 1 aspects the record shows the time span (power phase >= 60 s) and the meter's
    sampling (>= 1 Hz); the machine fraction, subsystems and meter accuracy are the
    submitter's to declare."""
    e = r.energy
    if e is None:
        return NOT_RECORDED
    ext = r.external_meter()
    if ext is None:
        method = _str(e.get("method"))
        if method in (None, "none"):
            return "none: nothing measured"
        return ("none: on-board counters (%s), not an external meter; join a wall meter's log "
                "with `graph500 energy-join`" % method)
    # EEHPC Level 1: core-phase power averaged over at least a minute, from a meter read at
    # least once a second: the limits energy-join flags a joined meter's phases with. Imported
    # here, as only a joined record needs them: the energy package (and NumPy) would triple
    # the command's start-up.
    from graph500.energy.join import MAX_PERIOD as EEHPC_MAX_PERIOD, MIN_SECONDS as EEHPC_MIN_SECONDS
    short = []
    period = number(ext.get("period_s"))
    if period is None or period > EEHPC_MAX_PERIOD * 1.05:
        short.append("meter period %s (Level 1 needs >= %g Hz)"
                     % (fmt(period, 3, "s"), 1 / EEHPC_MAX_PERIOD))
    phases = _meter_power_phases(ext)
    if not phases:
        short.append("no kernel's power phase recorded")
    for k, name, phase in phases:
        seconds = number(phase.get("seconds"))
        if seconds is None or seconds < EEHPC_MIN_SECONDS:
            short.append("%s power from %s over %s (Level 1 needs >= %g s)"
                         % (k, name or "no phase", fmt(seconds, 3, "s"), EEHPC_MIN_SECONDS))
    if short:
        return "below EEHPC Level 1 (external meter): " + "; ".join(short)
    return ("external meter: EEHPC Level 1 time span and sampling met; machine fraction, "
            "subsystems and meter accuracy not recorded (declare them)")


def energy_summary(r):
    e = r.energy
    if e is None:
        return None
    out = {"method": _str(e.get("method")), "covers": covers(e), "claim": _str(e.get("claim")),
           "level": measurement_level(r), "idle_W": r.idle_watts, "idle_run": r.idle_run,
           "not_measured": strings(e.get("not_measured")), "kernels": {},
           "warnings": strings(e.get("warnings")), "external_meter": None}
    ext = r.external_meter()
    if ext:
        out["external_meter"] = {"period_s": number(ext.get("period_s")),
                                 "readings": integer(ext.get("readings")),
                                 "file": _str(ext.get("meter_file"))}
        out["warnings"] += ["external meter: " + f for f in strings(ext.get("flags"))]
        for k, name, phase in _meter_power_phases(ext):
            flags = strings(phase.get("flags"))
            if flags:
                out["warnings"].append("external meter, %s power from %s: %s"
                                       % (k, name, "; ".join(flags)))
    for k in r.kernels:
        ek = r.energy_kernel(k)
        value, source = r.mteps_per_watt(k)
        phase = _str(ek.get("power_phase"))
        if source == "external meter":
            phase = _str(dict_at(ext, "kernels", k).get("power_phase")) or phase
        seconds = number(dict_at(e, "phases", phase).get("seconds")) if phase else None
        out["kernels"][k] = {"mteps_per_watt": value, "source": source, "power_W": r.power_watts(k),
                             "power_phase": phase, "power_phase_s": seconds,
                             "reason": None if value is not None else _str(ek.get("reason"))}
    return out


def submission_notes(r, status):
    """Where the run falls short of a list submission, by the rules the record can show."""
    notes = []
    if status == "invalid":
        notes.append("invalid run: it cannot be submitted")
    elif status == "not validated":
        notes.append("validation was skipped: a submission needs every search validated")
    elif status is None:
        notes.append("validation status not recorded")
    if r.edgefactor != EDGEFACTOR:
        notes.append("edgefactor %d: submissions use %d" % (r.edgefactor, EDGEFACTOR))
    if r.nbfs is not None and r.nbfs < MAX_ROOTS:
        notes.append("NBFS %d: the benchmark runs %d search roots (fewer only when the graph "
                     "has fewer vertices with an edge)" % (r.nbfs, MAX_ROOTS))
    for s in strings(r.get("skipped")):
        notes.append("skipped: %s" % s)
    return notes


# --- text -----------------------------------------------------------------------------------

def _line(label, value):
    """A labelled line; an empty label continues the line above."""
    return "  %-*s %s" % (LABEL, label + ":" if label else "", value)


def _text(x):
    if x is None or x == [] or x == "":
        return NOT_RECORDED
    if isinstance(x, list):
        return " ".join(str(v) for v in x)
    return str(x)


def render(s):
    lines = ["graph500 report: %s" % s["file"]]
    status = s["status"] or NOT_RECORDED
    if s["status"] is not None and not s["status_recorded"]:
        status += " (from `validated`: the record has no `status`)"
    lines += ["", "Run", _line("status", status)]
    if s["status"] == "invalid":
        lines.append(_line("failure", s["failure"]))
    lines += [_line("graph500 version", _text(s["graph500_version"])),
              _line("record schema", _text(s["schema"])),
              _line("started", _text(s["start_time"])),
              _line("ended", _text(s["end_time"])),
              _line("command line", shlex.join(s["argv"]) if s["argv"] else NOT_RECORDED)]

    lines += ["", "Problem",
              _line("SCALE", s["scale"]),
              _line("edgefactor", s["edgefactor"]),
              _line("NBFS (search roots)", _text(s["nbfs"])),
              _line("seed", _text(s["seed"])),
              _line("kernels", _text(s["kernels_run"]))]

    nodes = _text(s["nodes"]) + (" (%s)" % s["nodes_from"] if s["nodes_from"] else "")
    threads = s["threads_per_rank"]
    threads = "%d to %d" % tuple(threads) if isinstance(threads, list) else _text(threads)
    device = _text(s["device"]) + (" (%s)" % ", ".join(s["gpus"]) if s["gpus"] else "")
    lines += ["", "Machine",
              _line("nodes", nodes),
              _line("MPI ranks", _text(s["ranks"])),
              _line("threads per rank", threads),
              _line("cores used (all threads)", _text(s["cores_used"])),
              _line("device", device),
              _line("CPU model", _text(s["cpu_model"])),
              _line("hosts", ", ".join(s["hosts"]) if s["hosts"] else NOT_RECORDED),
              _line("threading layer", _text(s["threading_layer"])),
              _line("memory estimate per node", fmt(mib(s["memory_estimate_bytes_per_node"]), 4, "MiB")),
              _line("peak RSS", _rss(s))]

    if s["status"] == "invalid":
        lines += ["", "Results", "  none: an invalid run has no results (its failure is above)"]
    else:
        lines += _results(s)
        lines += _energy(s["energy"])

    v = s["versions"]
    lines += ["", "Software"]
    for key, label in (("graph500", "graph500"), ("python", "Python"), ("numpy", "NumPy"),
                       ("numba", "Numba"), ("mpi4py", "mpi4py"), ("mpi_library", "MPI library")):
        text = v.get(key)
        lines.append(_line(label, " ".join(text.split()) if isinstance(text, str) else NOT_RECORDED))

    lines += ["", "Submission"]
    for n in s["notes"] or ["nothing the record shows stands against a submission"]:
        lines.append("  - " + n)
    lines.append("  to fill in by hand (no run can record them):")
    for f in FILL_IN:
        lines.append("    " + f)
    return "\n".join(lines) + "\n"


def _rss(s):
    if s["peak_rss_bytes_max_rank"] is None:
        return NOT_RECORDED
    return "largest rank %s, all ranks %s" % (fmt(mib(s["peak_rss_bytes_max_rank"]), 4, "MiB"),
                                               fmt(mib(s["peak_rss_bytes_all_ranks"]), 4, "MiB"))


def _results(s):
    p = s["phases"]
    lines = ["", "Results (Graph500 ranks by the harmonic mean)"]
    for k, e in s["kernels"].items():
        head = "%s GTEPS" % k.upper()
        lines.append(_line(head, "%s harmonic mean" % fmt(e["harmonic_mean_GTEPS"], 6)))
        lines.append(_line("", "min %s, median %s, max %s, harmonic stddev %s"
                           % (fmt(e["min_GTEPS"]), fmt(e["median_GTEPS"]), fmt(e["max_GTEPS"]),
                              fmt(e["harmonic_stddev_GTEPS"]))))
        lines.append(_line("%s searches" % k.upper(), "%s, mean %s each"
                           % (_text(e["searches"]), fmt(e["mean_time_s"], 4, "s"))))
        val = ("skipped" if s["status"] == "not validated" and e["validation_s"] is None
               else fmt(e["validation_s"], 4, "s") + " in all")
        lines.append(_line("%s validation" % k.upper(), val))
        if "delta" in e:
            lines.append(_line("SSSP delta", fmt(e["delta"])))
    if not s["kernels"]:
        lines.append(_line("kernels", NOT_RECORDED))
    audit = fmt(p["audit_s"], 4, "s")
    if p["audit_ok"] is not None:
        audit += ", %s" % ("passed" if p["audit_ok"] else "FAILED")
    lines += [_line("construction (Kernel 1)", fmt(p["construction_s"], 4, "s")),
              _line("generation (not a kernel)", fmt(p["generation_s"], 4, "s")),
              _line("Kernel 1 audit", audit),
              _line("start-up (compile)", fmt(p["startup_s"], 4, "s"))]
    return lines


def _energy(e):
    lines = ["", "Energy (Green Graph500: MTEPS/W from total system power, idle included)"]
    if e is None:
        return lines + [_line("energy", NOT_RECORDED)]
    ext = e["external_meter"]
    if ext:
        # The meter's figures are the ones a list claim rests on; the counters stay beside them.
        lines += [_line("method", "external meter, joined by `graph500 energy-join` (a reading "
                        "every %s, %s readings)" % (fmt(ext["period_s"], 3, "s"), _text(ext["readings"]))),
                  _line("meter covers", NOT_RECORDED + " (where the meter sits is the "
                        "submitter's to declare)"),
                  _line("on-board counters", "%s: %s" % (_text(e["method"]), e["covers"]))]
    else:
        lines += [_line("method", _text(e["method"])), _line("covers", e["covers"])]
    lines.append(_line("measurement level", e["level"]))
    if e["claim"] and e["method"] not in (None, "none") and not ext:
        lines.append(_line("claim", e["claim"]))
    for item in e["not_measured"]:
        lines.append(_line("counters miss" if ext else "not measured", item))
    lines.append(_line("idle power", fmt(e["idle_W"], 4, "W") if e["idle_run"] else "not run (--idle S)"))
    for k, m in e["kernels"].items():
        if m["mteps_per_watt"] is None:
            reason = m["reason"] or NOT_RECORDED
            if reason == "; ".join(e["not_measured"]):
                reason = "see not measured above"
            lines.append(_line("%s MTEPS/W" % k.upper(), "not measured (%s)" % reason))
            continue
        lines.append(_line("%s MTEPS/W" % k.upper(), "%s (%s)" % (fmt(m["mteps_per_watt"]), m["source"])))
        lines.append(_line("", "power %s from %s over %s"
                           % (fmt(m["power_W"], 4, "W"), m["power_phase"],
                              fmt(m["power_phase_s"], 3, "s"))))
    for w in e["warnings"]:
        lines.append(_line("warning", w))
    return lines


# --- command ----------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ResultFileError(message)


def _parser():
    p = _Parser(prog=PROG, description="Print what a Graph500 / Green Graph500 submission asks "
                "for, from a result written by `graph500 --json PATH`.")
    p.add_argument("result", help="the run's result JSON")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead")
    return p


def main(argv=None):
    try:
        a = _parser().parse_args(argv)
        r = load(a.result)
        try:
            s = summary(r)
        except (TypeError, ValueError, AttributeError, KeyError) as e:
            # A value of a type no writer of this record produces (hand-edited, another
            # tool's): one line, not a traceback.
            raise ResultFileError("%s: malformed graph500 result (%s: %s)"
                                  % (r.path, type(e).__name__, e)) from None
    except ResultFileError as e:
        sys.stderr.write("%s: error: %s\n" % (PROG, e))
        return 2
    if a.json:
        sys.stdout.write(json.dumps(s, indent=1) + "\n")
    else:
        sys.stdout.write(render(s))
    return 0
