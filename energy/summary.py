"""From the leaders' node records to the run's `energy` section: sums, MTEPS/W and warnings.

Pure functions of plain dicts, so they are tested without MPI or hardware. The system energy of
a phase is the sum over node leaders; the phase duration is rank 0's (all ranks enter a phase
right after a barrier). MTEPS/W = harmonic-mean TEPS / 1e6 / average system watts of the phase
the searches ran in: the kernel's energy loop when one ran (steady state), else the kernel phase.
It is null, with the reason, whenever the power is not known for the whole system: no counters,
the CPUs (where the searches run) unmeasured even if GPUs are, some nodes unmeasured, an
interval lost to an un-unwrappable counter, a counter reset, jump or freeze (energy.plausible),
a rejected power reading, a source that died. Every such phase says why in
`incomplete_reasons`. Nodes are also checked against each other: one node drawing far more or
far less than the others in the same phase is warned about (a wrong zone, a broken counter).
Idle power is reported beside it, never subtracted (Green Graph500 rules).
"""
from .sources import COMPONENT_GAPS

KERNELS = ("bfs", "sssp")
PHASES = ("idle", "generation", "construction", "bfs", "sssp", "validation",
          "energy_loop_bfs", "energy_loop_sssp", "run")
EEHPC_MIN_SECONDS = 60.0
EEHPC_MIN_READINGS = 10
LOOP_TEPS_TOLERANCE = 0.10
SLOW_EDGE = 0.001  # seconds: an edge read slower than this can show in a search's time
SHORT_INTERVAL = 0.1  # seconds: below this a phase edge pair spans few counter updates
NODE_SPREAD = 5.0     # a node's phase power this many times above or below the median is odd
CLAIM_NOTE = ("on-board counters, not a wall meter: they cannot back a Green Graph500 list claim; "
              "join a wall meter's log with `graph500 energy-join RESULT.json METER.csv`")


def _node_set(indices, nnodes):
    if nnodes == 1:
        return ""
    if len(indices) == nnodes:
        return "all nodes: "
    return ("node " if len(indices) == 1 else "nodes ") + ",".join(str(i) for i in indices) + ": "


def group_by_nodes(items, nnodes):
    """[(node index, text)] -> ["nodes 0,2: text", ...], each text once, first-seen order."""
    where = {}
    for node, text in items:
        where.setdefault(text, [])
        if node not in where[text]:
            where[text].append(node)
    return [_node_set(nodes, nnodes) + text for text, nodes in where.items()]


def system_phases(nodes, rank0_phases, nnodes):
    """Per phase: rank 0's seconds, the sum of the measured nodes' joules, and health fields."""
    measured = [n for n in nodes if n["method"] != "none"]
    out = {}
    for name, clock in rank0_phases.items():
        recs = [n["phases"].get(name) for n in measured]
        recs = [r for r in recs if r is not None]
        seconds = clock["seconds"]
        rec = {"count": clock["count"], "seconds": seconds, "joules": None, "watts": None,
               "nodes_measured": len(recs), "nodes_total": nnodes,
               "samples": None, "wraps": None, "lost": None, "complete": None, "largest_gap_s": None,
               "rejected_samples": None, "incomplete_reasons": []}
        if recs:
            joules = sum(r["joules"] for r in recs)
            where = [(n["node"], r) for n in measured for r in [n["phases"].get(name)] if r is not None]
            reasons = group_by_nodes([(node, t) for node, r in where
                                      for t in r.get("incomplete_reasons", [])], nnodes)
            rec.update(joules=joules, watts=joules / seconds if seconds > 0 else None,
                       samples=min(r["samples"] for r in recs), wraps=sum(r["wraps"] for r in recs),
                       lost=sum(r["lost"] for r in recs),
                       complete=all(r["complete"] for r in recs) and len(recs) == nnodes,
                       largest_gap_s=max(r["largest_gap_s"] for r in recs),
                       rejected_samples=sum(r.get("rejected_samples", 0) for r in recs),
                       incomplete_reasons=reasons)
        out[name] = rec
    return out


GPU_ONLY = "GPU board power only (every GPU of the measured nodes; host CPUs and DRAM not included)"
GPU_AND_CPU = "GPU board power + CPU packages/DRAM (RAPL), summed"


def _kernel_entry(k, phases, teps, loop_teps, method, reasons, search_device="cpu",
                  gpu_metered=False):
    cpu_gaps = [r for r in reasons if r.startswith("CPU not measured")]
    # --device gpu: the searches run on the GPUs, so their boards' power is the one that
    # matters; with RAPL too both are summed. A component sum without the GPUs cannot stand.
    on_gpu = search_device == "gpu" and method == "component sum"
    scope = (GPU_ONLY if cpu_gaps else GPU_AND_CPU) if on_gpu and gpu_metered else None
    loop_name = f"energy_loop_{k}"
    loop = phases.get(loop_name)
    if loop is not None and not loop["seconds"] > 0:
        loop = None
    power_phase = loop_name if loop is not None else k
    used = phases.get(power_phase)
    entry = {"teps": teps, "loop_teps": loop_teps, "power_phase": power_phase,
             "joules": phases.get(k, {}).get("joules"), "watts": phases.get(k, {}).get("watts"),
             "seconds": phases.get(k, {}).get("seconds"),
             "loop_joules": loop and loop["joules"], "loop_watts": loop and loop["watts"],
             "loop_seconds": loop and loop["seconds"],
             "power_W": used and used["watts"], "mteps_per_watt": None, "reason": None,
             "power_scope": scope}
    if method == "none":
        entry["reason"] = "; ".join(reasons) if reasons else "no power counter"
    elif teps is None:
        entry["reason"] = f"no {k} TEPS (kernel did not run)"
    elif used is None:
        entry["reason"] = f"no {power_phase} phase was recorded"
    elif used["nodes_measured"] < used["nodes_total"]:
        entry["reason"] = (f"only {used['nodes_measured']}/{used['nodes_total']} nodes measured: "
                           "system power unknown")
    elif on_gpu and not gpu_metered:
        entry["reason"] = "the searches run on the GPUs, which were not measured (no NVML)"
    elif cpu_gaps and not on_gpu:
        # The searches run on the CPUs: a sum without them (GPUs alone, say) is not the
        # power of the machine doing the work, so it cannot stand under MTEPS/W.
        entry["reason"] = "the searches run on the CPUs, which were not measured: " + "; ".join(cpu_gaps)
    elif not used["complete"]:
        why = "; ".join(used.get("incomplete_reasons") or []) or \
            "a counter interval was lost or a source failed"
        if used.get("rejected_samples"):
            why = f"rests on {used['rejected_samples']} rejected power reading(s); " + why
        entry["reason"] = f"{power_phase} energy incomplete ({why})"
    elif not used["watts"] or used["watts"] <= 0:
        entry["reason"] = f"no energy registered during {power_phase} (counter did not advance)"
    else:
        entry["mteps_per_watt"] = teps / 1e6 / used["watts"]
    return entry


def _warnings(kernels, phases, nodes, nnodes, interval, power_integrated):
    out = []
    for k, e in kernels.items():
        t, lt = e["teps"], e["loop_teps"]
        if t and lt and abs(lt - t) / t > LOOP_TEPS_TOLERANCE:
            out.append(f"{k}: energy-loop TEPS {lt:.4g} differs from the official {t:.4g} by "
                       f"{100 * abs(lt - t) / t:.0f} % (> {100 * LOOP_TEPS_TOLERANCE:.0f} %): the loop's "
                       "power may not represent the timed searches")
        used = phases.get(e["power_phase"])
        if used is None or used["joules"] is None:
            continue
        if used["seconds"] < EEHPC_MIN_SECONDS:
            hint = "" if e["power_phase"].startswith("energy_loop") else "; run an energy loop"
            out.append(f"{k}: power from {e['power_phase']} over {used['seconds']:.3g} s, shorter than "
                       f"the {EEHPC_MIN_SECONDS:.0f} s EEHPC core-phase minimum{hint}")
        if power_integrated and used["samples"] is not None and used["samples"] < EEHPC_MIN_READINGS:
            out.append(f"{k}: only {used['samples']} power readings in {e['power_phase']} "
                       f"(< {EEHPC_MIN_READINGS}); integrated power is coarse")
    for k, e in kernels.items():
        rec = phases.get(k)
        if not rec or rec["joules"] is None or not rec["count"]:
            continue
        mean = rec["seconds"] / rec["count"]
        if mean < SHORT_INTERVAL:
            tail = ("MTEPS/W uses the energy loop instead" if e["power_phase"] != k
                    else "an energy loop would give a steady figure")
            out.append(f"{k}: its {rec['count']} intervals average {1000 * mean:.3g} ms, "
                       "near the counters' update period (RAPL ~1 ms, NVML 20-100 ms, pm_counters ~100 ms): "
                       f"the {k} phase's own energy is coarse; {tail}")
    for n in nodes:
        cost = (n.get("edge_read_s") or {}).get("max") or 0.0
        if cost > SLOW_EDGE:
            out.append(f"node {n['node']}: a phase-edge read took up to {1000 * cost:.3g} ms: keep edges out "
                       "of timed regions (barrier after begin) or this node's leader starts late")
    gap_limit = max(1.0, 5 * interval)
    for n in nodes:
        if n.get("largest_gap_s", 0) > gap_limit:
            out.append(f"node {n['node']}: largest gap between counter reads {n['largest_gap_s']:.2f} s "
                       f"(sampling every {interval:g} s): the sampler was starved")
    out += _node_outliers(phases, nodes)
    seen = {}
    for n in nodes:
        key = (n["host"], tuple(sorted(n.get("files", []))))
        if key[1] and key in seen:
            out.append(f"nodes {seen[key]} and {n['node']} read the same counter files on {n['host']}: "
                       "their energy is counted twice")
        seen.setdefault(key, n["node"])
    return out


def _node_outliers(phases, nodes):
    """Warnings for nodes whose power in a phase is far from the others' (every node runs the
    same searches, so a node NODE_SPREAD times above or below the rest has a wrong counter or
    a wrong zone, or is not doing the same work)."""
    measured = [n for n in nodes if n["method"] != "none"]
    out = []
    for name in phases:
        watts = {}
        for n in measured:
            r = n["phases"].get(name)
            if r and r.get("seconds") and r.get("joules") is not None:
                watts[n["node"]] = r["joules"] / r["seconds"]
        if len(watts) == 2:
            (a, wa), (b, wb) = sorted(watts.items(), key=lambda kv: kv[1])
            if wa > 0 and wb > NODE_SPREAD * wa:
                out.append(f"nodes {a} and {b} drew {wa:.4g} W and {wb:.4g} W during {name} "
                           f"(more than {NODE_SPREAD:g}x apart): check their counters")
            continue
        if len(watts) < 3:
            continue
        values = sorted(watts.values())
        median = values[len(values) // 2]
        if median <= 0:
            continue
        for node, w in watts.items():
            if w > NODE_SPREAD * median or w < median / NODE_SPREAD:
                out.append(f"node {node}: {w:.4g} W during {name}, against a median of {median:.4g} W "
                           "over the nodes: check that node's counters")
    return out


def build_result(*, nodes, nnodes, rank0_phases, teps=None, loop_teps=None, interval=0.1,
                 override=None, extra_warnings=(), trace_path=None, plot_path=None,
                 search_device="cpu"):
    """The JSON-able `energy` section. nodes: the leaders' records, one per measured-or-not node."""
    teps, loop_teps = dict(teps or {}), dict(loop_teps or {})
    nodes = sorted(nodes, key=lambda n: n["node"])
    measured = [n for n in nodes if n["method"] != "none"]
    methods = sorted({n["method"] for n in measured})
    method = "none" if not measured else methods[0] if len(methods) == 1 else "mixed"
    not_measured = group_by_nodes([(n["node"], r) for n in nodes for r in n["not_measured"]], nnodes)
    if len(measured) < nnodes and nnodes > 1:
        missing = ",".join(str(n["node"]) for n in nodes if n["method"] == "none")
        not_measured.insert(0, f"{nnodes - len(measured)} of {nnodes} nodes have no counter "
                               f"(nodes {missing})")
    phases = system_phases(nodes, rank0_phases, nnodes)
    reasons = [r for n in nodes for r in n["not_measured"] if r != COMPONENT_GAPS]
    reasons = list(dict.fromkeys(reasons))
    gpu_metered = bool(measured) and all(any(s.get("name") == "nvml" for s in n.get("sources", []))
                                         for n in measured)
    kernels = {}
    for k in KERNELS:
        if teps.get(k) is not None or k in phases or f"energy_loop_{k}" in phases:
            kernels[k] = _kernel_entry(k, phases, teps.get(k), loop_teps.get(k), method, reasons,
                                       search_device, gpu_metered)
    power_integrated = any(n.get("power_integrated") for n in measured)
    warnings = list(extra_warnings)
    if override:
        warnings.append(f"node grouping overridden (GRAPH500_ENERGY_NODES={override}): a test setup, "
                        "not the machine's real nodes")
    warnings += group_by_nodes([(n["node"], w) for n in nodes for w in n.get("warnings", [])], nnodes)
    warnings += _warnings(kernels, phases, nodes, nnodes, interval, power_integrated)
    idle = phases.get("idle")
    sources = [dict(s, node=n["node"]) for n in nodes for s in n.get("sources", [])]
    return {
        "schema": 1,
        "method": method,
        "claim": CLAIM_NOTE if method != "none" else "nothing measured",
        "nodes_total": nnodes,
        "nodes_measured": len(measured),
        "interval_s": interval,
        "sources": sources,
        "domains": {str(n["node"]): [f"{s['name']}:{d}" for s in n.get("sources", []) for d in s["domains"]]
                    for n in nodes},
        "notes": group_by_nodes([(n["node"], t) for n in nodes for t in n.get("notes", [])], nnodes),
        "not_measured": not_measured,
        "idle_W": idle["watts"] if idle else None,
        "phases": phases,
        "intervals": {k: v["intervals"] for k, v in rank0_phases.items()},
        "kernels": kernels,
        "mteps_per_watt": {k: e["mteps_per_watt"] for k, e in kernels.items()},
        "nodes": nodes,
        "warnings": warnings,
        "trace": trace_path,
        "plot": plot_path,
    }
