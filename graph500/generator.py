"""The reference's Kronecker edge generator, bit for bit (spec section 2).

Edge ei is a pure function of (seeds, SCALE, ei): its draws come from the seeded MRG state
advanced by ei * 2^64 steps. Any split of [0, M) over ranks, chunks or threads therefore
yields the same edges. A full 192-bit skip per edge would dominate the cost, so each chunk
jumps once to its first edge (binary powers of J = A^(2^64)) and then walks edge to edge
with one mat-vec by J.
"""
import numpy as np
from numba import njit, prange

from graph500.kernels.graph import vertex_dtype

from . import prng
from .prng import (canonical, jump, matvec_mod, mrg_step_lazy, seed_state, skip_state,
                   to_tuple, uniform_float)

# Kronecker initiator A, B = C, D = 0.57, 0.19, 0.19, 0.05 in units of 1/10000. Draws below
# LIMIT = (2^31 - 1) mod 10000 are redrawn so that `val % 10000` is unbiased.
_LIMIT = np.uint64((2**31 - 1) % 10000)
_TENK = np.uint64(10000)
_Q1 = np.uint64(1900)         # A..D order in the reference: B, then C, then A, then D
_Q2 = np.uint64(1900 + 1900)
_Q3 = np.uint64(1900 + 1900 + 5700)

_SCR0 = np.uint64(0x4519840211493211)
_SCR1 = np.uint64(0x3050852102C843A5)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_M8 = np.uint64(0x00FF00FF00FF00FF)
_M16 = np.uint64(0x0000FFFF0000FFFF)
_U64 = np.uint64

# Edges per parallel task: large enough that the <= 64 mat-vecs of the initial jump vanish,
# small enough to balance threads on modest ranges.
_CHUNK = 1 << 14


def scramble_constants(seed1, seed2):
    """(val0, val1) as Python ints: four uints after skip(50, 7, 0), combined in uint64."""
    st = skip_state(seed_state(seed1, seed2), 50, 7, 0)
    (a, b, c, d), _ = prng.py_uints(st, 4)
    mask = (1 << 64) - 1
    return (a * 0xFFFFFFFF + b) & mask, (c * 0xFFFFFFFF + d) & mask


@njit(cache=True, nogil=True)
def bitreverse64(v):
    v = ((v >> _U64(1)) & _M1) | ((v & _M1) << _U64(1))
    v = ((v >> _U64(2)) & _M2) | ((v & _M2) << _U64(2))
    v = ((v >> _U64(4)) & _M4) | ((v & _M4) << _U64(4))
    v = ((v >> _U64(8)) & _M8) | ((v & _M8) << _U64(8))
    v = ((v >> _U64(16)) & _M16) | ((v & _M16) << _U64(16))
    return (v >> _U64(32)) | (v << _U64(32))


@njit(cache=True, nogil=True)
def scramble(v, scale, val0, val1):
    """The reference's vertex relabelling, a bijection on [0, 2^scale); uint64 wrap-around."""
    val0 = _U64(val0)
    val1 = _U64(val1)
    shift = _U64(64 - scale)
    x = _U64(v)
    x += val0 + val1
    x *= val0 | _SCR0
    x = bitreverse64(x) >> shift
    x *= val1 | _SCR1
    x = bitreverse64(x) >> shift
    return x


@njit(cache=True, nogil=True)
def _draw_10000(s):
    """One unbiased draw in [0, 10000) (the reference's rejection loop), and the new state."""
    s = mrg_step_lazy(s)
    val = canonical(s[0])
    while val < _LIMIT:  # probability ~2e-6
        s = mrg_step_lazy(s)
        val = canonical(s[0])
    return val % _TENK, s


@njit(cache=True, nogil=True)
def _edge_range(scale, seeded, powers, e0, e1, val0, val1, src, dst, w, weights, off):
    """Edges [e0, e1) into src/dst/w[off:]: jump once, then step by J = powers[0]."""
    base = jump(powers, e0, seeded)
    for e in range(e0, e1):
        if e > e0:
            base = matvec_mod(powers[0], base)
        s = base
        nverts = np.int64(1) << scale
        bsrc = np.int64(0)
        btgt = np.int64(0)
        while nverts > 1:
            val, s = _draw_10000(s)
            # Quadrant 1 (val < 1900): (0, 1); 2 (< 3800): (1, 0); 0 (< 9500): (0, 0);
            # 3: (1, 1). Written as bit logic: the quadrant is random, so branches on it
            # would mispredict about once per level.
            q3 = np.int64(val >= _Q3)
            so = (np.int64(val >= _Q1) & np.int64(val < _Q2)) | q3
            to = np.int64(val < _Q1) | q3
            # Clip-and-flip: on the diagonal, (1, 0) becomes (0, 1), keeping the tuple in
            # the upper triangle level by level.
            flip = np.int64(bsrc == btgt) & so & (to ^ 1)
            so ^= flip
            to |= flip
            nverts >>= 1
            bsrc += nverts * so
            btgt += nverts * to
        i = off + (e - e0)
        src[i] = scramble(bsrc, scale, val0, val1)
        dst[i] = scramble(btgt, scale, val0, val1)
        if weights:
            w[i], s = uniform_float(s)


@njit(cache=True, nogil=True, parallel=True)
def _generate(scale, seeded_arr, powers, start, stop, val0, val1, src, dst, w, weights, chunk):
    seeded = to_tuple(seeded_arr)
    nchunks = (stop - start + chunk - 1) // chunk
    for c in prange(nchunks):
        e0 = start + c * chunk
        e1 = min(e0 + chunk, stop)
        _edge_range(scale, seeded, powers, e0, e1, val0, val1, src, dst, w, weights, e0 - start)


def generate_edges(scale, edgefactor, seed1, seed2, start, stop, weights=False):
    """Edges with global indices [start, stop) of the M = edgefactor * 2^scale edge list.

    Returns (src, dst, w): vertex ids of `graph500.kernels.graph.vertex_dtype(scale)`, w float32 or
    None. Self-loops and duplicates are kept, as the benchmark requires.
    """
    scale = int(scale)
    nedge = int(edgefactor) << scale
    start, stop = int(start), int(stop)
    if not (1 <= scale <= 62):
        raise ValueError("scale out of range")
    if not (0 <= start <= stop <= nedge):
        raise ValueError(f"edge range [{start}, {stop}) outside [0, {nedge})")
    n = stop - start
    vdt = vertex_dtype(scale)
    src = np.empty(n, dtype=vdt)
    dst = np.empty(n, dtype=vdt)
    w = np.empty(n if weights else 0, dtype=np.float32)
    if n:
        val0, val1 = scramble_constants(seed1, seed2)
        seeded = prng.state_array(seed_state(seed1, seed2))
        _generate(np.int64(scale), seeded, prng.EDGE_JUMP_POWERS, np.int64(start),
                  np.int64(stop), np.uint64(val0), np.uint64(val1), src, dst, w,
                  bool(weights), np.int64(_CHUNK))
    return src, dst, (w if weights else None)
