"""The power trace as CSV (--energy-trace) and as a plot with the phases shaded (--energy-plot).

Rows are every counter read of every node leader: sampler ticks and phase edges. Edges come in
pairs microseconds apart (end of one phase, begin of the next), where a counter has not ticked,
so watts are computed over a window of at least half the sampling interval instead of between
adjacent rows, which would show spikes and zeros that were never there.
"""
import csv
import os

PHASE_COLOURS = {"idle": "#999999", "generation": "#8dd3c7", "construction": "#bebada",
                 "bfs": "#fb8072", "sssp": "#80b1d3", "validation": "#fdb462",
                 "energy_loop_bfs": "#fccde5", "energy_loop_sssp": "#b3de69"}


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


def _atomic_open(path):
    tmp = f"{path}.tmp{os.getpid()}"
    return tmp, open(tmp, "w", newline="")


def write_trace_csv(path, traces, min_dt):
    """traces: [(node, host, rows)] with rows (wall, rel_s, kind, phase, cumulative_joules)."""
    start = min((rows[0][0] for _, _, rows in traces if rows), default=0.0)
    tmp, f = _atomic_open(path)
    with f:
        w = csv.writer(f)
        w.writerow(["node", "host", "time_epoch", "time_s", "kind", "phase", "joules", "watts"])
        for node, host, rows in traces:
            for row, watts in zip(rows, windowed_watts(rows, min_dt)):
                wall, _, kind, phase, joules = row
                w.writerow([node, host, f"{wall:.6f}", f"{wall - start:.6f}", kind, phase,
                            f"{joules:.6f}", "" if watts is None else f"{watts:.3f}"])
    os.replace(tmp, path)


def write_plot(path, traces, intervals, min_dt, title="graph500 power"):
    """Returns None when written, else the one-line reason (the run goes on either way)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError:
        return "energy plot not written: matplotlib is not installed (pip install matplotlib)"
    traces = [t for t in traces if t[2]]
    if not traces:
        return "energy plot not written: no power samples (nothing was measured)"
    start = min(rows[0][0] for _, _, rows in traces)
    per_node = len(traces) <= 8
    fig = Figure(figsize=(10, 2.2 * len(traces) + 1 if per_node else 4))
    axes = fig.subplots(len(traces) if per_node else 1, 1, sharex=True, squeeze=False)[:, 0]
    used = set()
    for i, (node, host, rows) in enumerate(traces):
        ax = axes[i if per_node else 0]
        pts = [(r[0] - start, w) for r, w in zip(rows, windowed_watts(rows, min_dt)) if w is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=0.8, drawstyle="steps-pre",
                    label=f"node {node} ({host})")
        if per_node or i == 0:
            for name, spans in intervals.items():
                colour = PHASE_COLOURS.get(name)
                if colour is None:
                    continue  # "run" encloses everything: shading it would hide the rest
                used.add(name)
                for s, e in spans:
                    ax.axvspan(s - start, e - start, color=colour, alpha=0.35, lw=0)
        ax.set_ylabel("W")
        ax.legend(loc="upper right", fontsize="small")
    axes[-1].set_xlabel("seconds since the first read")
    handles = [Patch(color=PHASE_COLOURS[n], alpha=0.35, label=n) for n in PHASE_COLOURS if n in used]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize="small")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    tmp = f"{path}.tmp{os.getpid()}{os.path.splitext(path)[1]}"
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    except (OSError, ValueError) as e:
        return f"energy plot not written: {e}"
    return None
