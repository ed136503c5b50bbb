"""Benchmark table: graph500 at given SCALEs and rank counts, with scipy baselines.

    python bench/bench.py --scales 20 22 --ranks 2 [--kernels bfs,sssp] [--baseline-roots 8]

For each (SCALE, ranks) it runs `mpiexec -n RANKS python -m graph500 --json ...` (validated),
then, on the same graph (same seed, built in this process), times scipy's
breadth_first_order (and dijkstra when SSSP runs) from the same roots and reports the TEPS
ratio. TEPS use the benchmark's own per-root edge counts; means are harmonic, as in the spec.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_benchmark(scale, ranks, kernels, extra):
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    mpiexec = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "graph500", "-s", str(scale),
               "--kernels", kernels, "--json", out, "--quiet"] + extra
        t0 = time.time()
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
        if res.returncode != 0:
            sys.exit("benchmark failed:\n" + res.stderr)
        r = json.load(open(out))
        r["wall"] = time.time() - t0
        return r


def scipy_graph(scale, edgefactor, seed, weights):
    import scipy.sparse as sp
    from graph500.generator import generate_edges
    src, dst, w = generate_edges(scale, edgefactor, seed[0], seed[1], 0, edgefactor << scale,
                                 weights=weights)
    keep = src != dst
    n = 1 << scale
    s, d = src[keep].astype(np.int64), dst[keep].astype(np.int64)
    if weights:
        # duplicates: keep the minimum weight, as the benchmark's SSSP does
        ww = w[keep].astype(np.float64)
        key = np.concatenate([s * n + d, d * n + s])
        wt = np.concatenate([ww, ww])
        order = np.lexsort((wt, key))
        key, wt = key[order], wt[order]
        first = np.r_[True, key[1:] != key[:-1]]
        key, wt = key[first], wt[first]
        return sp.csr_matrix((wt, (key // n, key % n)), shape=(n, n))
    a = sp.coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n, n)).tocsr()
    return (a + a.T).tocsr()


def harmonic_teps(times, nedges):
    return len(times) / sum(t / m for t, m in zip(times, nedges))


def scipy_bfs_teps(a, roots, nedges):
    from scipy.sparse.csgraph import breadth_first_order
    times = []
    for r in roots:
        t0 = time.perf_counter()
        breadth_first_order(a, r, directed=True, return_predecessors=True)   # a is symmetric
        times.append(time.perf_counter() - t0)
    return harmonic_teps(times, nedges)


def scipy_sssp_teps(a, roots, nedges):
    from scipy.sparse.csgraph import dijkstra
    times = []
    for r in roots:
        t0 = time.perf_counter()
        dijkstra(a, directed=True, indices=r, return_predecessors=True)   # a is symmetric
        times.append(time.perf_counter() - t0)
    return harmonic_teps(times, nedges)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=int, nargs="+", default=[20])
    p.add_argument("--ranks", type=int, nargs="+", default=[2])
    p.add_argument("--kernels", default="bfs")
    p.add_argument("--baseline-roots", type=int, default=16,
                   help="roots timed with scipy (Dijkstra is slow; 0 skips the baselines)")
    p.add_argument("extra", nargs="*", help="more graph500 options, after --")
    args = p.parse_args()
    sssp = "sssp" in args.kernels
    head = ["SCALE", "ranks", "thr", "gen_s", "constr_s", "BFS_MTEPS", "BFS_val_s",
            "BFS_t_s", "peakRSS_MiB/rank", "scipyBFS_MTEPS", "BFS/scipy"]
    if sssp:
        head += ["SSSP_MTEPS", "SSSP_val_s", "SSSP_t_s", "scipyDijk_MTEPS", "SSSP/scipy"]
    print(" | ".join(head))
    for scale in args.scales:
        graphs = {}
        for ranks in args.ranks:
            r = run_benchmark(scale, ranks, args.kernels, args.extra)
            row = [scale, ranks, r["threads_per_rank"], "%.2f" % r["graph_generation"],
                   "%.2f" % r["construction_time"]]
            b = r.get("bfs")
            rss = max(r["peak_rss_bytes"]) / 2 ** 20
            k = args.baseline_roots
            if b:
                row += ["%.1f" % (b["harmonic_mean_TEPS"] / 1e6), "%.4f" % b["mean_validate"],
                        "%.4f" % b["mean_time"], "%.0f" % rss]
                if k:
                    if "bfs" not in graphs:
                        graphs["bfs"] = scipy_graph(scale, r["edgefactor"], r["seed"], False)
                    base = scipy_bfs_teps(graphs["bfs"], r["roots"][:k], b["nedge"][:k])
                    ours = harmonic_teps(b["time"][:k], b["nedge"][:k])
                    row += ["%.1f" % (base / 1e6), "%.2f" % (ours / base)]
                else:
                    row += ["-", "-"]
            else:
                row += ["-"] * 4 + ["%.0f" % rss] + ["-"] * 2
            if sssp:
                s = r["sssp"]
                row += ["%.1f" % (s["harmonic_mean_TEPS"] / 1e6), "%.4f" % s["mean_validate"],
                        "%.4f" % s["mean_time"]]
                if k:
                    if "sssp" not in graphs:
                        graphs["sssp"] = scipy_graph(scale, r["edgefactor"], r["seed"], True)
                    kk = max(1, k // 4)
                    base = scipy_sssp_teps(graphs["sssp"], r["roots"][:kk], s["nedge"][:kk])
                    ours = harmonic_teps(s["time"][:kk], s["nedge"][:kk])
                    row += ["%.1f" % (base / 1e6), "%.2f" % (ours / base)]
                else:
                    row += ["-", "-"]
            print(" | ".join(str(x) for x in row), flush=True)


if __name__ == "__main__":
    main()
