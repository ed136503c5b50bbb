"""The benchmark driver: the reference's phases in its order, each timed and metered.

  preflight (memory, output path) -> warm-up compile (untimed) -> [idle] -> generation ->
  Kernel 1 -> roots -> per kernel: one untimed warm-up search, then for every root a timed
  search, its edge count and its validation (untimed) -> [energy loop] -> output.

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

import energy
from kernels.bfs import BFSWorkspace, bfs
from kernels.construct import construct_graph
from kernels.teps import edge_count

from . import output, spec
from .cli import UsageError
from .generator import generate_edges
from .memory import estimate_rank_bytes, gib, resident_bytes, usable_memory
from .roots import choose_roots
from .stats import kernel_statistics, nedge_statistics
from .validate import validate_bfs

# Test hooks: "RANK:PHASE" raises on that rank when that phase begins (failure handling);
# "RANK:corrupt-KERNEL" breaks that rank's output of each KERNEL search (validation).
INJECT_ENV = "GRAPH500_INJECT_FAILURE"

WARMUP_SCALE = 8


class Progress:
    def __init__(self, comm, quiet):
        self.on = comm.Get_rank() == 0 and not quiet

    def __call__(self, fmt, *a):
        if self.on:
            sys.stderr.write("graph500: " + (fmt % a if a else fmt) + "\n")
            sys.stderr.flush()


class Phases:
    """Barrier-aligned phase marks for the energy monitor, plus the failure-injection hook."""

    def __init__(self, comm, monitor):
        self.comm = comm
        self.monitor = monitor
        spec = os.environ.get(INJECT_ENV, "")
        rank, _, phase = spec.partition(":")
        self.inject = phase if rank.strip() == str(comm.Get_rank()) else None

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
        fail, _ = validate_bfs(self.comm, self.graph, root, self.parent, nedge)
        return fail.message() if fail else None


class SSSPKernel:
    name = "sssp"

    def __init__(self, comm, graph, args):
        from kernels.sssp import SSSPWorkspace, DEFAULT_DELTA
        self.comm, self.graph = comm, graph
        self.delta = args.delta if args.delta is not None else DEFAULT_DELTA
        self.ws = SSSPWorkspace(graph, delta=self.delta)

    def prepare(self):
        reset = getattr(self.ws, "reset", None)
        if reset is not None:
            reset()

    def search(self, root):
        from kernels.sssp import sssp
        self.dist, self.parent = sssp(self.graph, root, self.delta, self.ws, self.comm)

    def nedge(self):
        return edge_count(self.comm, self.graph, self.parent)

    def validate(self, root, nedge):
        from .validate_sssp import validate_sssp
        ok, message, _ = validate_sssp(self.comm, self.graph, root, self.dist, self.parent, nedge)
        return None if ok else message


KERNEL_CLASSES = {"bfs": BFSKernel, "sssp": SSSPKernel}


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


def _warm_up(comm, local, args, weights):
    """Compile (or load from Numba's cache) every kernel on a tiny graph, outside all timed
    regions. One rank writes the cache first: concurrent writers of one cache entry race."""
    def one_pass():
        self_comm = MPI.COMM_SELF
        a, b = 0, 16 << WARMUP_SCALE
        src, dst, w = generate_edges(WARMUP_SCALE, 16, 2, 3, a, b, weights=weights)
        if args.scale > 31:
            src, dst = src.astype(np.int64), dst.astype(np.int64)
        g = construct_graph(self_comm, WARMUP_SCALE, src, dst, w)
        roots = choose_roots(WARMUP_SCALE, 2, 2, 3, _has_edge(self_comm, g))
        for name in args.kernels:
            k = KERNEL_CLASSES[name](self_comm, g, args)
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
                                   tuple(args.kernels), args.delta)
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
    problem = None
    if comm.Get_rank() == 0 and args.json:
        problem = _check_writable(args.json)
    problem = comm.bcast(problem, root=0)
    if problem:
        raise UsageError(problem)
    return need


def _check_writable(path):
    if os.path.isdir(path):
        return "--json %s is a directory" % path
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        return "--json %s: directory %s does not exist" % (path, d)
    if not os.access(d, os.W_OK):
        return "--json %s: directory %s is not writable" % (path, d)
    return None


def _run_kernel(comm, kern, roots, args, phases, log):
    """Warm-up, then the timed searches with their validations. Returns (record, failure)."""
    kern.prepare()
    kern.search(0)  # the reference's untimed warm-up search from vertex 0
    times, nedges, vtimes = [], [], []
    for i, root in enumerate(roots):
        kern.prepare()
        phases.begin(kern.name)
        t0 = MPI.Wtime()
        kern.search(root)
        comm.Barrier()
        t = MPI.Wtime() - t0
        phases.end(kern.name)
        phases.corrupt(kern)
        m = kern.nedge()
        times.append(t)
        nedges.append(m)
        if not args.skip_validation:
            phases.begin("validation")
            t0 = MPI.Wtime()
            fail = kern.validate(root, m)
            vt = MPI.Wtime() - t0
            phases.end("validation")
            vtimes.append(vt)
            if fail:
                return None, "%s root %d (search %d): %s" % (kern.name.upper(), root, i, fail)
        log("%s %2d/%d root %d: %.6f s, %.4g TEPS%s", kern.name, i + 1, len(roots), root, t,
            m / t if t > 0 else float("inf"),
            ", validated in %.4f s" % vtimes[-1] if vtimes else "")
    record = {"time": times, "nedge": nedges,
              "validate_time": vtimes if not args.skip_validation else None}
    record.update(kernel_statistics(times, nedges, vtimes if not args.skip_validation else None))
    record.update(nedge_statistics(nedges))
    return record, None


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


def _threads_per_rank(args, local):
    import numba
    if args.threads is not None:
        want = args.threads
    else:
        total = os.cpu_count() or 1
        try:
            allowed = len(os.sched_getaffinity(0))
        except AttributeError:
            allowed = total
        # A launcher that bound this rank to some cores has already chosen for us;
        # otherwise share the node's cores among its ranks.
        want = allowed if allowed < total else total // local.Get_size()
    return max(1, min(want, numba.config.NUMBA_NUM_THREADS))


def run(comm, args):
    import numba
    rank, size = comm.Get_rank(), comm.Get_size()
    log = Progress(comm, args.quiet)
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    threads = _threads_per_rank(args, local)
    numba.set_num_threads(threads)
    weights = "sssp" in args.kernels

    need = _preflight(comm, local, args, weights)
    log("SCALE %d, edgefactor %d, %d ranks x %d threads, kernels %s; about %s memory per node",
        args.scale, args.edgefactor, size, threads, ",".join(args.kernels), gib(need))
    startup = _warm_up(comm, local, args, weights)
    log("start-up (compile or load kernels): %.2f s", startup)

    monitor = energy.EnergyMonitor(comm, args.energy_config)
    monitor.start()
    phases = Phases(comm, monitor)
    phases.begin("run")
    if args.idle > 0:
        phases.begin("idle")
        time.sleep(args.idle)
        phases.end("idle")

    phases.begin("generation")
    t0 = MPI.Wtime()
    a, b = _local_edges(args, comm)
    src, dst, w = generate_edges(args.scale, args.edgefactor, args.seed[0], args.seed[1], a, b,
                                 weights=weights)
    comm.Barrier()
    generation = MPI.Wtime() - t0
    phases.end("generation")
    log("generation: %.3f s", generation)

    phases.begin("construction")
    t0 = MPI.Wtime()
    graph = construct_graph(comm, args.scale, src, dst, w)
    comm.Barrier()
    construction = MPI.Wtime() - t0
    phases.end("construction")
    del src, dst, w
    log("construction: %.3f s", construction)

    roots = choose_roots(args.scale, args.roots, args.seed[0], args.seed[1], _has_edge(comm, graph))
    log("%d search roots", len(roots))

    result = {"scale": args.scale, "edgefactor": args.edgefactor, "seed": list(args.seed),
              "num_mpi_processes": size, "threads_per_rank": threads,
              "graph_generation": generation, "construction_time": construction,
              "roots": [int(r) for r in roots], "kernels": list(args.kernels),
              "validated": not args.skip_validation, "startup_time": startup}
    failure = None
    loops = {}
    for name in args.kernels:
        kern = KERNEL_CLASSES[name](comm, graph, args)
        if name == "sssp":
            result["delta"] = kern.delta
        record, failure = _run_kernel(comm, kern, roots, args, phases, log)
        if failure:
            break
        if args.energy_loop > 0:
            loops[name] = _energy_loop(comm, kern, roots, record["nedge"], args.energy_loop, phases)
            record["energy_loop"] = loops[name]
        result[name] = record
        del kern
    phases.end("run")

    teps = {k: result[k]["harmonic_mean_TEPS"] if k in result else None for k in ("bfs", "sssp")}
    loop_teps = {k: loops[k]["harmonic_mean_TEPS"] if k in loops else None for k in ("bfs", "sssp")}
    energy_result = monitor.finish(teps=teps, loop_teps=loop_teps)
    hosts = comm.gather(MPI.Get_processor_name(), root=0)
    node_need = comm.gather(need if local.Get_rank() == 0 else None, root=0)
    peak_rss = comm.gather(_peak_rss_bytes(), root=0)
    if rank != 0:
        return 1 if failure else 0
    if failure:
        sys.stderr.write("graph500: validation failed: %s\n" % failure)
        sys.stdout.write("No results printed for invalid run.\n")
        sys.stdout.flush()
        return 1
    lines = output.reference_block(result) + energy.report_lines(energy_result)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    if args.json:
        result["energy"] = energy_result
        result["versions"] = _versions()
        result["hosts"] = sorted(set(hosts))
        result["peak_rss_bytes"] = peak_rss
        # the preflight's estimate per node, in the order of the nodes' first ranks
        result["memory_estimate_bytes"] = [x for x in node_need if x is not None]
        result["host"] = socket.gethostname()
        output.write_json_atomic(args.json, result)
    return 0
