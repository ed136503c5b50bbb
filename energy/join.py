"""`graph500 energy-join RESULT.json METER.csv`: a wall meter's log joined with the run afterwards.

An external meter (wall socket, PDU) is the only source that can back a Green Graph500 claim, and
it logs on its own clock. The run's result keeps each phase's wall-clock intervals (rank 0's
time.time(), even when no counter was readable), so the meter's samples are joined offline:
- power column: the trapezoid integral of the linearly interpolated power over each interval;
- energy column (cumulative): the interpolated reading at the interval's end minus at its start.
Edges up to one meter period outside the log are held at the nearest reading; beyond that the
interval is "not covered" and the phase's energy is null, never extrapolated. EEHPC flags: a
phase shorter than 60 s, fewer than 10 readings inside it, a meter slower than 1 Hz. The updated
result goes to a new file (energy.atomic: temporary file, then rename), never over the run's own
record. Every input is checked before anything is written: the files must be regular files of a
bounded size (a FIFO or /dev/zero is refused, not waited on), the result's fields must have
their types, intervals must not run backwards, and the --time-offset shifts every timestamp
before the ordering check. Power readings that are not finite, negative or above --max-watts
are rejected one by one and counted; a phase whose energy rests on them says so and gets no
MTEPS/W. Errors are one line on stderr and exit status 2.
"""
import argparse
import csv
import json
import os
import sys
from datetime import datetime, timezone

import math

import numpy as np

from . import plausible
from .atomic import OutputError, check_writable, write_json_atomic
from .sysfs import NotARegularFile, open_regular

MAX_INPUT_BYTES = 1 << 30  # a meter log or result larger than this is not what it claims

PROG = "graph500 energy-join"
MIN_SECONDS, MIN_READINGS, MAX_PERIOD = 60.0, 10, 1.0
_ENERGY_UNITS = {"J": 1.0, "Wh": 3600.0, "kWh": 3.6e6}
_POWER_UNITS = {"W": 1.0, "kW": 1000.0, "mW": 1e-3}


class JoinError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser():
    p = _Parser(prog=PROG, description="Join a wall meter's CSV log with a graph500 result: per-phase "
                "energy and average power from the meter, and MTEPS/W from it.")
    p.add_argument("result", help="the run's result JSON (with its `energy` section)")
    p.add_argument("meter", help="the meter's CSV log")
    p.add_argument("--time-col", default="0",
                   help="timestamp column: header name or 0-based index (default 0)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--power-col", help="power column(s), name or index; several comma-separated are summed "
                   "(default: column 1 as power)")
    g.add_argument("--energy-col", help="cumulative energy column, name or index")
    p.add_argument("--power-unit", choices=sorted(_POWER_UNITS), default="W")
    p.add_argument("--energy-unit", choices=sorted(_ENERGY_UNITS), default="J")
    p.add_argument("--time-format", choices=("auto", "epoch", "iso"), default="auto",
                   help="epoch seconds or ISO 8601 (default: detect)")
    p.add_argument("--naive-tz", choices=("local", "utc"), default="local",
                   help="zone of ISO timestamps without an offset (default local)")
    p.add_argument("--time-offset", type=float, default=0.0, metavar="SECONDS",
                   help="added to the meter's timestamps to correct its clock")
    p.add_argument("--max-watts", type=float, default=plausible.DEFAULT_MAX_WATTS["meter"],
                   metavar="WATTS", help="readings above this (or negative, NaN, infinite) are "
                   "rejected and counted (default %(default)g)")
    p.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    p.add_argument("-o", "--output", help="output JSON (default RESULT.joined.json)")
    return p


# -- reading ---------------------------------------------------------------------------------
def read_text(path):
    """A regular file's text, refused (one line) when it is not one or is too large."""
    try:
        fd = open_regular(path)
    except NotARegularFile as e:
        raise JoinError(str(e)) from None
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise JoinError(f"{path}: larger than {MAX_INPUT_BYTES >> 20} MiB")
    return data.decode("utf-8", "replace")


def parse_time(text, fmt, naive_tz):
    text = text.strip()
    if fmt in ("auto", "epoch"):
        try:
            t = float(text)
        except ValueError:
            if fmt == "epoch":
                raise
        else:
            if not math.isfinite(t):
                raise ValueError("not a finite time")
            return t
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None and naive_tz == "utc":
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _column(spec, header, path):
    spec = spec.strip()
    if spec.lstrip("-").isdigit():
        return int(spec)
    if header is None:
        raise JoinError(f"{path}: column {spec!r} given by name but the log has no header row")
    names = [h.strip().lower() for h in header]
    if spec.lower() not in names:
        raise JoinError(f"{path}: no column {spec!r} (columns: {', '.join(h.strip() for h in header)})")
    return names.index(spec.lower())


def read_meter(path, a):
    """(times, values in W or J, kind, rejected times) from the meter CSV, all checks included.

    Times are shifted by --time-offset before they are compared, so an offset of any size keeps
    an ordered log ordered."""
    text = read_text(path)
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(text.splitlines(), delimiter=a.delimiter))
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise JoinError(f"{path}: no rows")
    kind = "energy" if a.energy_col else "power"
    value_spec = a.energy_col or a.power_col or "1"
    specs = [a.time_col] + value_spec.split(",")
    header = None
    if any(not s.strip().lstrip("-").isdigit() for s in specs):
        header = rows.pop(0)[1]
    else:
        first = rows[0][1]
        try:
            parse_time(first[int(a.time_col)], a.time_format, a.naive_tz)
            [float(first[int(s)]) for s in specs[1:]]
        except (ValueError, IndexError):
            header = rows.pop(0)[1]
    tcol = _column(a.time_col, header, path)
    vcols = [_column(s, header, path) for s in specs[1:]]
    scale = _ENERGY_UNITS[a.energy_unit] if kind == "energy" else _POWER_UNITS[a.power_unit]
    ts, vs, rejected = [], [], []
    last_t = None
    for line, r in rows:
        try:
            t = parse_time(r[tcol], a.time_format, a.naive_tz) + a.time_offset
        except (ValueError, IndexError, OverflowError):
            cell = r[tcol] if tcol < len(r) else ""
            raise JoinError(f"{path}:{line}: cannot read a timestamp from {cell!r}") from None
        try:
            v = sum(float(r[c]) for c in vcols) * scale
        except (ValueError, IndexError):
            raise JoinError(f"{path}:{line}: cannot read a number from the {kind} column") from None
        if last_t is not None and t < last_t:
            raise JoinError(f"{path}:{line}: timestamp goes back in time")
        last_t = t
        if kind == "power" and not plausible.power_ok(v, a.max_watts):
            rejected.append(t)  # NaN, inf, negative or above --max-watts: never integrated
            continue
        if kind == "energy" and not math.isfinite(v):
            rejected.append(t)
            continue
        if kind == "energy" and vs and v < vs[-1]:
            raise JoinError(f"{path}:{line}: cumulative energy decreases (counter reset?)")
        ts.append(t)
        vs.append(v)
    if len(ts) < 2:
        why = f" ({len(rejected)} rejected as impossible)" if rejected else ""
        raise JoinError(f"{path}: needs at least two usable readings{why}")
    return np.array(ts), np.array(vs), kind, np.array(rejected)


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def load_result(path):
    """(data, energy section, intervals) with every field the join uses type-checked."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise JoinError(f"{path}: not JSON ({e.msg} at line {e.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("energy"), dict):
        energy = data["energy"]
    elif isinstance(data, dict) and "intervals" in data:
        energy = data
    else:
        raise JoinError(f"{path}: no `energy` section with phase intervals")
    intervals = energy.get("intervals")
    if not isinstance(intervals, dict) or not intervals:
        raise JoinError(f"{path}: the energy section records no phase intervals")
    out = {}
    for name, spans in intervals.items():
        if not isinstance(spans, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(_number(x) for x in p) for p in spans):
            raise JoinError(f"{path}: phase {name!r}: intervals must be a list of "
                            "[start, end] pairs of finite numbers")
        for s0, e0 in spans:
            if e0 < s0:
                raise JoinError(f"{path}: phase {name!r}: interval [{s0}, {e0}] ends before it starts")
        out[name] = [(float(s0), float(e0)) for s0, e0 in spans]
    kernels = energy.get("kernels")
    if kernels is not None:
        if not isinstance(kernels, dict):
            raise JoinError(f"{path}: `kernels` must be an object of kernel entries, "
                            f"not {type(kernels).__name__}")
        for k, entry in kernels.items():
            if not isinstance(entry, dict):
                raise JoinError(f"{path}: `kernels.{k}` must be an object, not {type(entry).__name__}")
            teps = entry.get("teps")
            if teps is not None and not (_number(teps) and teps >= 0):
                raise JoinError(f"{path}: `kernels.{k}.teps` must be a non-negative number or null, "
                                f"not {teps!r}")
    return data, energy, out


# -- joining ---------------------------------------------------------------------------------
def _covered(ts, a, b, hold):
    return a >= ts[0] - hold and b <= ts[-1] + hold


def interval_energy(ts, vs, kind, a, b):
    """Joules over [a, b] from power (trapezoid of the interpolant) or cumulative energy."""
    if kind == "energy":
        return float(np.interp(b, ts, vs) - np.interp(a, ts, vs))
    inside = (ts > a) & (ts < b)
    t = np.concatenate(([a], ts[inside], [b]))
    w = np.concatenate(([np.interp(a, ts, vs)], vs[inside], [np.interp(b, ts, vs)]))
    return float(np.sum(0.5 * (w[1:] + w[:-1]) * np.diff(t)))


def join(energy, intervals, ts, vs, kind, rejected=()):
    rejected = np.asarray(rejected, dtype=float)
    period = float(np.median(np.diff(ts)))
    phases, flags = {}, []
    if period > MAX_PERIOD * 1.05:
        flags.append(f"meter reads every {period:.3g} s: slower than the EEHPC 1 Hz minimum")
    for name, spans in intervals.items():
        seconds = sum(b - a for a, b in spans)
        readings = int(sum(np.count_nonzero((ts >= a) & (ts <= b)) for a, b in spans))
        uncovered = sum(not _covered(ts, a, b, period) for a, b in spans)
        joules = None if uncovered else sum(interval_energy(ts, vs, kind, a, b) for a, b in spans)
        phase_flags = []
        if seconds < MIN_SECONDS:
            phase_flags.append(f"shorter than {MIN_SECONDS:.0f} s (EEHPC)")
        if readings < MIN_READINGS:
            phase_flags.append(f"fewer than {MIN_READINGS} meter readings (EEHPC)")
        if uncovered:
            phase_flags.append(f"meter log does not cover {uncovered} of {len(spans)} interval(s)")
        # a rejected reading inside an interval, or in the stretch bridged to its edges
        bad = int(sum(np.count_nonzero((rejected >= a - period) & (rejected <= b + period))
                      for a, b in spans)) if rejected.size else 0
        if bad:
            phase_flags.append(f"rests on {bad} rejected reading(s) (not finite, negative or too high)")
        phases[name] = {"count": len(spans), "seconds": seconds, "joules": joules,
                        "watts": joules / seconds if joules is not None and seconds > 0 else None,
                        "readings": readings, "rejected_readings": bad, "flags": phase_flags}
    mteps = {}
    for k, entry in (energy.get("kernels") or {}).items():
        loop = f"energy_loop_{k}"
        used = loop if loop in phases and phases[loop]["seconds"] > 0 else k
        ph = phases.get(used, {})
        w = ph.get("watts")
        teps = entry.get("teps")
        reason = None
        if not teps:
            reason = f"no {k} TEPS in the result"
        elif ph.get("rejected_readings"):
            reason = f"{used} rests on {ph['rejected_readings']} rejected meter reading(s)"
        elif w is None:
            reason = f"meter log does not cover {used}" if ph else f"no {used} phase in the result"
        elif not w > 0:
            reason = f"no energy registered during {used}"
        mteps[k] = {"power_phase": used, "watts": w, "reason": reason,
                    "mteps_per_watt": teps / 1e6 / w if reason is None else None}
    if rejected.size:
        flags.append(f"{rejected.size} meter reading(s) rejected: not finite, negative or too high")
    return {"method": "external meter", "period_s": period, "readings": int(len(ts)),
            "rejected_readings": int(rejected.size), "phases": phases, "kernels": mteps,
            "mteps_per_watt": {k: v["mteps_per_watt"] for k, v in mteps.items()}, "flags": flags}


def default_output(result_path):
    base = result_path[:-5] if result_path.endswith(".json") else result_path
    return base + ".joined.json"


def run(a):
    for flag, value in (("--time-offset", a.time_offset), ("--max-watts", a.max_watts)):
        if not math.isfinite(value):
            raise JoinError(f"{flag} must be a finite number, got {value}")
    if not a.max_watts > 0:
        raise JoinError(f"--max-watts must be positive, got {a.max_watts:g}")
    out_path = a.output or default_output(a.result)
    if os.path.exists(out_path) and os.path.samefile(out_path, a.result):
        raise JoinError("the output must be a new file: the run's own result is kept as it is")
    data, energy, intervals = load_result(a.result)
    ts, vs, kind, rejected = read_meter(a.meter, a)
    check_writable(out_path)
    joined = join(energy, intervals, ts, vs, kind, rejected)
    joined.update(meter_file=os.path.abspath(a.meter), column_kind=kind)
    energy["external_meter"] = joined
    write_json_atomic(out_path, data)
    for name, p in joined["phases"].items():
        j = "not covered" if p["joules"] is None else f"{p['joules']:.6g} J, {p['watts']:.6g} W"
        flags = f"  [{'; '.join(p['flags'])}]" if p["flags"] else ""
        print(f"{name:<18} {p['seconds']:10.3f} s  {j}  {p['readings']} readings{flags}")
    for k, m in joined["kernels"].items():
        v = f"not measured ({m['reason']})" if m["mteps_per_watt"] is None else f"{m['mteps_per_watt']:g}"
        print(f"{k:<5}MTEPS_per_W (external meter, power from {m['power_phase']}): {v}")
    for f in joined["flags"]:
        print(f"warning: {f}")
    print(f"wrote {out_path}")
    return 0


def main(argv=None):
    parser = _parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    try:
        return run(a)
    except (JoinError, OutputError) as e:
        msg = str(e)
    except OSError as e:
        msg = f"{e.filename}: {e.strerror}" if e.filename else str(e)
    except (ValueError, TypeError, KeyError) as e:
        msg = f"malformed input: {e}"
    print(f"{PROG}: error: {msg}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
