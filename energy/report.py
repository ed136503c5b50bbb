"""Text lines for stdout, printed after the reference block (which they never alter).

Same layout as the reference block (label padded to column 33, %g numbers), so a parser of the
block can read these too. What was not measured is said in words; MTEPS/W is a number only when
the power of the whole system was measured, else "not measured (reason)", never 0.
"""

def _line(label, value):
    return f"{label:<32}{value}"


def _g(x):
    return "%g" % x if x is not None else "not measured"


def _g_phase(x, phase):
    """A phase's figure, marked when a gap (energy left out) or a rejected reading (bridged
    over) makes it uncertain."""
    text = _g(x)
    if x is not None and phase is not None and phase.get("complete") is False:
        text += "  (incomplete, see MTEPS_per_W)"
    return text


def _kernel_prefix(k):
    return f"{k:<5}"  # "bfs  ", "sssp ": the reference block's spacing


def report_lines(result):
    if not result:
        return []
    lines = []
    method = result["method"]
    sources = result.get("sources", [])
    methods = "; ".join(dict.fromkeys(s["method"] for s in sources if s.get("method")))
    lines.append(_line("energy_method:", method + (f" ({methods})" if methods else "")))
    if method != "none":
        lines.append(_line("energy_coverage:", result["claim"]))
    nodes = f"{result['nodes_measured']}/{result['nodes_total']}"
    lines.append(_line("energy_nodes_measured:", nodes))
    domains = result.get("domains", {})
    if method != "none":
        if len(domains) == 1:
            text = ", ".join(next(iter(domains.values()))) or "none"
        else:
            text = "; ".join(f"node {k}: {', '.join(v) or 'none'}" for k, v in domains.items())
        lines.append(_line("energy_domains:", text))
    for item in result.get("not_measured", []):
        lines.append(_line("energy_not_measured:", item))
    idle = result.get("phases", {}).get("idle")
    idle_text = ("not run" if idle is None else _g(result.get("idle_W")))
    lines.append(_line("energy_idle_W:", idle_text))
    for k, e in result.get("kernels", {}).items():
        p = _kernel_prefix(k)
        phases = result.get("phases", {})
        lines.append(_line(f"{p}energy_J:", _g_phase(e["joules"], phases.get(k))))
        lines.append(_line(f"{p}avg_power_W:", _g_phase(e["watts"], phases.get(k))))
        if e.get("loop_seconds"):
            lines.append(_line(f"{p}energy_loop_W:",
                               _g_phase(e["loop_watts"], phases.get(f"energy_loop_{k}"))))
            lines.append(_line(f"{p}energy_loop_seconds:", "%g" % e["loop_seconds"]))
        if e.get("loop_teps") is not None:
            lines.append(_line(f"{p}energy_loop_TEPS:", "%g" % e["loop_teps"]))
        if e["mteps_per_watt"] is not None:
            used = result["phases"][e["power_phase"]]
            idle_part = "idle not run" if idle is None else f"idle {idle_text} W"
            detail = (f"power from {e['power_phase']} over {used['seconds']:.3g} s; {method}; "
                      f"{nodes} nodes; {idle_part}")
            if e.get("power_scope"):
                detail += "; " + e["power_scope"]
            lines.append(_line(f"{p}MTEPS_per_W:", f"{e['mteps_per_watt']:g}  ({detail})"))
        else:
            lines.append(_line(f"{p}MTEPS_per_W:", f"not measured ({e['reason']})"))
    for w in result.get("warnings", []):
        lines.append(_line("energy_warning:", w))
    if result.get("trace"):
        lines.append(_line("energy_trace:", result["trace"]))
    if result.get("plot"):
        lines.append(_line("energy_plot:", result["plot"]))
    return lines
