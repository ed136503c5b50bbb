"""Search keys: the reference's root sequence (spec section 3), bit for bit.

Candidate k comes from the seeded stream at skip(2, 0, 4k): two uniform doubles d0, d1 (four
consecutive outputs), root = int64((d0 + d1) * N) % N. So candidates are consecutive 4-output
blocks of the one stream that starts at skip(2, 0, 0), and any block of them is one jump plus a
short walk.
"""
import numpy as np
from numba import njit

from . import prng
from .prng import seed_state, skip_state, to_tuple, uniform_double

@njit(cache=True, nogil=True)
def _candidates(state_arr, nverts, count, out):
    s = to_tuple(state_arr)
    for k in range(count):
        d0, s = uniform_double(s)
        d1, s = uniform_double(s)
        out[k] = np.int64((d0 + d1) * np.float64(nverts)) % nverts


def root_candidates(scale, seed1, seed2, first, count):
    """Candidates first .. first+count-1 (int64): the reference's draws at counter = 2k."""
    first, count = int(first), int(count)
    if first < 0 or count < 0:
        raise ValueError("first and count must be non-negative")
    out = np.empty(count, dtype=np.int64)
    if count:
        st = skip_state(seed_state(seed1, seed2), 2, 0, 4 * first)
        _candidates(prng.state_array(st), np.int64(1) << int(scale), np.int64(count), out)
    return out


def choose_roots(scale, nroots, seed1, seed2, has_edge, batch=256):
    """Up to `nroots` distinct roots, each with a non-self-loop edge, in the reference's order.

    has_edge(candidates int64 array) -> bool array says which candidates have a non-self-loop
    edge. In a distributed run it is a collective, so it is called identically on every rank:
    the batches depend only on the arguments here, never on rank-local data, and are never
    empty. The reference's counter (2 per candidate) stops it once it would exceed 2N, i.e.
    after N candidates: fewer than nroots roots come back when those do not yield enough
    (tiny graphs).
    """
    nverts = 1 << int(scale)
    nroots = int(nroots)
    batch = max(1, int(batch))
    roots = []
    chosen = set()
    k = 0
    while len(roots) < nroots and k < nverts:
        cand = root_candidates(scale, seed1, seed2, k, min(batch, nverts - k))
        ok = np.asarray(has_edge(cand), dtype=bool)
        if ok.shape != cand.shape:
            raise ValueError("has_edge must return one bool per candidate")
        for r, good in zip(cand.tolist(), ok.tolist()):
            if good and r not in chosen:
                chosen.add(r)
                roots.append(r)
                if len(roots) == nroots:
                    break
        k += len(cand)
    return roots
