"""Statistics (spec section 6) against hand-computed values, and the output block (section 7)
against the reference's own sample, label by label and column by column."""
import math
import pathlib

import pytest

from graph500.output import reference_block
from graph500.stats import kernel_statistics, nedge_statistics, statistics, teps_statistics

# The reference's own output block (a copy kept in the repository: see tests/data/README.md).
SAMPLE = pathlib.Path(__file__).resolve().parent / "data" / "reference-output-scale18-2ranks.txt"


def test_statistics_hand_computed_even_count():
    # n = 6: (n-1)/4 = 1, n/4 = 1; (n-1)/2 = 2, n/2 = 3; n-1-(n-1)/4 = 4, n-1-n/4 = 4.
    s = statistics([6, 1, 5, 2, 4, 3])
    assert s["min"] == 1 and s["max"] == 6
    assert s["firstquartile"] == 2.0
    assert s["median"] == 3.5
    assert s["thirdquartile"] == 5.0
    assert s["mean"] == 3.5
    assert s["stddev"] == pytest.approx(math.sqrt(17.5 / 5))


def test_statistics_quartile_indices_odd_count():
    # n = 5: (n-1)/4 = 1, n/4 = 1 -> xx[1]; n-1-(n-1)/4 = 3, n-1-n/4 = 3 -> xx[3].
    s = statistics([10, 20, 30, 40, 50])
    assert (s["firstquartile"], s["median"], s["thirdquartile"]) == (20, 30, 40)
    # n = 7: (n-1)/4 = 1, n/4 = 1; n-1-1 = 5 -> xx[5]
    s = statistics([1, 2, 3, 4, 5, 6, 7])
    assert (s["firstquartile"], s["thirdquartile"]) == (2, 6)
    # n = 8: (n-1)/4 = 1, n/4 = 2 -> (xx[1] + xx[2]) / 2; n-1-1 = 6, n-1-2 = 5
    s = statistics([1, 2, 3, 4, 5, 6, 7, 8])
    assert (s["firstquartile"], s["median"], s["thirdquartile"]) == (2.5, 4.5, 6.5)


def test_teps_statistics_are_inverted_seconds_per_edge():
    times, nedges = [1.0, 2.0, 4.0], [100, 100, 100]
    t = teps_statistics(times, nedges)
    assert t["min_TEPS"] == 25 and t["max_TEPS"] == 100 and t["median_TEPS"] == 50
    s = [0.01, 0.02, 0.04]
    mean = sum(s) / 3
    assert t["harmonic_mean_TEPS"] == pytest.approx(1 / mean)
    sd = math.sqrt(sum((x - mean) ** 2 for x in s) / 2)
    assert t["harmonic_stddev_TEPS"] == pytest.approx(sd / (mean ** 2 * math.sqrt(2)))


def test_skipped_validation_prints_minus_one():
    k = kernel_statistics([1.0, 2.0], [10, 10], None)
    assert all(k[n + "_validate"] == -1 for n in ("min", "median", "stddev", "max"))


def _fake_result(kernels):
    res = {"scale": 18, "edgefactor": 16, "roots": list(range(64)), "graph_generation": 1.82442,
           "num_mpi_processes": 2, "construction_time": 0.589502}
    for i, k in enumerate(kernels):
        times = [0.1 + 0.001 * j + i for j in range(64)]
        rec = kernel_statistics(times, [4193472] * 64, [0.3] * 64)
        rec.update(nedge_statistics([4193472] * 64))
        res[k] = rec
    return res


def _sample_lines():
    return SAMPLE.read_text().splitlines()


def test_full_block_matches_reference_labels_order_and_column():
    ours = reference_block(_fake_result(["bfs", "sssp"]))
    ref = _sample_lines()
    assert len(ours) == len(ref)
    for mine, theirs in zip(ours, ref):
        assert mine[:32] == theirs[:32]          # same label, same padding
        assert mine[32] != " " and theirs[32] != " "   # value starts at column 33


def test_bfs_only_block_is_the_reference_without_sssp_lines():
    ours = reference_block(_fake_result(["bfs"]))
    ref = [l for l in _sample_lines() if not l.startswith("sssp")]
    assert [l[:32] for l in ours] == [l[:32] for l in ref]


def test_values_use_c_g_format():
    ours = reference_block(_fake_result(["bfs"]))
    assert "graph_generation:               1.82442" in ours
    assert "min_nedge:                      4193472" in ours
    assert any(l.startswith("bfs  harmonic_mean_TEPS:     !  ") for l in ours)
    assert "%g" % 778938.0 == "778938" and "%g" % 2.75522e7 == "2.75522e+07"
