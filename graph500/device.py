"""Which processor runs the searches: --device cpu (default) or --device gpu.

The driver asks this module for three things and nothing else: `open_device` (once, on every
rank, before the warm-up), `Device.load(graph)` (the last step of Kernel 1, inside its timer:
the GPU copy of the rank's CSR) and `Device.kernel_class(name, cpu_classes)` (the search
kernel behind the driver's small interface: prepare, search, parent/dist, nedge, validate).
With cpu every call is a no-op or returns the driver's own classes, and nothing imports CUDA:
Numba CUDA (the `gpu` extra) is imported only here, and only for --device gpu.

GPU kernels keep their outputs on the device; `parent` and `dist` are properties that copy
them back on first use after a search, i.e. after the driver's timer stopped (edge count,
validation and the fault-injection hook all read them there). Validation is the host's, the
same validators as for the CPU kernels.
"""
from mpi4py import MPI

from .cli import UsageError

DEVICES = ("cpu", "gpu")


class CPUDevice:
    name = "cpu"

    def load(self, graph):
        pass

    def kernel_class(self, name, cpu_classes):
        return cpu_classes[name]

    def record(self, comm):
        return {"device": "cpu"}


def open_device(name, comm, local):
    """Collective: the device every rank searches on. For gpu, each rank binds to its local
    rank modulo the GPUs it sees; a rank that cannot (no numba-cuda, no GPU) makes every rank
    raise the same UsageError, so none is left waiting."""
    if name != "gpu":
        return CPUDevice()
    info, problem = None, None
    try:
        from graph500.kernels.gpu_graph import select_device
    except ImportError as e:
        problem = ("--device gpu needs Numba CUDA: pip install -e .[gpu] (%s)" % e)
    else:
        try:
            info = select_device(local.Get_rank())
        except Exception as e:  # noqa: BLE001 - any driver failure becomes one clear line
            problem = "--device gpu: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__)
    problems = comm.allgather(problem)
    for r, p in enumerate(problems):
        if p:
            raise UsageError("rank %d: %s" % (r, p) if comm.Get_size() > 1 else p)
    return GPUDevice(info)


class GPUDevice:
    name = "gpu"

    def __init__(self, info):
        self.info = info

    def load(self, graph):
        from graph500.kernels.gpu_graph import on_device
        on_device(graph)

    def kernel_class(self, name, cpu_classes):
        return {"bfs": GPUBFSKernel, "sssp": GPUSSSPKernel}[name]

    def record(self, comm):
        """JSON: the device and, per rank in rank order, the GPU it searched on."""
        gpus = comm.allgather(dict(self.info, rank=comm.Get_rank(),
                                   host=MPI.Get_processor_name()))
        return {"device": "gpu", "gpus": gpus}


class _GPUKernel:
    """What the GPU search kernels share: output copied back lazily, host-side checks."""

    def __init__(self, comm, graph):
        self.comm, self.graph = comm, graph
        self._fresh = False

    def prepare(self):
        self.ws.reset()
        self._fresh = False

    def search(self, root):
        self._search(root)
        self._fresh = True   # the device holds a new result; copy it back when asked

    def nedge(self):
        from graph500.kernels.teps import edge_count
        return edge_count(self.comm, self.graph, self.parent)


class GPUBFSKernel(_GPUKernel):
    name = "bfs"

    def __init__(self, comm, graph, args):
        from graph500.kernels.gpu_bfs import GPUBFSWorkspace
        super().__init__(comm, graph)
        self.ws = GPUBFSWorkspace(graph, comm)
        self._parent = None

    def _search(self, root):
        from graph500.kernels.gpu_bfs import bfs
        bfs(self.ws, root)

    @property
    def parent(self):
        if self._fresh:
            self._parent = self.ws.parent_host()
            self._fresh = False
        return self._parent

    def validate(self, root, nedge):
        from .validate import verdict
        return verdict(self.comm, self.graph, root, self.parent, nedge)


class GPUSSSPKernel(_GPUKernel):
    name = "sssp"

    def __init__(self, comm, graph, args):
        from graph500.kernels.gpu_sssp import DEFAULT_DELTA, GPUSSSPWorkspace
        super().__init__(comm, graph)
        self.delta = args.delta if args.delta is not None else DEFAULT_DELTA
        self.ws = GPUSSSPWorkspace(graph, comm, self.delta)
        self._dist = self._parent = None

    def _search(self, root):
        from graph500.kernels.gpu_sssp import sssp
        sssp(self.ws, root)

    def _fetch(self):
        if self._fresh:
            self._dist, self._parent = self.ws.result_host()
            self._fresh = False

    @property
    def parent(self):
        self._fetch()
        return self._parent

    @property
    def dist(self):
        self._fetch()
        return self._dist

    def validate(self, root, nedge):
        from .validate_sssp import verdict
        return verdict(self.comm, self.graph, root, self.dist, self.parent, nedge)
