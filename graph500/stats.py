"""Statistics of spec section 6, computed exactly as the reference does.

Quartiles average two order statistics chosen with C integer division; TEPS statistics are
taken on seconds-per-edge and inverted, which is why the harmonic mean appears.
"""
import math

NAMES = ("min", "firstquartile", "median", "thirdquartile", "max", "mean", "stddev")


def statistics(values):
    """The reference's seven statistics of a list of numbers, as a dict keyed by NAMES."""
    xx = sorted(float(x) for x in values)
    n = len(xx)
    if n == 0:
        raise ValueError("statistics of an empty list")
    mean = sum(xx) / n
    var = sum((x - mean) ** 2 for x in xx) / (n - 1) if n > 1 else 0.0
    return {
        "min": xx[0],
        "firstquartile": (xx[(n - 1) // 4] + xx[n // 4]) / 2,
        "median": (xx[(n - 1) // 2] + xx[n // 2]) / 2,
        "thirdquartile": (xx[n - 1 - (n - 1) // 4] + xx[n - 1 - n // 4]) / 2,
        "max": xx[n - 1],
        "mean": mean,
        "stddev": math.sqrt(var),
    }


def teps_statistics(times, nedges):
    """TEPS statistics from per-search times and edge counts (statistics of t/m, inverted)."""
    s = statistics([t / m for t, m in zip(times, nedges)])
    n = len(times)
    return {
        "min_TEPS": 1.0 / s["max"],
        "firstquartile_TEPS": 1.0 / s["thirdquartile"],
        "median_TEPS": 1.0 / s["median"],
        "thirdquartile_TEPS": 1.0 / s["firstquartile"],
        "max_TEPS": 1.0 / s["min"],
        "harmonic_mean_TEPS": 1.0 / s["mean"],
        "harmonic_stddev_TEPS": (s["stddev"] / (s["mean"] ** 2 * math.sqrt(n - 1))
                                 if n > 1 else 0.0),
    }


def kernel_statistics(times, nedges, validate_times):
    """Every statistic the output block prints for one kernel, under the reference's names.
    `validate_times` is None when validation was skipped (the reference prints -1)."""
    out = {}
    for k, v in statistics(times).items():
        out[k + "_time"] = v
    out.update(teps_statistics(times, nedges))
    for k in NAMES:
        out[k + "_validate"] = -1.0
    if validate_times is not None:
        for k, v in statistics(validate_times).items():
            out[k + "_validate"] = v
    return out


def nedge_statistics(nedges):
    return {k + "_nedge": v for k, v in statistics(nedges).items()}
