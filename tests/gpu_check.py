"""GPU kernels against the CPU kernels, run the same way on one rank or under mpiexec:
`NUMBA_ENABLE_CUDASIM=1 python tests/gpu_check.py SCALE NROOTS OUT.json` (tests/test_gpu.py).

For each root: BFS depths (from the parent trees) and SSSP distances of the GPU kernels equal
the CPU kernels' exactly, the edge counts agree, and the GPU outputs pass the validators.
The exchanges take the path kernels/gpu_mpi.py chooses (GRAPH500_CUDA_AWARE=1 forces device
buffers). Rank 0 writes what it found to OUT.json.

`python tests/gpu_check.py fake-free BYTES -- GRAPH500 ARGS` runs the benchmark's command line
with the GPU's free memory faked to BYTES (the memory check before the run).
"""
import json
import os
import sys

import numpy as np
from mpi4py import MPI
from numba import cuda

from graph500.driver import _has_edge
from graph500.generator import generate_edges
from graph500.roots import choose_roots
from graph500.validate import validate_bfs
from graph500.validate_sssp import validate_sssp
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.construct import construct_graph
from graph500.kernels.gpu_bfs import GPUBFSWorkspace, bfs as gpu_bfs, gpu_bfs_workspace_bytes
from graph500.kernels import gpu_graph
from graph500.kernels.gpu_graph import gpu_graph_bytes, select_device
from graph500.kernels.gpu_mpi import cuda_aware_choice
from graph500.kernels.gpu_sssp import GPUSSSPWorkspace, gpu_sssp_workspace_bytes, \
    sssp as gpu_sssp
from graph500.kernels.sssp import SSSPWorkspace, sssp
from graph500.kernels.teps import edge_count


def gather(comm, part, a):
    parts = comm.allgather(np.asarray(a))
    return np.concatenate(parts) if parts else a


def depth(parent_all, root):
    n = len(parent_all)
    d = np.full(n, -1, dtype=np.int64)
    d[root] = 0
    level = 0
    while True:
        nxt = (d == -1) & (parent_all >= 0)
        nxt &= d[np.clip(parent_all, 0, n - 1)] == level
        if not nxt.any():
            return d
        d[nxt] = level + 1
        level += 1


def device_bytes(obj):
    """Bytes of the device arrays an object holds (attributes, lists of them, its exchange)."""
    total = 0
    for v in vars(obj).values():
        for a in (v if isinstance(v, list) else [v]):
            if type(a).__name__ in ("DeviceNDArray", "FakeCUDAArray"):
                total += a.nbytes
        if type(v).__name__ == "DeviceExchange":
            total += device_bytes(v)
    return total


def main(scale, nroots, out, delta=0.1):
    comm = MPI.COMM_WORLD
    r, p = comm.Get_rank(), comm.Get_size()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    gpu = select_device(local.Get_rank())
    mpi = cuda_aware_choice()
    ca = mpi["cuda_aware"]
    m = 16 << scale
    src, dst, w = generate_edges(scale, 16, 2, 3, r * m // p, (r + 1) * m // p, weights=True)
    g = construct_graph(comm, scale, src, dst, w)
    roots = choose_roots(scale, nroots, 2, 3, _has_edge(comm, g))
    report = {"ranks": p, "gpu": gpu, "roots": [int(x) for x in roots], "bfs": [], "sssp": [],
              "mpi": mpi}

    # Degree bins lowered so that a tiny graph reaches all three (thread, warp, block), and
    # the direction switch as usual, never (top-down only), and at every chance (bottom-up
    # at once, back to top-down whenever the frontier shrinks: both conversions, often).
    cpu_ws = BFSWorkspace(g, comm)
    variants = [GPUBFSWorkspace(g, comm, small=16, large=48, cuda_aware=ca),
                GPUBFSWorkspace(g, comm, small=16, large=48, alpha=1e-12, cuda_aware=ca),
                GPUBFSWorkspace(g, comm, alpha=1e12, beta=1.0, cuda_aware=ca)]
    report["device_exchange"] = [ws.dx is not None for ws in variants]
    steps = set()
    cs_ws = SSSPWorkspace(g, comm, delta=delta)
    gs_ws = GPUSSSPWorkspace(g, comm, delta, cuda_aware=ca)
    report["device_exchange"].append(gs_ws.dx is not None)
    trace = os.environ.get("GPU_CHECK_TRACE")
    for root in list(roots) + [0]:   # vertex 0 too: the driver's warm-up root, maybe isolated
        root = int(root)
        if trace:
            sys.stderr.write("rank %d root %d\n" % (r, root))
        cpu_ws.reset()
        cp = bfs(cpu_ws, root).copy()
        for gpu_ws in variants:
            gpu_ws.reset()
            gpu_bfs(gpu_ws, root)
            gp = gpu_ws.parent_host().copy()
            steps.update(gpu_ws.steps)
            mc, mg = edge_count(comm, g, cp), edge_count(comm, g, gp)
            fail, _ = validate_bfs(comm, g, root, gp, mg)
            cpa, gpa = gather(comm, g.part, cp), gather(comm, g.part, gp)
            same = bool(np.array_equal(depth(cpa, root), depth(gpa, root)))
            report["bfs"].append({"root": root, "same_depths": same, "nedge_cpu": mc,
                                  "nedge_gpu": mg, "valid": fail is None,
                                  "failure": fail.message() if fail else None,
                                  "reached": int((gpa >= 0).sum()), "steps": gpu_ws.steps})

        cs_ws.reset()
        cd, cpar = (a.copy() for a in sssp(cs_ws, root))
        gs_ws.reset()
        gpu_sssp(gs_ws, root)
        gd, gpar = (a.copy() for a in gs_ws.result_host())
        mc, mg = edge_count(comm, g, cpar), edge_count(comm, g, gpar)
        ok, msg, _ = validate_sssp(comm, g, root, gd, gpar, mg)
        cda, gda = gather(comm, g.part, cd), gather(comm, g.part, gd)
        report["sssp"].append({"root": root, "same_dist": bool(np.array_equal(cda, gda)),
                               "nedge_cpu": mc, "nedge_gpu": mg, "valid": bool(ok),
                               "failure": None if ok else msg,
                               "reached": int(np.isfinite(gda).sum())})
    report["steps"] = sorted(set().union(*comm.allgather(steps)))
    # What the workspaces hold now (grown by the searches) against graph500/memory.py's
    # estimate, summed over ranks (the estimate assumes rows spread evenly).
    held = {"graph": device_bytes(g.gpu), "bfs": max(device_bytes(ws) for ws in variants),
            "sssp": device_bytes(gs_ws)}
    report["device_bytes"] = {k: comm.allreduce(v) for k, v in held.items()}
    report["estimate_bytes"] = {
        "graph": p * gpu_graph_bytes(scale, 16, p, True),
        "bfs": p * gpu_bfs_workspace_bytes(scale, 16, p, cuda_aware=ca),
        "sssp": p * gpu_sssp_workspace_bytes(scale, 16, p, cuda_aware=ca)}
    if r == 0:
        with open(out, "w") as f:
            json.dump(report, f)
    if trace:
        sys.stderr.write("rank %d done\n" % r)


def fake_free(nbytes, argv):
    """The benchmark's CLI with the GPU's free memory faked (the simulator has no limit)."""
    from graph500.cli import main as cli_main
    gpu_graph.free_memory = lambda: (nbytes, nbytes)
    cli_main(argv)


if __name__ == "__main__":
    if sys.argv[1] == "fake-free":
        fake_free(int(sys.argv[2]), sys.argv[sys.argv.index("--") + 1:])
    else:
        main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
