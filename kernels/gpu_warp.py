"""Warp-level building blocks of the GPU kernels (Numba CUDA), with their simulator stand-ins.

Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1, how CI runs the GPU path without a GPU) runs
each thread as a Python thread and has no warp intrinsics (activemask, ballot, shuffles). So
each primitive here has two bodies: the warp-level one, which runs on a GPU and is what the PTX
tests compile, and a per-thread one with the same result, which the simulator runs. The
kernels call only these names, so the algorithm the simulator checks is the one the GPU runs;
only the aggregation of atomics differs.

  agg_inc(cnt, slot)      reserve one position of counter cnt[slot] for the calling thread:
                          one atomic per group of lanes that call it together (warp-aggregated
                          atomics), each lane gets base + its rank in the group;
  warp_bits(found, ...)   store the 32 lanes' flags as one uint32 word (lane i -> bit i);
  warp_count(cnt, s, x)   add the 32 lanes' x to cnt[s] with one atomic;
  f32_bits / bits_f32     a float32's bit pattern as an int32 and back (libdevice).
The last two are called by every lane of the warp (converged code: no early return before).
Device arrays are numbered in 32-bit words on the GPU (bit i & 31 of word i >> 5): the host's
64-bit bitmaps have the same layout on a little-endian host, so one buffer serves both.
"""
import os

import numpy as np
from numba import cuda

# Numba decides at its first import; the variable is read the same way here.
SIM = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"

FULL = np.uint32(0xFFFFFFFF)
ONE32 = np.uint32(1)
WARP = 32
# Threads per block of every kernel: 8 warps, enough to hide latency, small enough that the
# block-per-vertex kernels do not leave most of a block idle on a row of ~1000 entries.
TPB = 256
if SIM:
    # The simulator starts one Python thread per GPU thread of a block: one warp per block
    # keeps the tests fast, and the stand-ins above need no particular block size.
    TPB = WARP


if SIM:
    @cuda.jit(device=True)
    def agg_inc(cnt, slot):
        return cuda.atomic.add(cnt, slot, 1)

    @cuda.jit(device=True)
    def warp_bits(found, bits, word, lane, nwords):
        # Each lane ORs in its own bit (the host clears the words first, see needs_clear).
        if found and word < nwords:
            cuda.atomic.or_(bits, word, ONE32 << np.uint32(lane))

    @cuda.jit(device=True)
    def warp_count(cnt, slot, x):
        if x != 0:
            cuda.atomic.add(cnt, slot, x)
else:
    @cuda.jit(device=True, inline=True)
    def agg_inc(cnt, slot):
        active = cuda.activemask()
        lane = np.uint32(cuda.laneid)
        rank = cuda.popc(active & ((ONE32 << lane) - ONE32))
        low = active & (~active + ONE32)
        leader = cuda.popc(low - ONE32)
        base = np.int64(0)
        if rank == 0:
            base = cuda.atomic.add(cnt, slot, np.int64(cuda.popc(active)))
        base = cuda.shfl_sync(active, base, leader)
        return base + rank

    @cuda.jit(device=True, inline=True)
    def warp_bits(found, bits, word, lane, nwords):
        # Lane 0 writes the whole word: no atomics, and every word of the output is written,
        # so it needs no clearing.
        m = cuda.ballot_sync(FULL, found)
        if lane == 0 and word < nwords:
            bits[word] = m

    @cuda.jit(device=True, inline=True)
    def warp_count(cnt, slot, x):
        # Sum over the warp with shuffles, one atomic per warp.
        s = np.int64(x)
        off = 16
        while off > 0:
            s += cuda.shfl_down_sync(FULL, s, off)
            off >>= 1
        if cuda.laneid == 0 and s != 0:
            cuda.atomic.add(cnt, slot, s)

# float32 <-> its bit pattern (int32), for the SSSP kernel's packed (distance, parent) words.
if SIM:
    @cuda.jit(device=True)
    def f32_bits(x):
        return np.float32(x).view(np.int32)

    @cuda.jit(device=True)
    def bits_f32(b):
        return np.int32(b).view(np.float32)
else:
    from numba.cuda import libdevice

    @cuda.jit(device=True, inline=True)
    def f32_bits(x):
        return libdevice.float_as_int(x)

    @cuda.jit(device=True, inline=True)
    def bits_f32(b):
        return libdevice.int_as_float(b)

# warp_bits ORs into the words under the simulator: they must be cleared before each use.
needs_clear = SIM


@cuda.jit
def fill_i64(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


@cuda.jit
def fill_u64(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


@cuda.jit
def fill_u32(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


@cuda.jit
def fill_i32(a, value):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = value


def blocks(n, tpb=TPB):
    """Blocks to cover n threads (at least one: a launch of zero blocks is an error)."""
    return max(1, (int(n) + tpb - 1) // tpb)


def fill(kernel, a, value):
    kernel[blocks(a.size), TPB](a, value)
