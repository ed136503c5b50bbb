"""A binary min-heap of uint64 keys held in a caller's array, its size passed in and returned
(Numba code keeps no heap object): the SSSP light phase's local ordered relaxation
(sssp.py: _light_step) keys vertices by (float32 bits of the distance, vertex), and
non-negative float32s order like their bit patterns, so the smallest key is the nearest
vertex, ties to the lowest index.
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _sift_down(h, n, i):
    x = h[i]
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and h[c + 1] < h[c]:
            c += 1
        if not h[c] < x:
            break
        h[i] = h[c]
        i = c
    h[i] = x


@njit(cache=True, nogil=True)
def heapify(h, n):
    """Order h[:n] as a heap, in place (linear time)."""
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(h, n, i)


@njit(cache=True, nogil=True, inline="always")
def heap_push(h, n, key):
    """Add key to the heap h[:n] (len(h) > n); returns the new size."""
    i = n
    while i > 0:
        p = (i - 1) >> 1
        if not key < h[p]:
            break
        h[i] = h[p]
        i = p
    h[i] = key
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def heap_pop(h, n):
    """Remove the smallest key h[0] from the heap h[:n] (n > 0); returns the new size."""
    n -= 1
    if n > 0:
        h[0] = h[n]
        _sift_down(h, n, 0)
    return n
