"""The rank's graph on its GPU (--device gpu), and which GPU a rank uses.

Each rank drives one GPU: its rank on the node modulo the GPUs it can see (CUDA_VISIBLE_DEVICES
narrows and renumbers them before this runs, as CUDA always does). The CSR of the rank's block
(kernels/graph.py) is copied to that GPU once, as the last step of Kernel 1 (timed there: the
searches need it in the device's memory, which is building the search structure); the host
copy stays for edge counts and validation. Nothing in the CPU path imports this module.
"""
import numpy as np
from numba import cuda, njit

from .exchange import alltoallv, starts
from .gpu_warp import SIM
from .partition import owner


def select_device(local_rank):
    """Bind this process to GPU local_rank mod the visible GPUs; returns what it bound to."""
    n = len(cuda.gpus)
    if n == 0:
        raise RuntimeError("no CUDA GPU is visible (check the driver and CUDA_VISIBLE_DEVICES)")
    index = local_rank % n
    cuda.select_device(index)
    if SIM:
        return {"index": index, "visible": n, "name": "Numba CUDA simulator",
                "compute_capability": None}
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return {"index": index, "visible": n, "name": name,
            "compute_capability": list(dev.compute_capability)}


class GPUGraph:
    """Device copies of rowptr (int64), col (int32 global ids) and weight (float32 or None)."""

    def __init__(self, graph):
        if graph.col.dtype != np.int32:
            raise ValueError("the GPU kernels need int32 vertex ids (SCALE <= 31)")
        self.part = graph.part
        self.rowptr = cuda.to_device(np.ascontiguousarray(graph.rowptr, dtype=np.int64))
        # A device array cannot be empty in every Numba version: keep one dummy entry.
        self.col = cuda.to_device(graph.col if len(graph.col) else np.zeros(1, np.int32))
        self.weight = None
        if graph.weight is not None:
            self.weight = cuda.to_device(graph.weight if len(graph.weight)
                                         else np.zeros(1, np.float32))
        self.nentries = int(graph.rowptr[-1])
        self.maxdeg = int(np.diff(graph.rowptr).max()) if graph.part.nlocal else 0
        cuda.synchronize()


def free_memory():
    """(free, total) bytes of the current GPU; the simulator says (inf, inf)."""
    free, total = cuda.current_context().get_memory_info()
    return free, total


def on_device(graph):
    """The graph's device copy, made on first use (the driver makes it inside Kernel 1;
    the warm-up's tiny graph gets its own here). Kept on the DistGraph itself so that it
    lives and dies with the graph."""
    g = getattr(graph, "gpu", None)
    if g is None:
        g = GPUGraph(graph)
        graph.gpu = g
    return g


# ---------------------------------------------------------------- host side, shared by BFS and SSSP

@njit(cache=True, nogil=True)
def group_records(rec, n, stride, nranks, scale, shift, counts, out):
    """Group n records of `stride` words by the owner of their first word (the target vertex):
    count, prefix sum, fill, as the host-staged exchange sends them."""
    counts[:] = 0
    for t in range(n):
        counts[owner(rec[stride * t], nranks, scale, shift)] += 1
    pos = starts(counts)
    for t in range(n):
        d = owner(rec[stride * t], nranks, scale, shift)
        p = pos[d]
        for j in range(stride):
            out[stride * p + j] = rec[stride * t + j]
        pos[d] = p + 1


def host_buffer(n, dtype):
    """Page-locked host memory for device copies, plain memory where there is none."""
    try:
        return cuda.pinned_array(n, dtype=dtype)
    except Exception:  # the simulator has no page-locked memory
        return np.empty(n, dtype=dtype)


def host_staged_exchange(ws, records, n, stride, what):
    """Send the n records of `stride` int32 words that `records` holds on the device to the
    owners of their first word, through the host (one Alltoallv); what arrives lands in
    ws.recv on the device (grown as needed). Returns how many records arrived here. `ws` is
    a GPU workspace: part, comm, cap, limit, sendbuf, rcounts, recvbuf, recv."""
    if n > ws.cap:   # cannot happen: the kernels write at most cap records
        raise RuntimeError("%s: %d records overflowed %d slots" % (what, n, ws.cap))
    h = np.empty(stride * n, dtype=np.int32)
    if n:
        records[:stride * n].copy_to_host(h)
    if len(ws.sendbuf) < stride * n:
        ws.sendbuf = np.empty(stride * n, dtype=np.int32)
    part = ws.part
    group_records(h, n, stride, part.nranks, part.scale, part.shift, ws.rcounts, ws.sendbuf)
    ws.recvbuf, rc = alltoallv(ws.comm, ws.sendbuf, stride * ws.rcounts, ws.recvbuf)
    m = int(rc.sum())
    if m > ws.recv.size:
        ws.recv = cuda.device_array(max(m, min(2 * ws.recv.size, stride * ws.limit)),
                                    dtype=np.int32)
    if m:
        ws.recv[:m].copy_to_device(ws.recvbuf[:m])
    return m // stride


# --- memory estimate (graph500/memory.py's gpu_rank_bytes) ---

def gpu_graph_bytes(scale, edgefactor, nranks, weights):
    """Device bytes of GPUGraph: rowptr (int64), col (int32) and weight (float32)."""
    from .construct import expected_entries, max_block_vertices
    return (8 * (max_block_vertices(scale, nranks) + 1)
            + expected_entries(scale, edgefactor, nranks) * (4 + (4 if weights else 0)))
