"""The power trace as CSV (--energy-trace) and as a plot with the phases shaded (--energy-plot).

Rows are every counter read of every node leader: sampler ticks and phase edges. Edges come in
pairs microseconds apart (end of one phase, begin of the next), where a counter has not ticked,
so watts are computed over a window of at least half the sampling interval instead of between
adjacent rows, which would show spikes and zeros that were never there.

The plot is meant to be read at a glance: a title with SCALE, ranks and the measuring method,
"power (W)" from 0, one panel per node plus a total panel when there are several, each phase
shaded in a distinct strong colour and drawn at least MIN_VISIBLE of the time axis wide (a
0.1 s BFS in a 100 s run would otherwise be a hairline), and each phase's mean power written in
the legend and over the phase. Both files go through energy.atomic: whole or absent, 0644.
"""
import csv

import numpy as np

from .atomic import OutputError, write_atomic

# strong, distinguishable colours (matplotlib's tab10), the kernels in the warm red/blue pair
PHASE_COLOURS = {"idle": "#7f7f7f", "generation": "#bcbd22", "construction": "#9467bd",
                 "bfs": "#d62728", "sssp": "#1f77b4", "validation": "#ff7f0e",
                 "energy_loop_bfs": "#e377c2", "energy_loop_sssp": "#17becf"}
MIN_VISIBLE = 0.006   # fraction of the time axis a phase's shading takes at least
MAX_NODE_PANELS = 8   # above this, only the total is drawn


def windowed_watts(rows, min_dt):
    """Watts for each row over the window back to the last row at least min_dt earlier (or None)."""
    out, anchor = [], None
    for i, (wall, rel, kind, phase, joules) in enumerate(rows):
        if anchor is None:
            out.append(None)
            anchor = i
            continue
        a = rows[anchor]
        dt = rel - a[1]
        out.append((joules - a[4]) / dt if dt >= min_dt else None)
        if dt >= min_dt:
            anchor = i
    return out


def write_trace_csv(path, traces, min_dt):
    """traces: [(node, host, rows)] with rows (wall, rel_s, kind, phase, cumulative_joules).
    OutputError (one line) when it cannot be written; no temporary file is left."""
    start = min((rows[0][0] for _, _, rows in traces if rows), default=0.0)

    def write(f):
        w = csv.writer(f)
        w.writerow(["node", "host", "time_epoch", "time_s", "kind", "phase", "joules", "watts"])
        for node, host, rows in traces:
            for row, watts in zip(rows, windowed_watts(rows, min_dt)):
                wall, _, kind, phase, joules = row
                w.writerow([node, host, f"{wall:.6f}", f"{wall - start:.6f}", kind, phase,
                            f"{joules:.6f}", "" if watts is None else f"{watts:.3f}"])

    write_atomic(path, write)


def plot_title(scale=None, ranks=None, nodes=None, method=None):
    parts = ["graph500" + (f" SCALE {scale}" if scale is not None else "")]
    if ranks is not None:
        where = f" on {nodes} nodes" if nodes and nodes > 1 else ""
        parts.append(f"{ranks} rank{'s' if ranks != 1 else ''}{where}")
    parts.append(f"energy: {method}" if method else "power")
    return ", ".join(parts)


def _series(rows, start, min_dt):
    """(seconds since start, watts) of one node's rows, and its (seconds, cumulative J) for means."""
    watts = windowed_watts(rows, min_dt)
    pts = [(r[0] - start, w) for r, w in zip(rows, watts) if w is not None]
    t = np.array([r[0] - start for r in rows])
    j = np.array([r[4] for r in rows])
    return pts, (t, j)


def _total_rows(traces, start):
    """The nodes' cumulative joules summed on the union of their read times, as trace rows."""
    grid = np.unique(np.concatenate([np.array([r[0] for r in rows]) for _, _, rows in traces]))
    total = np.zeros_like(grid)
    for _, _, rows in traces:
        total += np.interp(grid, [r[0] for r in rows], [r[4] for r in rows])
    return [(w, w - start, "", "", j) for w, j in zip(grid, total)]


def phase_means(cum, spans_by_phase, start):
    """Mean watts per phase from cumulative joules interpolated at the phase edges."""
    t, j = cum
    out = {}
    for name, spans in spans_by_phase.items():
        secs = sum(b - a for a, b in spans)
        if secs <= 0 or len(t) < 2:
            continue
        joules = sum(np.interp(b - start, t, j) - np.interp(a - start, t, j) for a, b in spans)
        out[name] = joules / secs
    return out


def _draw_panel(ax, pts, means, spans_by_phase, start, xmax, label):
    width = MIN_VISIBLE * xmax
    for name, spans in spans_by_phase.items():
        colour = PHASE_COLOURS[name]
        for a, b in spans:
            a, b = a - start, b - start
            if b - a < width:  # too short to see: widen it around its middle
                mid = 0.5 * (a + b)
                a, b = mid - width / 2, mid + width / 2
            ax.axvspan(a, b, color=colour, alpha=0.28, lw=0)
    if pts:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.1, color="black",
                drawstyle="steps-pre")
    top = max([p[1] for p in pts] + list(means.values()) + [1.0])
    ax.set_ylim(0, top * 1.22)
    ax.set_xlim(0, xmax)
    for name, spans in spans_by_phase.items():
        mean = means.get(name)
        if mean is None:
            continue
        a, b = max(((a - start, b - start) for a, b in spans), key=lambda s: s[1] - s[0])
        if b - a >= 0.02 * xmax:  # a dashed mean line where there is room for it
            for s, e in spans:
                if e - s >= 0.02 * xmax:
                    ax.hlines(mean, s - start, e - start, colors=PHASE_COLOURS[name], lw=2.0,
                              linestyles="--")
        if b - a >= 0.05 * xmax:
            ax.text(0.5 * (a + b), top * 1.2, f"{mean:.0f} W", ha="center", va="top",
                    fontsize="small", color=PHASE_COLOURS[name], fontweight="bold")
    ax.set_ylabel("power (W)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(label, loc="left", fontsize="small")


def write_plot(path, traces, intervals, min_dt, title=None, *, scale=None, ranks=None, method=None):
    """Returns None when written, else the one-line reason (the run goes on either way)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError:
        return "energy plot not written: matplotlib is not installed (pip install matplotlib)"
    traces = [t for t in traces if t[2]]
    if not traces:
        return "energy plot not written: no power samples (nothing was measured)"
    title = title or plot_title(scale, ranks, len(traces), method)
    start = min(rows[0][0] for _, _, rows in traces)
    end = max(rows[-1][0] for _, _, rows in traces)
    spans = {n: s for n, s in intervals.items() if n in PHASE_COLOURS and s}  # "run" hides the rest
    xmax = max(end - start, max((b - start for s in spans.values() for _, b in s), default=0), 1e-3)
    panels = []  # (label, points, cumulative)
    if len(traces) > 1:
        total = _total_rows(traces, start)
        panels.append((f"total of {len(traces)} nodes",) + _series(total, start, min_dt))
    if len(traces) <= MAX_NODE_PANELS:
        for node, host, rows in traces:
            panels.append((f"node {node} ({host})",) + _series(rows, start, min_dt))
    fig = Figure(figsize=(11, 2.6 * len(panels) + 1.4))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    system_means = None
    for ax, (label, pts, cum) in zip(axes, panels):
        means = phase_means(cum, spans, start)
        system_means = system_means if system_means is not None else means
        _draw_panel(ax, pts, means, spans, start, xmax, label)
    axes[-1].set_xlabel("time since the first read (s)")
    handles = []
    for name in PHASE_COLOURS:
        if name in spans:
            mean = system_means.get(name)
            text = f"{name}: {mean:.1f} W" if mean is not None else name
            handles.append(Patch(color=PHASE_COLOURS[name], alpha=0.5, label=text))
    ncol = min(len(handles), 4) or 1
    rows_of_legend = -(-len(handles) // ncol)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize="small",
                   title="phase: mean power" + (" (all nodes)" if len(traces) > 1 else ""),
                   title_fontsize="small", frameon=False)
    fig.suptitle(title)
    bottom = (0.12 + 0.2 * (rows_of_legend + 1)) / (2.6 * len(panels) + 1.4) if handles else 0
    fig.tight_layout(rect=(0, bottom, 1, 1))
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else "png"
    try:
        write_atomic(path, lambda f: fig.savefig(f, format=ext), binary=True)
    except (OutputError, ValueError) as e:
        return f"energy plot not written: {e}"
    return None
