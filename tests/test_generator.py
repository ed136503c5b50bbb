"""The Kronecker generator against the spec's test vectors (section 2) and an independent
pure-Python model of the reference, plus the split/thread invariance the distributed run
relies on."""
import numba
import numpy as np
import pytest

from graph500 import prng
from graph500.generator import generate_edges, scramble, scramble_constants

P = 2**31 - 1
SEEDS = (2, 3)

# ------------------------------------------------------------------------------------------
# Independent pure-Python model: naive steps, its own matrix power, its own edge loop.
# ------------------------------------------------------------------------------------------


def ref_step(z):
    new = (107374182 * z[0] + 104480 * z[4]) % P
    return [new] + z[:4]


def ref_mat(n):
    """Step matrix to the n-th power, by recursive squaring (not prng's binary table)."""
    a = [[107374182, 0, 0, 0, 104480], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0],
         [0, 0, 0, 1, 0]]

    def mul(x, y):
        return [[sum(x[i][k] * y[k][j] for k in range(5)) % P for j in range(5)]
                for i in range(5)]

    def power(n):
        if n == 0:
            return [[int(i == j) for j in range(5)] for i in range(5)]
        h = power(n // 2)
        h = mul(h, h)
        return mul(h, a) if n % 2 else h

    return power(n)


def ref_skip(z, n):
    m = ref_mat(n)
    return [sum(m[i][k] * z[k] for k in range(5)) % P for i in range(5)]


def ref_seed(s1, s2):
    return [(s1 & 0x3FFFFFFF) + 1, ((s1 >> 30) & 0x3FFFFFFF) + 1, (s2 & 0x3FFFFFFF) + 1,
            ((s2 >> 30) & 0x3FFFFFFF) + 1, ((s2 >> 60) << 4) + (s1 >> 60) + 1]


def ref_bitreverse(v):
    return int(format(v, "064b")[::-1], 2)


def ref_scramble(v, scale, val0, val1):
    mask = (1 << 64) - 1
    v = (v + val0 + val1) & mask
    v = (v * (val0 | 0x4519840211493211)) & mask
    v = ref_bitreverse(v) >> (64 - scale)
    v = (v * (val1 | 0x3050852102C843A5)) & mask
    return ref_bitreverse(v) >> (64 - scale)


def ref_edge(scale, ei, s1=2, s2=3):
    """(u, v, weight) of edge ei, straight from the spec's description."""
    z = ref_skip(ref_seed(s1, s2), ei << 64)
    nverts, bsrc, btgt = 1 << scale, 0, 0
    while nverts > 1:
        z = ref_step(z)
        while z[0] < 3647:
            z = ref_step(z)
        val = z[0] % 10000
        q = 1 if val < 1900 else 2 if val < 3800 else 0 if val < 9500 else 3
        so, to = q // 2, q % 2
        if bsrc == btgt and so > to:
            so, to = to, so
        nverts //= 2
        bsrc += nverts * so
        btgt += nverts * to
    z = ref_step(z)
    w = np.float32(float(np.float32(z[0])) * 0.000000000465661287524579692)
    val0, val1 = scramble_constants(s1, s2)
    return ref_scramble(bsrc, scale, val0, val1), ref_scramble(btgt, scale, val0, val1), w


# ------------------------------------------------------------------------------------------
# PRNG
# ------------------------------------------------------------------------------------------


def test_seeding_and_first_uints():
    st = prng.seed_state(*SEEDS)
    assert st == (3, 1, 4, 1, 1)
    expect = [322227026, 531570115, 1424981115, 1111973825, 147993513]
    assert prng.py_uints(st, 5)[0] == expect
    s = prng.to_tuple(prng.state_array(st))
    got = []
    for _ in range(5):
        u, s = prng.uniform_uint(s)
        got.append(int(u))
    assert got == expect


def test_skip_matches_naive_steps():
    z0 = ref_seed(*SEEDS)
    z = z0
    for n in range(40):
        assert list(prng.skip_state(tuple(z0), 0, 0, n)) == z
        z = ref_step(z)


@pytest.mark.parametrize("hi,mid,lo", [(0, 1, 0), (2, 0, 6), (50, 7, 0), (0, 12345, 99),
                                       (1, 2**64 - 1, 2**63 + 5)])
def test_skip_matrix_matches_independent_power(hi, mid, lo):
    n = (hi << 128) + (mid << 64) + lo
    assert [list(r) for r in prng.skip_matrix(hi, mid, lo)] == ref_mat(n)


def test_numba_jump_matches_python_skip():
    rng = np.random.default_rng(7)
    seeded = prng.seed_state(*SEEDS)
    s0 = prng.to_tuple(prng.state_array(seeded))
    for ei in [0, 1, 2, 3, 2**40 + 17, 2**63 - 1] + [int(x) for x in rng.integers(0, 2**62, 5)]:
        got = prng.jump(prng.EDGE_JUMP_POWERS, ei, s0)
        assert [int(x) for x in got] == ref_skip(list(seeded), ei << 64)


def test_lazy_step_is_congruent():
    s = prng.to_tuple(prng.state_array((P - 1, P - 2, 5, P - 1, P - 3)))
    z = [P - 1, P - 2, 5, P - 1, P - 3]
    for _ in range(50):
        s = prng.mrg_step_lazy(s)
        z = ref_step(z)
        assert int(s[0]) < 2**32
        assert int(prng.canonical(s[0])) == z[0]


def test_uniform_float_can_round_to_one():
    # With z5 = 0 the next output is A1 * z1 mod p: pick z1 so that it is p - 1.
    z1 = (P - 1) * pow(107374182, -1, P) % P
    s = prng.to_tuple(prng.state_array((z1, 1, 1, 1, 0)))
    f, _ = prng.uniform_float(s)
    assert f == np.float32(1.0)


def test_uniform_double_uses_first_output_as_high_part():
    st = prng.seed_state(*SEEDS)
    (u1, u2), _ = prng.py_uints(st, 2)
    d, _ = prng.uniform_double(prng.to_tuple(prng.state_array(st)))
    assert d == u1 * 0.000000000465661287524579692 + u2 * 0.0000000000000000002168404346990492787


# ------------------------------------------------------------------------------------------
# Generator: test vectors
# ------------------------------------------------------------------------------------------


def test_scramble_constants():
    assert scramble_constants(*SEEDS) == (7111014902169325161, 3043718919927570188)


@pytest.mark.parametrize("scale", [1, 2, 5, 10, 13])
def test_scramble_is_bijection(scale):
    val0, val1 = scramble_constants(*SEEDS)
    img = [int(scramble(v, scale, val0, val1)) for v in range(1 << scale)]
    assert sorted(img) == list(range(1 << scale))
    for v in (0, 1, (1 << scale) - 1):
        assert img[v] == ref_scramble(v, scale, val0, val1)


SCALE10_FIRST8 = [
    (299, 797, "0.490170419"), (684, 861, "0.528551459"), (185, 385, "0.651318908"),
    (428, 328, "0.263168693"), (490, 200, "0.47255674"), (976, 998, "0.52411139"),
    (96, 959, "0.609523177"), (684, 699, "0.806837499"),
]


def test_scale10_first_edges_with_weights():
    src, dst, w = generate_edges(10, 16, *SEEDS, 0, 8, weights=True)
    assert src.dtype == np.int32 and dst.dtype == np.int32 and w.dtype == np.float32
    for i, (u, v, wt) in enumerate(SCALE10_FIRST8):
        assert (int(src[i]), int(dst[i])) == (u, v)
        assert w[i] == np.float32(wt)
        assert "%.9g" % w[i] == wt


def test_reference_model_agrees_with_vectors():
    """Guards the pure-Python model used for the random-position checks below."""
    for i, (u, v, wt) in enumerate(SCALE10_FIRST8[:3]):
        ru, rv, rw = ref_edge(10, i)
        assert (ru, rv, rw) == (u, v, np.float32(wt))


@pytest.mark.parametrize("scale,loops", [(10, 144), (16, 491)])
def test_self_loop_counts(scale, loops):
    src, dst, w = generate_edges(scale, 16, *SEEDS, 0, 16 << scale)
    assert w is None
    assert len(src) == 16 << scale
    assert int(np.count_nonzero(src == dst)) == loops
    assert src.min() >= 0 and dst.max() < (1 << scale)


@pytest.mark.parametrize("scale", [10, 20, 32])
def test_random_positions_match_reference_model(scale):
    rng = np.random.default_rng(scale)
    nedge = 16 << scale
    for ei in [nedge - 1] + [int(x) for x in rng.integers(0, nedge, 4)]:
        src, dst, w = generate_edges(scale, 16, *SEEDS, ei, ei + 1, weights=True)
        assert (int(src[0]), int(dst[0]), w[0]) == ref_edge(scale, ei)


def test_wide_ids_above_scale_31():
    src, dst, _ = generate_edges(32, 16, *SEEDS, 10, 20)
    assert src.dtype == np.int64 and dst.dtype == np.int64
    assert src.min() >= 0 and max(src.max(), dst.max()) < 2**32


def test_other_seeds_change_the_graph():
    a, _, _ = generate_edges(10, 16, 2, 3, 0, 64)
    b, _, _ = generate_edges(10, 16, 5, 3, 0, 64)
    assert not np.array_equal(a, b)
    src, dst, w = generate_edges(10, 16, 5, 3, 7, 8, weights=True)
    assert (int(src[0]), int(dst[0]), w[0]) == ref_edge(10, 7, 5, 3)


# ------------------------------------------------------------------------------------------
# Invariance: any split, any thread count, weights on or off
# ------------------------------------------------------------------------------------------

SPLIT_SCALE = 12   # 65536 edges: several parallel chunks per call


@pytest.fixture(scope="module")
def full_list():
    return generate_edges(SPLIT_SCALE, 16, *SEEDS, 0, 16 << SPLIT_SCALE, weights=True)


@pytest.mark.parametrize("nparts", [1, 2, 3, 4])
def test_range_split_invariance(full_list, nparts):
    m = 16 << SPLIT_SCALE
    parts = [generate_edges(SPLIT_SCALE, 16, *SEEDS, r * m // nparts, (r + 1) * m // nparts,
                            weights=True) for r in range(nparts)]
    for k in range(3):
        assert np.array_equal(np.concatenate([p[k] for p in parts]), full_list[k])


def test_odd_ranges(full_list):
    for a, b in [(0, 0), (5, 6), (16383, 16385), (1000, 40000), (65535, 65536)]:
        src, dst, w = generate_edges(SPLIT_SCALE, 16, *SEEDS, a, b, weights=True)
        assert np.array_equal(src, full_list[0][a:b])
        assert np.array_equal(dst, full_list[1][a:b])
        assert np.array_equal(w, full_list[2][a:b])


def test_thread_count_invariance(full_list):
    before = numba.get_num_threads()
    try:
        outs = []
        for nt in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(nt)
            outs.append(generate_edges(SPLIT_SCALE, 16, *SEEDS, 0, 16 << SPLIT_SCALE,
                                       weights=True))
    finally:
        numba.set_num_threads(before)
    for out in outs:
        for k in range(3):
            assert np.array_equal(out[k], full_list[k])


def test_weights_do_not_change_endpoints(full_list):
    src, dst, w = generate_edges(SPLIT_SCALE, 16, *SEEDS, 0, 16 << SPLIT_SCALE)
    assert w is None
    assert np.array_equal(src, full_list[0]) and np.array_equal(dst, full_list[1])
    wt = full_list[2]
    assert wt.min() >= 0 and wt.max() <= 1


def test_bad_ranges_rejected():
    with pytest.raises(ValueError):
        generate_edges(10, 16, *SEEDS, 0, (16 << 10) + 1)
    with pytest.raises(ValueError):
        generate_edges(10, 16, *SEEDS, 5, 4)
