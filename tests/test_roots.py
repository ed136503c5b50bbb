"""Root sampling against the spec's vectors (sections 3 and 6) and a literal transcription of
the reference's counter loop."""
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from graph500 import prng
from graph500.generator import generate_edges
from graph500.roots import choose_roots, root_candidates

SEEDS = (2, 3)
D1 = 0.000000000465661287524579692
D2 = 0.0000000000000000002168404346990492787


def edge_list(scale):
    src, dst, _ = generate_edges(scale, 16, *SEEDS, 0, 16 << scale)
    return src.astype(np.int64), dst.astype(np.int64)


def degree_oracle(scale):
    """has_edge from the serial list: a vertex qualifies with a non-self-loop tuple."""
    src, dst = edge_list(scale)
    keep = src != dst
    deg = np.bincount(np.concatenate([src[keep], dst[keep]]), minlength=1 << scale)
    return lambda cand: deg[cand] > 0


def ref_choose(scale, nroots, has_edge):
    """The spec's loop, one candidate at a time, on the Python-int PRNG layer."""
    n = 1 << scale
    seeded = prng.seed_state(*SEEDS)
    counter, roots = 0, []
    for _ in range(nroots):
        while True:
            (a, b, c, d), _ = prng.py_uints(prng.skip_state(seeded, 2, 0, 2 * counter), 4)
            root = int((a * D1 + b * D2 + (c * D1 + d * D2)) * n) % n
            counter += 2
            if counter > 2 * n:
                return roots
            if root in roots or not has_edge(np.array([root]))[0]:
                continue
            roots.append(root)
            break
    return roots


@pytest.fixture(scope="module")
def scale10():
    return degree_oracle(10)


def test_scale10_first_eight_roots(scale10):
    assert choose_roots(10, 64, *SEEDS, scale10)[:8] == [458, 214, 220, 966, 395, 9, 848, 777]


def test_scale10_matches_reference_loop(scale10):
    got = choose_roots(10, 64, *SEEDS, scale10)
    assert len(got) == 64 and len(set(got)) == 64
    assert got == ref_choose(10, 64, scale10)


def test_candidates_are_one_stream():
    whole = root_candidates(10, *SEEDS, 0, 100)
    assert whole.dtype == np.int64
    for first, count in [(0, 1), (3, 4), (37, 63), (99, 1), (50, 0)]:
        assert np.array_equal(root_candidates(10, *SEEDS, first, count),
                              whole[first:first + count])


@pytest.mark.parametrize("batch", [1, 3, 64, 256, 5000])
def test_batch_size_does_not_change_roots(scale10, batch):
    assert choose_roots(10, 64, *SEEDS, scale10, batch=batch) == \
        choose_roots(10, 64, *SEEDS, scale10)


def test_has_edge_calls_are_deterministic_and_nonempty(scale10):
    def recorder(log):
        def has_edge(cand):
            assert len(cand) > 0
            log.append(cand.copy())
            return scale10(cand)
        return has_edge

    a, b = [], []
    choose_roots(10, 64, *SEEDS, recorder(a), batch=32)
    choose_roots(10, 64, *SEEDS, recorder(b), batch=32)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("scale", [1, 2, 3, 5])
def test_tiny_graphs_give_fewer_roots(scale):
    has_edge = degree_oracle(scale)
    for batch in (1, 4, 256):
        got = choose_roots(scale, 64, *SEEDS, has_edge, batch=batch)
        assert got == ref_choose(scale, 64, has_edge)
        assert len(got) <= min(64, 1 << scale) and len(set(got)) == len(got)
        assert all(has_edge(np.array(got, dtype=np.int64)))
    assert len(got) < 64


def test_no_eligible_vertex_gives_no_roots():
    calls = []

    def none(cand):
        calls.append(len(cand))
        return np.zeros(len(cand), dtype=bool)

    assert choose_roots(4, 64, *SEEDS, none, batch=5) == []
    assert sum(calls) == 16 and min(calls) > 0   # exactly N candidates examined


def test_scale16_first_root_and_edge_count():
    scale = 16
    n = 1 << scale
    src, dst = edge_list(scale)
    keep = src != dst
    deg = np.bincount(np.concatenate([src[keep], dst[keep]]), minlength=n)
    roots = choose_roots(scale, 64, *SEEDS, lambda c: deg[c] > 0)
    assert roots[0] == 29348 and len(roots) == 64
    s, d = src[keep], dst[keep]
    adj = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n)).tocsr()
    _, label = connected_components(adj, directed=False)
    in_comp = label[s] == label[roots[0]]
    assert int(np.count_nonzero(in_comp)) == 1048079
