"""`graph500 energy probe` and `graph500 energy monitor`: the energy meter without the benchmark.

- `probe`: which power sources this node (under mpiexec: every node) can read, the files and
  their permissions, a short reading, and for each source it cannot read the reason and the fix.
  Run it before a long job: a counter only root can read is found in a second, not after hours.
- `monitor [--interval S] [--json PATH] -- COMMAND ...`: runs COMMAND, metering the node while it
  runs, then prints joules and average power per source (or "not measured" and why) and exits
  with the command's exit status (128+N when a signal N ended it). It measures the whole node,
  as `perun monitor` or `codecarbon monitor` do, not only the command.
Bad input (an unknown option, no command, an unwritable --json, a command that cannot be
started) is one line on stderr and exit status 2. Never imports graph500.
"""
import argparse
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import datetime, timezone

from .api import Meter
from .atomic import OutputError, check_writable, write_json_atomic
from .config import EnergyConfig, EnergyConfigError
from .node import NodeMapError, split_nodes
from .rapl import permission_fix
from .sources import COMPONENT_GAPS, open_node_sources

PROG = "graph500 energy"


class ToolError(Exception):
    """Bad input; str(self) is the one line for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ToolError(f"{self.prog}: error: {message}")


def _source_options(p):
    p.add_argument("--powercap-root", metavar="PATH", help="powercap sysfs root (RAPL)")
    p.add_argument("--cray-root", metavar="PATH", help="Cray pm_counters root")
    p.add_argument("--ipmi-log", metavar="PATH", help="CSV written by `python -m graph500.energy.ipmi`")
    p.add_argument("--no-nvml", action="store_true", help="do not read NVIDIA GPUs")
    p.add_argument("--max-watts", type=float, metavar="WATTS",
                   help="most power any one domain can draw (see --energy-max-watts)")
    p.add_argument("--json", metavar="PATH", help="also write the findings as JSON")


def _parser():
    p = _Parser(prog=PROG, description="The graph500 energy meter on its own.",
                epilog="examples:\n  graph500 energy probe\n  mpiexec -n 4 python -m graph500 energy "
                       "probe\n  graph500 energy monitor --json e.json -- python train.py",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", metavar="{probe,monitor}")
    pr = sub.add_parser("probe", help="which power sources each node can read, and the fix if not")
    _source_options(pr)
    mo = sub.add_parser("monitor", help="meter a command: joules and average power per source",
                        usage=f"{PROG} monitor [options] -- COMMAND [ARG ...]")
    mo.add_argument("--interval", type=float, default=0.1, metavar="SECONDS",
                    help="sampling period (default 0.1)")
    _source_options(mo)
    return p


def _config(a, interval=0.1):
    return EnergyConfig(interval=interval, powercap_root=a.powercap_root, cray_root=a.cray_root,
                        ipmi_log=a.ipmi_log, nvml=not a.no_nvml, max_watts=a.max_watts)


# -- probe -------------------------------------------------------------------------------------
def _file_access(path):
    """'-r--r--r-- root' and, when only root can read it, what to do about it."""
    try:
        st = os.stat(path)
    except OSError as e:
        return {"path": path, "mode": None, "owner": None, "note": e.strerror}
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    note = None
    if not st.st_mode & stat.S_IROTH:
        note = "not world-readable: only root" + ("" if st.st_uid == 0 else f" and {owner}") + \
            " can read it"
        if "/energy_uj" in path:
            note += "; " + permission_fix(os.path.dirname(os.path.dirname(path)))
    return {"path": path, "mode": stat.filemode(st.st_mode), "owner": owner, "note": note}


def _counted(source, values):
    return sum(v for v, dom in zip(values, source.domains) if dom.counted)


def _probe_node(cfg, node):
    ns = open_node_sources(cfg, node.label, node.host)
    rec = {"node": node.index, "host": node.host, "method": ns.method if ns.sources else "none",
           "sources": [], "not_measured": [r for r in ns.not_measured if r != COMPONENT_GAPS],
           "notes": list(ns.notes), "watts": None}
    for s in ns.sources:
        d = s.describe()
        # the counters themselves; zone names and ranges are read once and are not the question
        d["file_access"] = [_file_access(f) for f in s.files
                            if not f.endswith(("/name", "max_energy_range_uj", "_max_power_uw"))]
        rec["sources"].append(d)
    if ns.sources:
        # a short reading shows the counters move and what the node draws at rest
        try:
            t0 = time.perf_counter()
            before = [_counted(s, s.read(t0)) for s in ns.sources]
            time.sleep(0.25)
            t1 = time.perf_counter()
            after = [_counted(s, s.read(t1)) for s in ns.sources]
            for d, a, b in zip(rec["sources"], before, after):
                d["watts_now"] = (b - a) / (t1 - t0)
            rec["watts"] = sum(b - a for a, b in zip(before, after)) / (t1 - t0)
        except Exception as e:  # a counter that fails now is the probe's finding, not a crash
            rec["not_measured"].append(f"a first reading failed: {e}")
        for s in ns.sources:
            s.close()
    return rec


def _print_probe(nodes, nranks):
    for n in nodes:
        ranks = f", ranks {n['ranks']}" if nranks > 1 else ""
        print(f"node {n['node']} ({n['host']}{ranks}): {n['method']}")
        for s in n["sources"]:
            now = f", {s['watts_now']:.1f} W now" if s.get("watts_now") is not None else ""
            print(f"  can read  {s['name']}: {s['method']}: {', '.join(s['domains'])}{now}")
            for f in s.get("file_access", []):
                note = f"  ({f['note']})" if f["note"] else ""
                print(f"    {f['mode'] or '?'} {f['owner'] or '?'}  {f['path']}{note}")
        for r in n["not_measured"]:
            print(f"  cannot    {r}")
        for r in n["notes"]:
            print(f"  note      {r}")


def probe(a):
    cfg = _config(a)  # the same options on every rank: every rank fails alike
    comm = _world()
    rank = comm.Get_rank() if comm is not None else 0
    problem = None
    if a.json and rank == 0:  # only rank 0 writes it; its verdict is every rank's
        try:
            check_writable(a.json)
        except OutputError as e:
            problem = str(e)
    if comm is not None:
        problem = comm.bcast(problem, root=0)
    if problem:
        raise ToolError(f"{PROG} probe: error: {problem}" if rank == 0 else "")
    try:
        node = split_nodes(comm, cfg.resolved_node_map())
    except NodeMapError as e:
        raise ToolError(f"{PROG} probe: error: {e}" if rank == 0 else "") from None
    rec = _probe_node(cfg, node) if node.is_leader else None
    gathered = comm.gather((rank, node.index, rec), root=0) if comm is not None else [(0, 0, rec)]
    if rank != 0:
        return 0
    nodes = sorted((r for _, _, r in gathered if r is not None), key=lambda r: r["node"])
    for n in nodes:
        n["ranks"] = ",".join(str(r) for r, idx, _ in gathered if idx == n["node"])
    _print_probe(nodes, len(gathered))
    if a.json:
        write_json_atomic(a.json, {"tool": "graph500 energy probe", "nodes": nodes})
    return 0


def _world():
    """COMM_WORLD when mpi4py can start (one process without mpiexec), else None."""
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


# -- monitor -----------------------------------------------------------------------------------
def _iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_window(r, rc, seconds):
    print(f"energy monitor: command exited with status {rc} after {seconds:.3f} s")
    if r["joules"] is None:
        print("energy: not measured")
    else:
        secs = r.get("seconds_metered") or r["seconds"]
        for s in r["sources"]:
            j = r["by_source"].get(s["name"], 0.0)
            w = j / secs if secs > 0 else 0.0
            print(f"  {s['name']:<6} {j:12.3f} J  {w:10.3f} W average  ({s['method']}: "
                  f"{', '.join(s['domains'])})")
        state = "" if r["complete"] else f"  INCOMPLETE: {'; '.join(r['incomplete_reasons'])}"
        watts = f"{r['watts']:10.3f} W average" if r["watts"] is not None else "power unknown"
        print(f"  {'total':<6} {r['joules']:12.3f} J  {watts}  ({r['method']}){state}")
    for reason in r["not_measured"]:
        print(f"  not measured: {reason}")


def monitor(a, command):
    if not command:
        raise ToolError(f"{PROG} monitor: error: no command given (usage: {PROG} monitor "
                        "[options] -- COMMAND [ARG ...])")
    cfg = _config(a, a.interval)  # checks the options
    if a.json:
        check_writable(a.json)
    meter = Meter(interval=cfg.interval, powercap_root=cfg.powercap_root, cray_root=cfg.cray_root,
                  ipmi_log=cfg.ipmi_log, nvml=cfg.nvml, max_watts=cfg.max_watts)
    start = time.time()
    try:
        meter.begin("command")
        try:
            child = subprocess.Popen(command)
        except OSError as e:
            raise ToolError(f"{PROG} monitor: error: cannot run {command[0]!r}: "
                            f"{e.strerror or e}") from None
        # Ctrl-C reaches the command (same process group); wait for it and report
        previous = {sig: signal.signal(sig, lambda n, f: child.send_signal(n))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            rc = child.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        meter.end("command")
    finally:
        meter.close()
    end = time.time()
    rc = 128 - rc if rc < 0 else rc
    r = meter.result("command")
    _print_window(r, rc, r["seconds"])
    sys.stdout.flush()
    if a.json:
        try:
            write_json_atomic(a.json, {"tool": "graph500 energy monitor", "command": list(command),
                                       "exit_status": rc, "host": socket.gethostname(),
                                       "start_time": _iso(start), "end_time": _iso(end),
                                       "energy": r})
        except OutputError as e:
            print(f"{PROG} monitor: {e}", file=sys.stderr)
    return rc


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    command = None
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    try:
        a = _parser().parse_args(argv)
        if a.cmd is None:
            raise ToolError(f"{PROG}: error: choose a subcommand: probe or monitor (-h for help)")
        if a.cmd == "probe":
            if command is not None:
                raise ToolError(f"{PROG} probe: error: takes no command")
            return probe(a)
        return monitor(a, command or [])
    except SystemExit as e:  # -h
        return e.code if isinstance(e.code, int) else 0
    except ToolError as e:
        msg = str(e)
        if not msg:  # the same error on another MPI rank: rank 0 says it once
            return 2
    except (EnergyConfigError, OutputError) as e:
        # the checks are shared with the benchmark, whose flags carry an --energy- prefix
        text = str(e).replace("--energy-interval", "--interval").replace("--energy-max-watts",
                                                                           "--max-watts")
        msg = f"{PROG} {a.cmd}: error: {text}"
    print(msg, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
