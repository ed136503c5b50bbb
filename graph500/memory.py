"""Memory preflight: what one rank holds at its peak, and whether a node can hold its ranks.

Every module that allocates a lasting array says how many bytes it needs (a function at the
end of the module, under "memory estimate"); this file only adds them up per phase and
compares. A rank's peak is the larger of its phases, because each phase frees its arrays
before the next allocates:
  Kernel 1  - the generated edge list, the graph being built, the degree/cursor array and
              one exchange round (kernels/construct.py), and the Kernel 1 audit, which runs
              while both the edge list and the graph are held;
  BFS       - the graph, the BFS workspace (kernels/bfs.py) and BFS validation
              (graph500/validate.py);
  SSSP      - the graph, the SSSP workspace and two searches' outputs (kernels/sssp.py) and
              SSSP validation (graph500/validate_sssp.py).
Plus BASE_BYTES for the interpreter, NumPy, Numba's compiled kernels and the MPI library.

The memory a job may really use is the smaller of the kernel's MemAvailable and the limit of
the cgroup the rank runs in (Slurm and containers confine jobs this way; the kernel kills a
job that goes over it with signal 9 and no message of ours).
"""
import os

from graph500.kernels.bfs import bfs_workspace_bytes
from graph500.kernels.construct import construct_bytes, edge_list_bytes, graph_bytes
from graph500.kernels.audit import audit_bytes
from graph500.kernels.sssp import DEFAULT_DELTA, sssp_workspace_bytes

from .validate import validate_bfs_bytes
from .validate_sssp import validate_sssp_bytes

# Resident bytes of one rank before any graph: Python, NumPy, mpi4py and the MPI library,
# Numba and LLVM with every kernel compiled or loaded from the cache, the energy monitor.
# Measured (bench/memory_estimate.py, 2 ranks, warm Numba cache): 190-200 MiB per rank at
# SCALE 10-20 once the phases below are taken off, in a development checkout; a fresh clone
# set up by .ci/run measured 30-35 MiB more per rank at SCALE 18 (peak RSS 314 against 281
# MiB, same code, 2026-11-28; this put tests/test_memory.py's bound at its edge). 220 MiB
# sits between the two.
BASE_BYTES = 220 << 20

# What runs between construction and the first search, while the edge list and the graph are
# both held: the Kernel 1 audit (kernels/audit.py).
KERNEL1_EXTRA = [audit_bytes]


def phase_bytes(scale, edgefactor, nranks, kernels=("bfs", "sssp"), delta=None):
    """Bytes one rank holds in each phase beyond BASE_BYTES, as a dict phase -> bytes."""
    weights = "sssp" in kernels
    delta = DEFAULT_DELTA if delta is None else delta
    args = (scale, edgefactor, nranks)
    graph = graph_bytes(*args, weights)
    edges = edge_list_bytes(*args, weights)
    phases = {"kernel1": edges + max([construct_bytes(*args, weights)]
                                     + [graph + f(*args, weights) for f in KERNEL1_EXTRA])}
    if "bfs" in kernels:
        phases["bfs"] = graph + bfs_workspace_bytes(*args) + validate_bfs_bytes(*args)
    if "sssp" in kernels:
        phases["sssp"] = (graph + sssp_workspace_bytes(*args, delta=delta)
                          + validate_sssp_bytes(*args))
    return phases


def phase_bytes_2d(scale, edgefactor, nranks, kernels=("bfs", "sssp"), delta=None):
    """--layout 2d: Kernel 1 (kernels/construct2d.py), the 2-D BFS and its validation
    (kernels/bfs2d.py, graph500/validate2d.py), the 2-D SSSP and its validation
    (kernels/sssp2d.py, graph500/validate_sssp2d.py), as phase_bytes. One weighted graph
    serves both kernels."""
    from graph500.kernels.bfs2d import bfs2d_workspace_bytes
    from graph500.kernels.construct2d import construct2d_bytes, graph2d_bytes
    from graph500.kernels.sssp2d import DEFAULT_DELTA as DELTA_2D, sssp2d_workspace_bytes
    from .validate2d import validate_bfs2d_bytes
    from .validate_sssp2d import validate_sssp2d_bytes
    weights = "sssp" in kernels
    args = (scale, edgefactor, nranks)
    graph = graph2d_bytes(*args, weights)
    edges = edge_list_bytes(*args, weights)
    phases = {"kernel1": edges + max([construct2d_bytes(*args, weights=weights)]
                                     + [graph + f(*args, weights) for f in KERNEL1_EXTRA])}
    if "bfs" in kernels:
        phases["bfs"] = graph + bfs2d_workspace_bytes(*args) + validate_bfs2d_bytes(*args)
    if "sssp" in kernels:
        phases["sssp"] = (graph + sssp2d_workspace_bytes(
            *args, delta=DELTA_2D if delta is None else delta) + validate_sssp2d_bytes(*args))
    return phases


def estimate_rank_bytes(scale, edgefactor, nranks, kernels=("bfs", "sssp"), delta=None,
                        layout="1d"):
    """Peak bytes one rank holds: BASE_BYTES plus its largest phase."""
    if layout == "2d":
        return BASE_BYTES + max(phase_bytes_2d(scale, edgefactor, nranks, kernels,
                                               delta).values())
    return BASE_BYTES + max(phase_bytes(scale, edgefactor, nranks, kernels, delta).values())


# --- what the job may use -------------------------------------------------------------------

def mem_available(path="/proc/meminfo"):
    """Bytes the kernel says a new process can use, or None where it cannot be read."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit value.
_V1_UNLIMITED = 1 << 62


def _read_limit(path):
    """A limit file's value in bytes, or None for "max", unlimited or unreadable."""
    try:
        with open(path) as f:
            text = f.read(64).strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 0 <= value < _V1_UNLIMITED else None


def cgroup_limit(proc_cgroup="/proc/self/cgroup", root="/sys/fs/cgroup"):
    """The memory limit of this process's cgroup, or None when there is none.

    cgroup v2 (a "0::/path" line): memory.max of the process's cgroup and of every ancestor
    (a parent's limit confines its children too), the smallest. cgroup v1 (a line whose
    controllers include "memory"): memory.limit_in_bytes under the memory hierarchy, at the
    same levels. "max" or v1's huge value mean no limit. Inside a container the path is
    often "/" and the container's own limit sits at the root of the mount."""
    try:
        with open(proc_cgroup) as f:
            lines = f.read(1 << 16).splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):
            base = os.path.join(root, "memory")
            if not os.path.isdir(base):          # some systems mount it elsewhere, named so
                base = os.path.join(root, controllers)
            name = "memory.limit_in_bytes"
        else:
            continue
        rel = path.strip("/")
        while True:
            limits.append(_read_limit(os.path.join(base, rel, name)))
            if not rel:
                break
            rel = os.path.dirname(rel)
    limits = [x for x in limits if x is not None]
    return min(limits) if limits else None


def resident_bytes(path="/proc/self/statm"):
    """This process's resident bytes now (0 where unknown)."""
    try:
        with open(path) as f:
            return int(f.read(256).split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def usable_memory(resident=0, meminfo="/proc/meminfo", proc_cgroup="/proc/self/cgroup",
                  cgroup_root="/sys/fs/cgroup"):
    """(bytes, what limits them) the job may use on this node, or (None, None) if unknown.

    `resident` is what the job's ranks on this node already hold: the estimate counts it
    (BASE_BYTES), MemAvailable does not, so it is added back there; a cgroup's limit
    already covers the job's own pages."""
    avail = mem_available(meminfo)
    if avail is not None:
        avail += resident
    limit = cgroup_limit(proc_cgroup, cgroup_root)
    if limit is not None and (avail is None or limit < avail):
        return limit, "the cgroup memory limit"
    if avail is not None:
        return avail, "MemAvailable"
    return None, None


def gib(x):
    return "%.2f GiB" % (x / 2.0 ** 30)


# --- GPU memory (--device gpu; graph500/device.py checks it against the GPU's free memory) ---

# Device bytes beyond the workspaces: the kernels' modules, counters, the allocator's rounding.
GPU_BASE_BYTES = 256 << 20


def gpu_rank_bytes(scale, edgefactor, nranks, kernels=("bfs", "sssp"), cuda_aware=False):
    """Peak device bytes of one rank: its graph's device copy and the GPU workspaces of the
    kernels it runs, summed (a kernel's workspace is made while the previous one is still
    held), plus GPU_BASE_BYTES. Imports the GPU modules: call it for --device gpu only."""
    from graph500.kernels.gpu_bfs import gpu_bfs_workspace_bytes
    from graph500.kernels.gpu_graph import gpu_graph_bytes
    from graph500.kernels.gpu_sssp import gpu_sssp_workspace_bytes
    args = (scale, edgefactor, nranks)
    total = GPU_BASE_BYTES + gpu_graph_bytes(*args, "sssp" in kernels)
    if "bfs" in kernels:
        total += gpu_bfs_workspace_bytes(*args, cuda_aware=cuda_aware)
    if "sssp" in kernels:
        total += gpu_sssp_workspace_bytes(*args, cuda_aware=cuda_aware)
    return total
