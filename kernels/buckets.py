"""The cyclic bucket array of delta-stepping, shared by the 1-D (sssp.py) and 2-D (sssp2d.py)
SSSP kernels.

Bucket b holds the local vertices with b*delta <= dist < (b+1)*delta (clamped into the window
[cur, cur + nslots), see bucket_of); it lives in slot b % nslots: one bitmap over the local
block per slot (bits, nslots x words), a vertex count per slot (count), and the slot of each
vertex's bucket (bkt, int32; -1 when in none): every bucket in use lies in the window, so its
slot names it, and a slot index is half the bytes of a bucket number where bkt is read at
random. Moving a vertex is two bit operations, and draining a bucket yields its vertices in
increasing order, so rows are then read in memory order.
"""
import numpy as np
from numba import njit

from .bitmap import ONE, bit_index, clear_bit, lowest_bit, set_bit
from .intrinsics import atomic_and, atomic_or

NO_BUCKET = np.int64(1) << 62


@njit(cache=True, nogil=True, inline="always")
def bucket_of(d, inv_delta, cur, last):
    """The bucket of distance d, clamped into [cur, last]: a vertex is never placed behind
    the bucket being relaxed, nor beyond the cyclic array (only a change of schedule)."""
    b = np.int64(np.float64(d) * inv_delta)
    return min(max(b, cur), last)


@njit(cache=True, nogil=True, inline="always")
def unlist(v, nslots, bits, count, bkt):
    """Vertex v out of its bucket (it is in one)."""
    s = bkt[v]
    clear_bit(bits[s], v)
    count[s] -= 1
    bkt[v] = -1


@njit(cache=True, nogil=True, inline="always")
def move_to_bucket(v, b, nslots, bits, count, bkt):
    """Vertex v into bucket b of the cyclic array, out of its old bucket if it had one."""
    s = b % nslots
    old = bkt[v]
    if old != s:
        if old >= 0:
            unlist(v, nslots, bits, count, bkt)
        set_bit(bits[s], v)
        count[s] += 1
        bkt[v] = s


@njit(cache=True, nogil=True, inline="always")
def move_to_bucket_shared(v, b, nslots, bits, dcount, bkt):
    """move_to_bucket for threads that move distinct vertices at once: the bit operations
    atomic (two vertices may share a word), the count changes into this thread's own
    dcount row (the caller adds the rows to count afterwards). The same buckets result."""
    s = b % nslots
    old = bkt[v]
    if old != s:
        bit = ONE << np.uint64(v & 63)
        if old >= 0:
            atomic_and(bits[old], v >> 6, ~bit)
            dcount[old] -= 1
        atomic_or(bits[s], v >> 6, bit)
        dcount[s] += 1
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
