"""The cyclic bucket array of delta-stepping, shared by the 1-D (sssp.py) and 2-D (sssp2d.py)
SSSP kernels.

Bucket b holds the local vertices with b*delta <= dist < (b+1)*delta (clamped into the window
[cur, cur + nslots), see slot_of); it lives in slot b % nslots: one bitmap over the local
block per slot (bits, nslots x words) and a vertex count per slot (count). Moving a vertex is
two bit operations, and draining a bucket yields its vertices in increasing order, so rows
are then read in memory order. The 2-D kernel also keeps the slot of each vertex's bucket
(bkt; -1 when in none: every bucket in use lies in the window, so its slot names it), read
at random for every vertex a relaxation lowers, so it takes the smallest integer type that
holds the slots (slot_dtype). The 1-D kernel has no bkt: a lowering knows the old distance,
so the old slot (sssp.py's _old_slot), and threads can move vertices with atomic bits alone.
"""
import numpy as np
from numba import njit

from .bitmap import bit_index, clear_bit, lowest_bit, set_bit

NO_BUCKET = np.int64(1) << 62


def slot_dtype(nslots):
    """bkt's type for nslots slots: the smallest signed integer type that holds every slot
    and the markers -1 and -2 (int8 at the default delta). A quarter of int32's bytes keeps
    more of bkt in the cache: bench/sssp_ab.py 22 measured 0.90x the search time on one rank
    and 0.98x on two against int32."""
    for t in (np.int8, np.int16, np.int32):
        if nslots <= np.iinfo(t).max:
            return t
    return np.int64


def slot_array(nslots, n, bkt=None):
    """bkt for n vertices and nslots slots: the given array while its type is still
    slot_dtype(nslots), else a new one (a workspace calls this whenever delta changes)."""
    dtype = slot_dtype(nslots)
    if bkt is not None and bkt.dtype == dtype:
        return bkt
    return np.empty(n, dtype=dtype)


@njit(cache=True, nogil=True, inline="always")
def slot_of(d, inv_delta, cur, cslot, nslots):
    """The slot of distance d's bucket, the bucket clamped into [cur, cur + nslots): a vertex
    is never placed behind the bucket being relaxed, nor beyond the cyclic array (only a
    change of schedule). cslot = cur % nslots, computed once by the caller: a modulo per
    vertex is an integer division, which profiled at 9 % of a light pass (perf, SCALE 22)."""
    b = min(max(np.int64(np.float64(d) * inv_delta) - cur, 0), nslots - 1)
    s = cslot + b
    if s >= nslots:
        s -= nslots
    return s


@njit(cache=True, nogil=True, inline="always")
def unlist(v, bits, count, bkt):
    """Vertex v out of its bucket (it is in one)."""
    s = bkt[v]
    clear_bit(bits[s], v)
    count[s] -= 1
    bkt[v] = -1


@njit(cache=True, nogil=True, inline="always")
def move_to_bucket(v, s, bits, count, bkt):
    """Vertex v into the bucket in slot s (slot_of), out of its old bucket if it had one."""
    old = bkt[v]
    if old != s:
        if old >= 0:
            unlist(v, bits, count, bkt)
        set_bit(bits[s], v)
        count[s] += 1
        bkt[v] = s


@njit(cache=True, nogil=True)
def drain_bucket(cur, nslots, bits, count, bkt, out, settled, nsettled, in_settled):
    """Empty bucket cur: its vertices into out[0:], in increasing order, each also joining
    the settled set (settled[:nsettled], in_settled) once. Returns (vertices, settled count)."""
    s = cur % nslots
    row = bits[s]
    n = 0
    for w in range(len(row)):
        x = row[w]
        if x == 0:
            continue
        row[w] = 0
        while x != 0:
            low = lowest_bit(x)
            v = (w << 6) + bit_index(low)
            x ^= low
            bkt[v] = -1
            out[n] = v
            n += 1
            if in_settled[v] == 0:
                in_settled[v] = 1
                settled[nsettled] = v
                nsettled += 1
    count[s] = 0
    return n, nsettled


@njit(cache=True, nogil=True)
def first_bucket(cur, nslots, count):
    """The first non-empty bucket from cur on, or NO_BUCKET."""
    for i in range(nslots):
        if count[(cur + i) % nslots] > 0:
            return cur + i
    return NO_BUCKET
