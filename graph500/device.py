"""Which processor runs the searches: --device cpu (default) or --device gpu.

The driver asks this module for three things and nothing else: `open_device` (once, on every
rank, before the warm-up; for gpu it also picks the MPI path and checks the GPU's memory),
`Device.load(graph)` (the last step of Kernel 1, inside its timer: the GPU copy of the rank's
CSR) and `Device.kernel_class(name, cpu_classes)` (the search kernel behind the driver's small
interface: prepare, search, parent/dist, nedge, validate).
With cpu every call is a no-op or returns the driver's own classes, and nothing imports CUDA:
Numba CUDA (the `gpu` extra) is imported only here, and only for --device gpu.

GPU kernels keep their outputs on the device; `parent` and `dist` are properties that copy
them back on first use after a search, i.e. after the driver's timer stopped (edge count,
validation and the fault-injection hook all read them there). Validation is the host's, the
same validators as for the CPU kernels.
"""
from functools import partial

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


def open_device(name, comm, local, args=None):
    """Collective: the device every rank searches on. For gpu, each rank binds to its local
    rank modulo the GPUs it sees and finds out whether its MPI library takes device buffers
    (kernels/gpu_mpi.py); a rank that cannot bind (no numba-cuda, no GPU) makes every rank
    raise the same UsageError, so none is left waiting. With `args` (the driver's), the GPU
    workspaces of the run must fit in the GPU's free memory (check_gpu_memory)."""
    if name != "gpu":
        return CPUDevice()
    info, mpi, problem = None, None, None
    try:
        from graph500.kernels.gpu_graph import select_device
        from graph500.kernels.gpu_mpi import cuda_aware_choice
    except ImportError as e:
        problem = ("--device gpu needs Numba CUDA: pip install -e .[gpu] (%s)" % e)
    else:
        try:
            info = select_device(local.Get_rank())
            mpi = cuda_aware_choice()
        except Exception as e:  # noqa: BLE001 - any driver failure becomes one clear line
            problem = "--device gpu: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__)
    _one_verdict(comm, problem)
    dev = GPUDevice(info, mpi, comm.Get_size())
    if args is not None:
        check_gpu_memory(comm, local, args, dev)
    return dev


def _one_verdict(comm, problem):
    """Every rank raises the first rank's problem, or none does."""
    problems = comm.allgather(problem)
    for r, p in enumerate(problems):
        if p:
            raise UsageError("rank %d: %s" % (r, p) if comm.Get_size() > 1 else p)


def gpu_memory_problem(need, sharing, free, info, scale):
    """The one-line refusal when `sharing` ranks of `need` bytes each do not fit in the GPU's
    `free` bytes, else None."""
    from .memory import gib
    if sharing * need <= free:
        return None
    return ("--device gpu: SCALE %d needs about %s of GPU memory (%d rank%s x %s), but GPU %s "
            "(%s) has only %s free; use more GPUs or a smaller SCALE"
            % (scale, gib(sharing * need), sharing, "s" if sharing > 1 else "", gib(need),
               info.get("index"), info.get("name"), gib(free)))


def check_gpu_memory(comm, local, args, dev):
    """Collective, before the warm-up: the device bytes the GPU modules say a rank needs
    (graph500/memory.py's gpu_rank_bytes), times the ranks of this node bound to the same
    GPU, against the GPU's free memory; any rank short makes every rank raise UsageError."""
    from graph500.kernels.gpu_graph import free_memory
    from .memory import gpu_rank_bytes
    need = gpu_rank_bytes(args.scale, args.edgefactor, comm.Get_size(), tuple(args.kernels),
                          cuda_aware=dev.cuda_aware)
    sharing = local.allgather(dev.info["index"]).count(dev.info["index"])
    note = None
    try:
        free, total = free_memory()
    except Exception as e:  # noqa: BLE001 - a driver that cannot say: no check, and said so
        free = total = float("inf")
        note = "free memory not read: %s" % (str(e).splitlines() or [type(e).__name__])[0]
    dev.memory = {"need_bytes": int(need), "ranks_on_gpu": sharing,
                  "free_bytes": None if free == float("inf") else int(free),
                  "total_bytes": None if total == float("inf") else int(total)}
    if note:
        dev.memory["note"] = note
    _one_verdict(comm, gpu_memory_problem(need, sharing, free, dev.info, args.scale))


class GPUDevice:
    name = "gpu"

    def __init__(self, info, mpi=None, nranks=1):
        self.info = info
        # kernels/gpu_mpi.py's choice: device buffers to MPI, or staged through the host.
        self.mpi = mpi or {"cuda_aware": False, "how": "not queried"}
        self.cuda_aware = bool(self.mpi["cuda_aware"])
        self.nranks = nranks
        self.memory = None

    def load(self, graph):
        from graph500.kernels.gpu_graph import on_device
        on_device(graph)

    def kernel_class(self, name, cpu_classes):
        kernel = {"bfs": GPUBFSKernel, "sssp": GPUSSSPKernel}[name]
        return partial(kernel, cuda_aware=self.cuda_aware)

    def mpi_path(self):
        """Which path this rank's exchanges took."""
        if self.nranks == 1:
            return "none (one rank)"
        return "cuda-aware" if self.cuda_aware else "host-staged"

    def record(self, comm):
        """JSON: the device and, per rank in rank order, the GPU it searched on, the MPI path
        of its exchanges (and why), and its GPU memory estimate against the free memory."""
        mine = dict(self.info, rank=comm.Get_rank(), host=MPI.Get_processor_name(),
                    mpi_path=self.mpi_path(), cuda_aware_mpi=dict(self.mpi))
        if self.memory is not None:
            mine["memory"] = self.memory
        return {"device": "gpu", "gpus": comm.allgather(mine)}


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

    def __init__(self, comm, graph, args, cuda_aware=False):
        from graph500.kernels.gpu_bfs import GPUBFSWorkspace
        super().__init__(comm, graph)
        self.ws = GPUBFSWorkspace(graph, comm, cuda_aware=cuda_aware)
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

    def __init__(self, comm, graph, args, cuda_aware=False):
        from graph500.kernels.gpu_sssp import DEFAULT_DELTA, GPUSSSPWorkspace
        super().__init__(comm, graph)
        self.delta = args.delta if args.delta is not None else DEFAULT_DELTA
        self.ws = GPUSSSPWorkspace(graph, comm, self.delta, cuda_aware=cuda_aware)
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
