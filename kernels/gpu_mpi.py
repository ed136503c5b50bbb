"""How the GPU kernels' exchanges reach MPI: device buffers handed to a CUDA-aware MPI library,
or staged through host memory (any MPI).

The choice is made once per rank when --device gpu opens (graph500/device.py), by
`cuda_aware_choice`:
  GRAPH500_CUDA_AWARE=1 / 0   the user's word (a library whose query is missing or wrong, e.g.
                              one that needs an environment variable of its own to enable GPU
                              buffers; or 0 to compare the paths);
  MPI.Query_cuda_support()    where mpi4py has it;
  MPIX_Query_cuda_support()   the library's own extension (Open MPI, MPICH >= 4), looked up in
                              the libmpi this process has loaded;
  otherwise host-staged.
The answer is the library's: a library built with CUDA support may still say 0 at run time
(no GPU, or support switched off), and then host staging is the right path anyway.

With a CUDA-aware library the records are grouped by owner on the GPU (`_owner_count`,
`_owner_scatter`) and one Alltoallv moves them device to device; the BFS frontier bitmap is
gathered in place on the device. mpi4py takes any object with `__cuda_array_interface__`,
which Numba's device arrays have. Numba's CUDA simulator's arrays have none: `mpi_view` gives
them one over their host memory, so the simulator runs this same path through mpi4py's
CUDA-array code (the library then reads host memory, which is what the pointer is there).
"""
import ctypes
import os
import re

import numpy as np
from mpi4py import MPI
from numba import cuda

from .gpu_warp import SIM, TPB, blocks
from .partition import owner

ENV = "GRAPH500_CUDA_AWARE"


# ---------------------------------------------------------------- the decision

def _loaded_libmpi(maps="/proc/self/maps"):
    """The MPI library this process has loaded (Linux), as a ctypes handle, or None."""
    try:
        with open(maps) as f:
            paths = sorted({line.split()[-1] for line in f
                            if re.search(r"/lib[^/]*mpi[^/]*\.so", line)})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)      # already loaded: the same handle, nothing new runs
        except OSError:
            continue
        if hasattr(lib, "MPI_Get_version"):
            return lib
    return None


def query_cuda_support(mpi=MPI, libmpi=_loaded_libmpi):
    """(True/False, how it was found out) from the MPI library itself. Call after MPI_Init."""
    q = getattr(mpi, "Query_cuda_support", None)
    if q is not None:
        return bool(q()), "MPI.Query_cuda_support()"
    lib = libmpi()
    if lib is None:
        return False, "the MPI library could not be queried (not found in this process)"
    f = getattr(lib, "MPIX_Query_cuda_support", None)
    if f is None:
        return False, "the MPI library has no MPIX_Query_cuda_support"
    f.argtypes, f.restype = [], ctypes.c_int
    return bool(f()), "MPIX_Query_cuda_support()"


def cuda_aware_choice(environ=os.environ, query=query_cuda_support):
    """{"cuda_aware": bool, "how": str}; ValueError for a bad GRAPH500_CUDA_AWARE."""
    value = environ.get(ENV, "").strip().lower()
    if value in ("1", "0"):
        return {"cuda_aware": value == "1", "how": "%s=%s" % (ENV, value)}
    if value not in ("", "auto"):
        raise ValueError("%s must be 0, 1 or auto, not %r" % (ENV, environ.get(ENV)))
    ok, how = query()
    return {"cuda_aware": bool(ok), "how": how}


# ---------------------------------------------------------------- device buffers for mpi4py

class _HostCAI:
    """The simulator's stand-in for a device array's __cuda_array_interface__: the same
    dictionary over the host memory the simulator keeps the array in."""

    def __init__(self, a):
        ai = a.__array_interface__
        self.__cuda_array_interface__ = {"data": ai["data"], "shape": ai["shape"],
                                         "typestr": ai["typestr"], "strides": None,
                                         "version": 3, "stream": None}


def mpi_view(a):
    """A device array (contiguous) as mpi4py takes it: itself on a GPU."""
    if SIM:
        h = a._ary
        if not h.flags.c_contiguous:   # a copy would not be the buffer MPI must fill
            raise ValueError("mpi_view needs a contiguous device array")
        return _HostCAI(h)
    return a


# ---------------------------------------------------------------- grouping by owner on the GPU

@cuda.jit
def _owner_count(rec, n, stride, nranks, scale, shift, counts):
    t = cuda.grid(1)
    if t < n:
        cuda.atomic.add(counts, owner(rec[stride * t], nranks, scale, shift), 1)


@cuda.jit
def _owner_scatter(rec, n, stride, nranks, scale, shift, cursor, out):
    """Each record to the next free slot of its owner's range (cursor starts at the ranges'
    starts). The order inside a range is the atomics' order: the receivers apply records
    with compare-and-swap, so any order gives a valid result."""
    t = cuda.grid(1)
    if t < n:
        d = owner(rec[stride * t], nranks, scale, shift)
        p = cuda.atomic.add(cursor, d, 1)
        for j in range(stride):
            out[stride * p + j] = rec[stride * t + j]


def kernel_signatures():
    """The kernels of this module with argument types, for the PTX tests."""
    from numba import types as t
    i32a, i64a = t.int32[::1], t.int64[::1]
    ints = (t.int64, t.int64, t.int64, t.int64, t.int64)
    return {"_owner_count": (_owner_count, (i32a,) + ints + (i64a,)),
            "_owner_scatter": (_owner_scatter, (i32a,) + ints + (i64a, i32a))}


class DeviceExchange:
    """The buffers of device-to-device exchanges for one workspace (allocated once)."""

    def __init__(self, part, comm, stride):
        self.part, self.comm, self.stride = part, comm, stride
        self.counts = cuda.to_device(np.zeros(part.nranks, dtype=np.int64))
        self.h_counts = np.zeros(part.nranks, dtype=np.int64)
        self.rcounts = np.zeros(part.nranks, dtype=np.int64)
        self.send = cuda.device_array(stride, dtype=np.int32)

    def compile(self, records):
        """Empty launches: compiled before any timed search."""
        p = self.part
        _owner_count[1, TPB](records, 0, self.stride, p.nranks, p.scale, p.shift, self.counts)
        _owner_scatter[1, TPB](records, 0, self.stride, p.nranks, p.scale, p.shift,
                               self.counts, self.send)

    def exchange(self, ws, records, n, limit):
        """Send the n records (`stride` int32 words each) on the device to the owners of
        their first word, device to device; they land in ws.recv (grown as needed, at most
        to max(what arrived, `limit` records)). Returns how many records arrived here."""
        p, s, comm = self.part, self.stride, self.comm
        self.counts.copy_to_device(np.zeros(p.nranks, dtype=np.int64))
        if n:
            _owner_count[blocks(n), TPB](records, n, s, p.nranks, p.scale, p.shift,
                                         self.counts)
        self.counts.copy_to_host(self.h_counts)
        comm.Alltoall(self.h_counts, self.rcounts)
        if self.send.size < s * n:
            self.send = cuda.device_array(s * max(n, min(2 * (self.send.size // s), limit)),
                                          dtype=np.int32)
        sdispl = np.zeros(p.nranks, dtype=np.int64)
        np.cumsum(self.h_counts[:-1], out=sdispl[1:])
        if n:
            self.counts.copy_to_device(sdispl)       # the cursors of the scatter
            _owner_scatter[blocks(n), TPB](records, n, s, p.nranks, p.scale, p.shift,
                                           self.counts, self.send)
        m = int(self.rcounts.sum())
        if m * s > ws.recv.size:
            ws.recv = cuda.device_array(s * max(m, min(2 * (ws.recv.size // s), limit)),
                                        dtype=np.int32)
        rdispl = np.zeros(p.nranks, dtype=np.int64)
        np.cumsum(self.rcounts[:-1], out=rdispl[1:])
        cuda.synchronize()   # the scatter's writes are complete before MPI reads the buffer
        comm.Alltoallv([mpi_view(self.send), (s * self.h_counts, s * sdispl), MPI.INT32_T],
                       [mpi_view(ws.recv), (s * self.rcounts, s * rdispl), MPI.INT32_T])
        return m


def allgather_words_in_place(comm, words, counts, displs):
    """Every rank's slice of the uint32 device array `words` (its own already in place at
    its displacement) to every rank, device to device."""
    cuda.synchronize()
    comm.Allgatherv(MPI.IN_PLACE, [mpi_view(words), (counts, displs), MPI.UINT32_T])


# ---------------------------------------------------------------- memory estimate

def exchange_bytes(nranks, stride, records):
    """Device bytes of DeviceExchange for `records` records at most: the grouped send
    buffer (the receive buffer is the workspace's, counted there) and the counts."""
    return 4 * stride * records + 8 * nranks
