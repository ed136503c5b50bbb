"""The benchmark driver: the reference's phases in its order, each timed and metered.

  preflight (memory, output paths, environment) -> warm-up compile (untimed) -> [idle] ->
  generation -> Kernel 1 -> roots -> per kernel: one untimed warm-up search, then for every root
  a timed search, its edge count and its validation (untimed) -> [energy loop] -> output: the
  reference block, the JSON (graph500/record.py, docs/result-schema.md), then trace and plot.

Every phase edge is a barrier followed by the energy monitor's mark, so phases mean the same
thing on every rank and the meters read the whole machine at the same moment.
"""
import os
import platform
import socket
import sys
import time

import numpy as np
from mpi4py import MPI

from graph500 import energy
from graph500.kernels.audit import audit_graph, corrupt_graph
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.construct import construct_graph
from graph500.kernels.teps import edge_count
from graph500.kernels.traffic import Counted, Counter, Ledger

from . import output, record, spec, validate, validate_sssp
from .cli import UsageError, package_version
from .device import open_device
from .generator import generate_edges
from .memory import estimate_rank_bytes, gib, resident_bytes, usable_memory
from .progress import Progress
from .roots import choose_roots
from .stats import kernel_statistics, nedge_statistics
from .threads import WAIT_POLICY_ENV, choose_threads, threading_layer

# Test hooks: "RANK:PHASE" raises on that rank when that phase begins (failure handling;
# "startup" is before the warm-up);
# "RANK:corrupt-KERNEL" breaks that rank's output of each KERNEL search (validation);
# "RANK:corrupt-graph-{drop,dup,move,weight}" breaks that rank's CSR after Kernel 1 (audit).
INJECT_ENV = "GRAPH500_INJECT_FAILURE"

WARMUP_SCALE = 8

JSON_LOST = 3   # exit code: results printed, but the --json record could not be written


def _injected(comm):
    """The hook GRAPH500_INJECT_FAILURE names for this rank ("RANK:WHAT"), or None."""
    rank, _, what = os.environ.get(INJECT_ENV, "").partition(":")
    return what if rank.strip() == str(comm.Get_rank()) else None


class Phases:
    """Barrier-aligned phase marks for the energy monitor, plus the failure-injection hook and
    the traffic ledger (`with phases.traffic.count(name):` around what the JSON's `comm`
    objects report; kernels/traffic.py)."""

    def __init__(self, comm, monitor):
        self.comm = comm
        self.monitor = monitor
        self.inject = _injected(comm)
        self.traffic = Ledger(getattr(comm, "counter", None) or Counter())

    def begin(self, name):
        if name == self.inject:
            raise RuntimeError("failure injected by %s in phase %s" % (INJECT_ENV, name))
        self.comm.Barrier()
        self.monitor.begin(name)
        # A slow counter read on one node's leader (NVML takes milliseconds) must not leak
        # into the next timed region on the other ranks.
        self.comm.Barrier()

    def corrupt(self, kern):
        if self.inject == "corrupt-" + kern.name and len(kern.parent):
            kern.parent[len(kern.parent) // 2] = -7

    def corrupt_graph(self, graph):
        if self.inject and self.inject.startswith("corrupt-graph-"):
            corrupt_graph(graph, self.inject[len("corrupt-graph-"):])

    def end(self, name):
        self.comm.Barrier()
        self.monitor.end(name)


# --- the two search kernels behind one small interface --------------------------------------

class BFSKernel:
    name = "bfs"

    def __init__(self, comm, graph, args):
        self.comm, self.graph = comm, graph
        self.ws = BFSWorkspace(graph, comm)

    def prepare(self):
        self.ws.reset()

    def search(self, root):
        self.parent = bfs(self.ws, root)

    def nedge(self):
        return edge_count(self.comm, self.graph, self.parent)

    def validate(self, root, nedge):
        """None, or (message, the spec's check number or None)."""
        return validate.verdict(self.comm, self.graph, root, self.parent, nedge)


class SSSPKernel:
    name = "sssp"

    def __init__(self, comm, graph, args):
        from graph500.kernels.sssp import SSSPWorkspace, DEFAULT_DELTA
        self.comm, self.graph = comm, graph
        self.delta = args.delta if args.delta is not None else DEFAULT_DELTA
        self.ws = SSSPWorkspace(graph, comm, delta=self.delta)

    def prepare(self):
        self.ws.reset()

    def search(self, root):
        from graph500.kernels.sssp import sssp
        self.dist, self.parent = sssp(self.ws, root)

    def nedge(self):
        return edge_count(self.comm, self.graph, self.parent)

    def validate(self, root, nedge):
        return validate_sssp.verdict(self.comm, self.graph, root, self.dist, self.parent, nedge)


KERNEL_CLASSES = {"bfs": BFSKernel, "sssp": SSSPKernel}


# --- the 2-D layout (--layout 2d: kernels/grid.py, construct2d.py, bfs2d.py, validate2d.py) ---

class BFS2DKernel(BFSKernel):
    """Kernel 2 on the R x C grid of ranks; the same interface, parents in 1-D blocks."""

    def __init__(self, comm, graph, args):
        from graph500.kernels.bfs2d import BFS2DWorkspace
        self.comm, self.graph = comm, graph
        self.ws = BFS2DWorkspace(graph, comm)

    def search(self, root):
        from graph500.kernels.bfs2d import bfs2d
        self.parent = bfs2d(self.ws, root)

    def nedge(self):
        from graph500.kernels.construct2d import edge_count2d
        return edge_count2d(self.comm, self.graph, self.parent)

    def validate(self, root, nedge):
        from . import validate2d
        return validate2d.verdict(self.comm, self.graph, root, self.parent, nedge)


class SSSP2DKernel(SSSPKernel):
    """Kernel 3 on the R x C grid (kernels/sssp2d.py, graph500/validate_sssp2d.py), on the
    same weighted Graph2D the 2-D BFS reads; dist and parent in 1-D blocks."""

    def __init__(self, comm, graph, args):
        from graph500.kernels.sssp2d import SSSP2DWorkspace, DEFAULT_DELTA
        self.comm, self.graph = comm, graph
        self.delta = args.delta if args.delta is not None else DEFAULT_DELTA
        self.ws = SSSP2DWorkspace(graph, comm, delta=self.delta)

    def search(self, root):
        from graph500.kernels.sssp2d import sssp2d
        self.dist, self.parent = sssp2d(self.ws, root)

    def nedge(self):
        from graph500.kernels.construct2d import edge_count2d
        return edge_count2d(self.comm, self.graph, self.parent)

    def validate(self, root, nedge):
        from . import validate_sssp2d
        return validate_sssp2d.verdict(self.comm, self.graph, root, self.dist, self.parent,
                                       nedge)


def _layout_2d(args):
    return getattr(args, "layout", "1d") == "2d"


def _kernel_classes(args):
    return {"bfs": BFS2DKernel, "sssp": SSSP2DKernel} if _layout_2d(args) else KERNEL_CLASSES


def _construct(comm, args, scale, src, dst, w):
    """Kernel 1 in the run's layout."""
    if _layout_2d(args):
        from graph500.kernels.construct2d import construct_graph2d
        return construct_graph2d(comm, scale, src, dst, w)
    return construct_graph(comm, scale, src, dst, w)


def _layout_record(graph):
    """The JSON's `layout` and, for 2d, `grid` [R, C]."""
    grid = getattr(graph, "grid", None)
    return {"layout": "2d", "grid": [grid.R, grid.C]} if grid is not None else {"layout": "1d"}


# --- phases -----------------------------------------------------------------------------------

def _local_edges(args, comm, scale=None, edgefactor=None):
    scale = args.scale if scale is None else scale
    edgefactor = args.edgefactor if edgefactor is None else edgefactor
    m = edgefactor << scale
    r, p = comm.Get_rank(), comm.Get_size()
    return r * m // p, (r + 1) * m // p


def _has_edge(comm, graph):
    part, deg = graph.part, graph.degree()

    def has_edge(cands):
        flags = np.zeros(len(cands), dtype=np.int8)
        mine = (cands >= part.lo) & (cands < part.hi)
        flags[mine] = deg[cands[mine] - part.lo] > 0
        out = np.empty_like(flags)
        comm.Allreduce(flags, out, op=MPI.MAX)
        return out.astype(bool)
    return has_edge


def _warm_up(comm, local, args, weights, dev):
    """Compile (or load from Numba's cache) every kernel on a tiny graph, outside all timed
    regions. One rank writes the cache first: concurrent writers of one cache entry race."""
    def one_pass():
        self_comm = MPI.COMM_SELF
        a, b = 0, 16 << WARMUP_SCALE
        src, dst, w = generate_edges(WARMUP_SCALE, 16, 2, 3, a, b, weights=weights)
        if args.scale > 31:
            src, dst = src.astype(np.int64), dst.astype(np.int64)
        g = _construct(self_comm, args, WARMUP_SCALE, src, dst, w)
        audit_graph(self_comm, g, src, dst, w, 16 << WARMUP_SCALE)
        roots = choose_roots(WARMUP_SCALE, 2, 2, 3, _has_edge(self_comm, g))
        for name in args.kernels:
            k = dev.kernel_class(name, _kernel_classes(args))(self_comm, g, args)
            k.prepare()
            k.search(roots[0])
            k.validate(roots[0], k.nedge())
    t0 = time.perf_counter()
    stages = (comm.Get_rank() == 0, local.Get_rank() == 0 and comm.Get_rank() != 0,
              local.Get_rank() != 0)
    for go in stages:
        if go:
            one_pass()
        comm.Barrier()
    return time.perf_counter() - t0


def _preflight(comm, local, args, weights):
    """Refuse, on every rank, a run that cannot fit in memory or cannot write its result.
    Returns the estimated bytes per node (this rank's node)."""
    if comm.Get_size() > spec.MAX_RANKS:
        raise UsageError("%d ranks: at most %d are supported (the owner arithmetic is 64-bit)"
                         % (comm.Get_size(), spec.MAX_RANKS))
    # The modules' own estimates (graph500/memory.py), times this node's ranks; compared
    # with the smaller of MemAvailable and the cgroup limit, read by the node's first rank.
    per_rank = estimate_rank_bytes(args.scale, args.edgefactor, comm.Get_size(),
                                   tuple(args.kernels), args.delta,
                                   layout=getattr(args, "layout", "1d"))
    need = per_rank * local.Get_size()
    resident = local.allreduce(resident_bytes())
    avail, what = usable_memory(resident) if local.Get_rank() == 0 else (None, None)
    verdicts = comm.allgather((need, avail, what, local.Get_size()))
    for need_n, avail_n, what_n, nlocal_n in verdicts:
        if avail_n is not None and need_n > avail_n:
            raise UsageError("SCALE %d needs about %s of memory per node (%d ranks x %s), but "
                             "only %s is available (%s); use more nodes or a smaller SCALE"
                             % (args.scale, gib(need_n), nlocal_n, gib(need_n / nlocal_n),
                                gib(avail_n), what_n))
    # Rank 0 writes every output file: it checks them all, now, and every rank hears the verdict.
    problem = output.check_outputs(args) if comm.Get_rank() == 0 else None
    problem = comm.bcast(problem, root=0)
    if problem:
        raise UsageError(problem)
    return need


def _kernel1_audit(comm, args, graph, src, dst, w, phases, log, construction):
    """Untimed, once, before any search: prove the CSR equals the generated tuples
    (kernels/audit.py). The test hooks break the CSR first. Returns (JSON record, None or a
    failure dict shaped like record.failure()'s); every rank reaches the same verdict from the reduced sums."""
    phases.corrupt_graph(graph)
    phases.begin("audit")
    t0 = MPI.Wtime()
    with phases.traffic.count("audit"):
        v = audit_graph(comm, graph, src, dst, w, args.edgefactor << args.scale)
    t = MPI.Wtime() - t0
    phases.end("audit")
    record = {"time": t, "ok": v["ok"], "entries": v["entries"], "self_loops": v["self_loops"]}
    if not v["ok"]:
        record["check"] = v["check"]
        return record, {"kernel": "audit", "root": None, "search": None, "check": v["check"],
                        "message": "Kernel 1 audit, check %s: %s" % (v["check"], v["message"])}
    log("Kernel 1 audit: %.3f s (%.1f%% of construction): %d CSR entries, %d self-loops dropped, "
        "as generated", t, 100.0 * t / construction if construction > 0 else 0.0,
        v["entries"], v["self_loops"])
    return record, None


def _run_kernel(comm, kern, roots, args, phases, log):
    """Warm-up, then the timed searches with their validations. Returns (record, failure),
    failure being None or a record.failure() dict."""
    with log.phase("%s warm-up search" % kern.name, "untimed, from vertex 0"):
        kern.prepare()
        kern.search(0)  # the reference's untimed warm-up search from vertex 0
    log("%s: %d timed searches%s", kern.name, len(roots),
        "" if args.skip_validation else ", each validated")
    log.kernel_started()
    times, nedges, vtimes = [], [], []
    for i, root in enumerate(roots):
        kern.prepare()
        phases.begin(kern.name)
        t0 = MPI.Wtime()
        with phases.traffic.count(kern.name):
            kern.search(root)
        comm.Barrier()
        t = MPI.Wtime() - t0
        phases.end(kern.name)
        phases.corrupt(kern)
        # m for TEPS is the benchmark's count, never the search kernel's: kernels/teps.py sums
        # the row lengths of the audited CSR over the vertices this parent array reaches, and
        # validation then checks that same parent array (an invalid tree voids the run).
        m = kern.nedge()
        times.append(t)
        nedges.append(m)
        if not args.skip_validation:
            phases.begin("validation")
            t0 = MPI.Wtime()
            with phases.traffic.count(kern.name + " validation"):
                fail = kern.validate(root, m)
            vt = MPI.Wtime() - t0
            phases.end("validation")
            vtimes.append(vt)
            if fail:
                message, check = fail
                return None, record.failure(kern.name, root, i, check, message)
        eta = log.search_done()
        log("%-4s %2d/%d root %d: %.6f s, %.4g TEPS%s%s", kern.name, i + 1, len(roots), root, t,
            m / t if t > 0 else float("inf"),
            ", validated in %.4f s" % vtimes[-1] if vtimes else "", eta)
    rec = {"time": times, "nedge": nedges,
           "validate_time": vtimes if not args.skip_validation else None}
    rec.update(kernel_statistics(times, nedges, vtimes if not args.skip_validation else None))
    rec.update(nedge_statistics(nedges))
    return rec, None


def _energy_loop(comm, kern, roots, nedges, seconds, phases):
    """Repeat the official searches untimed-for-TEPS for `seconds`; return the loop's own
    harmonic-mean TEPS. Rank 0's clock decides when to stop, so all ranks stop together."""
    name = "energy_loop_" + kern.name
    phases.begin(name)
    start = MPI.Wtime()
    per_edge, n, i = 0.0, 0, 0
    while True:
        j = i % len(roots)
        kern.prepare()
        comm.Barrier()
        t0 = MPI.Wtime()
        kern.search(roots[j])
        comm.Barrier()
        per_edge += (MPI.Wtime() - t0) / nedges[j]
        n, i = n + 1, i + 1
        if comm.bcast(MPI.Wtime() - start >= seconds, root=0):
            break
    phases.end(name)
    return {"searches": n, "seconds": MPI.Wtime() - start, "harmonic_mean_TEPS": n / per_edge}


def _no_roots(args):
    return UsageError("SCALE %d with edgefactor %d has no vertex with an edge to search from "
                      "(no search roots): use a larger SCALE or edgefactor"
                      % (args.scale, args.edgefactor))


def _peak_rss_bytes():
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    return kb * 1024 if sys.platform != "darwin" else kb


def _versions():
    import numba
    import mpi4py
    return {"python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "mpi4py": mpi4py.__version__,
            "mpi_library": MPI.Get_library_version().strip("\x00 \n").splitlines()[0].strip()}


def run(comm, args):
    import numba
    # Every exchange from here on is counted (kernels/traffic.py): the JSON's `comm` objects.
    comm = Counted(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    start_wall, start_mono = getattr(args, "started", None) or (time.time(), time.monotonic())
    if _injected(comm) == "startup":     # the earliest failure, for the abort-path tests
        raise RuntimeError("failure injected by %s in phase startup" % INJECT_ENV)
    log = Progress(comm, args.quiet, t0=start_mono)
    for note in getattr(args, "notes", ()):
        log.note(note)
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    threads, thread_warning = choose_threads(args.threads, local, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    weights = "sssp" in args.kernels

    need = _preflight(comm, local, args, weights)
    log("SCALE %d, edgefactor %d, %d ranks x %d threads, kernels %s; about %s memory per node",
        args.scale, args.edgefactor, size, threads, ",".join(args.kernels), gib(need))
    if thread_warning:
        sys.stderr.write(thread_warning + "\n")
        sys.stderr.flush()
    # --device: which processor searches (graph500/device.py); cpu changes nothing.
    dev = open_device(getattr(args, "device", "cpu"), comm, local, args)
    with log.phase("compile", "or load the kernels from Numba's cache, untimed"):
        startup = _warm_up(comm, local, args, weights, dev)

    monitor = energy.EnergyMonitor(comm, args.energy_config, search_device=dev.name)
    monitor.start()
    phases = Phases(comm, monitor)
    phases.begin("run")
    if args.idle > 0:
        with log.phase("idle", "ranks sleep %g s for the idle power" % args.idle):
            phases.begin("idle")
            time.sleep(args.idle)
            phases.end("idle")

    with log.phase("generation"):
        phases.begin("generation")
        t0 = MPI.Wtime()
        a, b = _local_edges(args, comm)
        src, dst, w = generate_edges(args.scale, args.edgefactor, args.seed[0], args.seed[1], a, b,
                                     weights=weights)
        comm.Barrier()
        generation = MPI.Wtime() - t0
        phases.end("generation")

    with log.phase("construction", "Kernel 1"):
        phases.begin("construction")
        t0 = MPI.Wtime()
        with phases.traffic.count("construction"):
            graph = _construct(comm, args, args.scale, src, dst, w)
            dev.load(graph)   # --device gpu: the CSR copied to the GPU, part of Kernel 1
        comm.Barrier()
        construction = MPI.Wtime() - t0
        phases.end("construction")
    with log.phase("audit", "Kernel 1's graph against the generated tuples, untimed"):
        audit, failure = _kernel1_audit(comm, args, graph, src, dst, w, phases, log,
                                        construction)
    del src, dst, w

    roots = choose_roots(args.scale, args.roots, args.seed[0], args.seed[1], _has_edge(comm, graph))
    if not roots:
        monitor.finish(defer_artefacts=True)
        raise _no_roots(args)   # same roots on every rank: a collective verdict
    log("%d search roots", len(roots))

    result = {"scale": args.scale, "edgefactor": args.edgefactor, "seed": list(args.seed),
              "num_mpi_processes": size, "threads_per_rank": threads,
              "graph_generation": generation, "construction_time": construction,
              "roots": [int(r) for r in roots], "kernels": list(args.kernels),
              "validated": not args.skip_validation, "startup_time": startup}
    result.update(dev.record(comm))   # "device", and with gpu the GPU of each rank
    result["audit"] = audit
    result.update(_layout_record(graph))
    loops = {}
    log.plan(args.kernels, len(roots), args.energy_loop)
    for name in (args.kernels if failure is None else ()):
        kern = dev.kernel_class(name, _kernel_classes(args))(comm, graph, args)
        if name == "sssp":
            result["delta"] = kern.delta
        with log.phase(name, "Kernel %d" % (2 if name == "bfs" else 3)):
            record_, failure = _run_kernel(comm, kern, roots, args, phases, log)
        if failure:
            break
        if args.energy_loop > 0:
            with log.phase("energy loop " + name, "repeat the searches for %g s" % args.energy_loop):
                loops[name] = _energy_loop(comm, kern, roots, record_["nedge"], args.energy_loop,
                                           phases)
            record_["energy_loop"] = loops[name]
        result[name] = record_
        del kern
    phases.end("run")

    if failure:   # an invalid run has no statistics, and so no TEPS to put energy against
        for name in args.kernels:
            result.pop(name, None)
        teps = loop_teps = {k: None for k in ("bfs", "sssp")}
    else:
        teps = {k: result[k]["harmonic_mean_TEPS"] if k in result else None for k in ("bfs", "sssp")}
        loop_teps = {k: loops[k]["harmonic_mean_TEPS"] if k in loops else None
                     for k in ("bfs", "sssp")}
    energy_result = monitor.finish(teps=teps, loop_teps=loop_teps, scale=args.scale,
                                   defer_artefacts=True)
    hosts = comm.gather(MPI.Get_processor_name(), root=0)
    node_need = comm.gather(need if local.Get_rank() == 0 else None, root=0)
    peak_rss = _peak_rss_bytes()
    ranks = record.ranks(comm, threads, peak_rss)
    peak_rss = comm.gather(peak_rss, root=0)
    nodes = record.count_nodes(comm, local)
    traffic = comm.gather(phases.traffic.summary(), root=0)
    if rank != 0:
        return 1 if failure else 0
    record.add_comm(result, traffic)

    # Results first (the block, the JSON), then the optional artefacts, so that a failing
    # trace or plot loses only itself.
    if failure:
        if failure["root"] is None:    # the Kernel 1 audit: no search ran
            log.note("validation failed: %s", failure["message"])
        else:
            log.note("validation failed: %s root %d (search %d): %s", failure["kernel"].upper(),
                     failure["root"], failure["search"], failure["message"])
        sys.stdout.write("No results printed for invalid run.\n")
    else:
        lines = output.reference_block(result) + energy.report_lines(energy_result)
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    json_lost = None
    if args.json:
        result["energy"] = energy_result
        result["versions"] = _versions()
        result["hosts"] = sorted(set(hosts))
        result["peak_rss_bytes"] = peak_rss
        # the preflight's estimate per node, in the order of the nodes' first ranks
        result["memory_estimate_bytes"] = [x for x in node_need if x is not None]
        result["host"] = socket.gethostname()
        result.update(_record_fields(args, start_wall, nodes, ranks, failure))
        try:
            output.write_json_atomic(args.json, result)
        except OSError as e:   # checked writable at the start: a disk that filled up since
            json_lost = "result JSON not written: %s: %s" % (args.json, e)
    problems = monitor.write_artefacts()
    for p in problems:
        log.note("warning: %s", p)
    if json_lost:
        # The block is on stdout and the artefacts are written; the record asked for is not,
        # which a script must notice: exit 3 (not 1, which means a failed validation).
        log.note("error: %s", json_lost)
        return 1 if failure else JSON_LOST
    if problems and args.json:
        # The JSON already names the trace and plot: say which of them is missing, and why.
        # (write_artefacts has already set the missing one's path in result["energy"] to None)
        result["energy"]["warnings"] = list(result["energy"].get("warnings", [])) + problems
        try:
            output.write_json_atomic(args.json, result)
        except OSError as e:   # the first JSON stands; it only lacks these warnings
            log.note("warning: the JSON could not be updated with these warnings: %s", e)
    log("done%s", ": validation failed" if failure else "")
    return 1 if failure else 0


def _record_fields(args, start_wall, nodes, ranks, failure):
    """The record's own keys (graph500/record.py, docs/result-schema.md)."""
    return {"schema": record.SCHEMA, "graph500_version": package_version(),
            "start_time": record.iso_utc(start_wall), "end_time": record.iso_utc(time.time()),
            "argv": list(getattr(args, "argv", sys.argv)), "nodes": nodes, "ranks": ranks,
            "cpu_model": record.cpu_model(),
            "status": record.status(not args.skip_validation, failure is not None),
            "failure": failure, "skipped": list(getattr(args, "skipped", [])),
            "threading_layer": threading_layer(),
            "omp_wait_policy": os.environ.get(WAIT_POLICY_ENV) or None}
