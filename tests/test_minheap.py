"""kernels/minheap.py: the SSSP light phase's heap gives keys back in increasing order."""
import numpy as np
from numba import njit

from graph500.kernels.minheap import heap_pop, heap_push, heapify


@njit(cache=True)
def _drain(h, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(len(out)):
        out[i] = h[0]
        n = heap_pop(h, n)
    return out, n


@njit(cache=True)
def _push_all(keys, h):
    n = 0
    for k in keys:
        n = heap_push(h, n, k)
    return n


def test_heapify_then_pop_sorts():
    rng = np.random.default_rng(5)
    for size in (0, 1, 2, 3, 17, 1000):
        keys = rng.integers(0, 1 << 40, size).astype(np.uint64)
        if size:
            keys[::7] = keys[0]          # repeated keys too
        h = keys.copy()
        heapify(h, len(h))
        out, n = _drain(h, len(h))
        assert n == 0
        assert np.array_equal(out, np.sort(keys))


def test_push_then_pop_sorts():
    rng = np.random.default_rng(6)
    keys = rng.integers(0, 1 << 63, 777).astype(np.uint64)
    h = np.empty(len(keys), dtype=np.uint64)
    n = _push_all(keys, h)
    assert n == len(keys)
    out, n = _drain(h, n)
    assert np.array_equal(out, np.sort(keys))


def test_interleaved_push_pop_returns_the_smallest():
    rng = np.random.default_rng(7)
    h = np.empty(64, dtype=np.uint64)
    n = 0
    live = []
    for step in range(2000):
        if live and (len(live) == 64 or rng.random() < 0.45):
            assert h[0] == min(live)
            live.remove(int(h[0]))
            n = heap_pop(h, n)
        else:
            k = int(rng.integers(0, 1000))
            live.append(k)
            n = heap_push(h, n, np.uint64(k))
        assert n == len(live)
