"""The reference's PRNG: the MRG5 generator of L'Ecuyer, Blouin and Couture, with jump-ahead.

State (z1..z5), modulus p = 2^31 - 1, one step: new = (107374182*z1 + 104480*z5) mod p, then
shift; the output is the new z1 (spec section 2). Because a step is linear mod p, advancing n
steps is multiplying the state by A^n for the 5x5 step matrix A. The generator gives every edge
its own stream at offset ei * 2^64, so jumps are what make the graph independent of how the
edge range is split.

Two layers:
- pure Python with exact ints, for set-up work done once (seeding, constants, skip matrices);
- Numba helpers on a state kept as a 5-tuple of uint64 (immutable, so LLVM keeps it in
  registers once the helpers are inlined into a hot loop).
"""
from functools import lru_cache

import numpy as np
from numba import njit

P = 2**31 - 1
A1 = 107374182
A5 = 104480

# uint64 constants: in Numba, mixing an int64 literal with uint64 would promote to float64.
_P = np.uint64(P)
_A1 = np.uint64(A1)
_A5 = np.uint64(A5)
_D1 = 0.000000000465661287524579692      # ~ p^-1, the reference's literal
_D2 = 0.0000000000000000002168404346990492787  # ~ p^-2

# ----------------------------------------------------------------------------------------
# Exact Python-int layer
# ----------------------------------------------------------------------------------------
STEP_MATRIX = (
    (A1, 0, 0, 0, A5),
    (1, 0, 0, 0, 0),
    (0, 1, 0, 0, 0),
    (0, 0, 1, 0, 0),
    (0, 0, 0, 1, 0),
)
_IDENTITY = tuple(tuple(int(i == j) for j in range(5)) for i in range(5))


def matmul(x, y):
    """5x5 product mod p of two matrices given as nested sequences of ints."""
    return tuple(
        tuple(sum(int(x[i][k]) * int(y[k][j]) for k in range(5)) % P for j in range(5))
        for i in range(5)
    )


def matvec(m, z):
    return tuple(sum(int(m[i][k]) * int(z[k]) for k in range(5)) % P for i in range(5))


def _binary_powers(n):
    """A^(2^k) for k < n: any exponent below 2^n is then a product of at most n of these."""
    out = [STEP_MATRIX]
    for _ in range(n - 1):
        out.append(matmul(out[-1], out[-1]))
    return tuple(out)


# skip() exponents are hi*2^128 + mid*2^64 + lo with 64-bit parts: 192 bits in all.
_POW2 = _binary_powers(192)


@lru_cache(maxsize=64)
def skip_matrix(hi, mid, lo):
    """A^(hi*2^128 + mid*2^64 + lo) mod p, as a tuple of tuples of Python ints."""
    n = (int(hi) << 128) + (int(mid) << 64) + int(lo)
    if n < 0 or n >= 1 << 192:
        raise ValueError("skip exponent out of range")
    m = _IDENTITY
    k = 0
    while n:
        if n & 1:
            m = matmul(_POW2[k], m)
        n >>= 1
        k += 1
    return m


def seed_state(s1, s2):
    """The reference's seeding from two 64-bit seeds; (2, 3) gives (3, 1, 4, 1, 1)."""
    s1 = int(s1) & 0xFFFFFFFFFFFFFFFF
    s2 = int(s2) & 0xFFFFFFFFFFFFFFFF
    return (
        (s1 & 0x3FFFFFFF) + 1,
        ((s1 >> 30) & 0x3FFFFFFF) + 1,
        (s2 & 0x3FFFFFFF) + 1,
        ((s2 >> 30) & 0x3FFFFFFF) + 1,
        ((s2 >> 60) << 4) + (s1 >> 60) + 1,
    )


def skip_state(state, hi, mid, lo):
    return matvec(skip_matrix(hi, mid, lo), state)


def py_uints(state, count):
    """`count` consecutive outputs from `state` (slow; for set-up and cross-checks)."""
    z1, z2, z3, z4, z5 = state
    out = []
    for _ in range(count):
        new = (A1 * z1 + A5 * z5) % P
        z1, z2, z3, z4, z5 = new, z1, z2, z3, z4
        out.append(new)
    return out, (z1, z2, z3, z4, z5)


def state_array(state):
    return np.array(state, dtype=np.uint64)


def jump_powers(stride_log2, count=64):
    """uint64 array (count, 5, 5) of A^(2^(stride_log2 + k)): jump by any multiple of
    2^stride_log2 below 2^(stride_log2 + count) with at most `count` mat-vecs."""
    return np.array(_POW2[stride_log2:stride_log2 + count], dtype=np.uint64)


# A^(2^64 * 2^k): per-edge streams are 2^64 steps apart.
EDGE_JUMP_POWERS = jump_powers(64)

# ----------------------------------------------------------------------------------------
# Numba layer. State: UniTuple(uint64, 5) = (z1, z2, z3, z4, z5), every value < p.
# ----------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def mod_p(x):
    """x mod p for uint64 x < 2^62: 2^31 = 1 (mod p), so fold the high bits onto the low."""
    x = (x & _P) + (x >> np.uint64(31))
    x = (x & _P) + (x >> np.uint64(31))
    if x >= _P:
        x -= _P
    return x


@njit(cache=True, nogil=True)
def mrg_step(s):
    # Inputs below 2^32 (reduced, or lazily folded as below): A1*z1 + A5*z5 < 2^60, so the
    # sum cannot overflow before the reduction.
    new = mod_p(_A1 * s[0] + _A5 * s[4])
    return (new, s[0], s[1], s[2], s[3])


@njit(cache=True, nogil=True)
def mrg_step_lazy(s):
    """mrg_step with the new value folded once only: congruent mod p and < 2^31 + 2^28,
    which keeps the next product below 2^59. Shortens the serial dependency chain of a
    stream walk; read outputs through `canonical`. Fully reduced inputs stay fully valid."""
    x = _A1 * s[0] + _A5 * s[4]
    return ((x & _P) + (x >> np.uint64(31)), s[0], s[1], s[2], s[3])


@njit(cache=True, nogil=True)
def canonical(x):
    """The true output (in [0, p)) of a lazily folded value x < 2^32."""
    x = (x & _P) + (x >> np.uint64(31))
    if x >= _P:
        x -= _P
    return x


@njit(cache=True, nogil=True)
def _fold(x):
    # One Mersenne fold of a product < 2^62 leaves < 2^32, so five of them sum below 2^35.
    return (x & _P) + (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def _row(m, i, s):
    t = (_fold(m[i, 0] * s[0]) + _fold(m[i, 1] * s[1]) + _fold(m[i, 2] * s[2])
         + _fold(m[i, 3] * s[3]) + _fold(m[i, 4] * s[4]))
    return mod_p(t)


@njit(cache=True, nogil=True)
def matvec_mod(m, s):
    """m @ s mod p for a (5, 5) uint64 matrix m with entries < p."""
    return (_row(m, 0, s), _row(m, 1, s), _row(m, 2, s), _row(m, 3, s), _row(m, 4, s))


@njit(cache=True, nogil=True)
def jump(powers, n, s):
    """Apply powers[0]^n to s, where powers[k] = powers[0]^(2^k) (n >= 0, n < 2^len)."""
    k = 0
    while n > 0:
        if n & 1:
            s = matvec_mod(powers[k], s)
        n >>= 1
        k += 1
    return s


@njit(cache=True, nogil=True)
def to_tuple(a):
    return (np.uint64(a[0]), np.uint64(a[1]), np.uint64(a[2]), np.uint64(a[3]), np.uint64(a[4]))


@njit(cache=True, nogil=True)
def uniform_uint(s):
    """(output in [1, p-1], new state)."""
    s = mrg_step(s)
    return s[0], s


@njit(cache=True, nogil=True)
def uniform_double(s):
    """u1 * p^-1 + u2 * p^-2 from two consecutive outputs, u1 first."""
    s = mrg_step(s)
    u1 = s[0]
    s = mrg_step(s)
    u2 = s[0]
    return np.float64(u1) * _D1 + np.float64(u2) * _D2, s


@njit(cache=True, nogil=True)
def uniform_float(s):
    """float32(float32(u) * p^-1), product in float64: may round to exactly 1.0f, as the
    reference does."""
    s = mrg_step(s)
    return np.float32(np.float64(np.float32(s[0])) * _D1), s
