"""Communication volume and per-rank memory against the rank count, a closed-form model of the
volume, and a projection to cluster scale.

    .venv/bin/python bench/scaling.py [--scale 18] [--ranks 1 2 4 9 16] [--roots 4]
                                      [--layout 1d|2d] [--alpha 2e-6] [--beta 12.5e9]

For each P it runs `mpiexec -n P python -m graph500 -s SCALE --roots K --json ...` (one Numba
thread per rank: P above the cores oversubscribes the machine, which is fine, since it
measures volume and memory, not speed) and prints P, the grid, bytes received per rank per
BFS and SSSP search (mean and max over ranks, from the JSON's `comm` objects that
kernels/traffic.py counts), collectives per search and the largest per-rank peak RSS.

Model (bytes received per rank per search, mean over ranks; N = 2^SCALE, M = edgefactor N,
ib = bytes of a vertex id, P = R x C ranks). Its measured inputs are structural, the same for
every P: per root, the BFS levels, which of them run top-down or bottom-up (the direction
switch is simulated on a serial BFS of the same graph with bfs.py's ALPHA and BETA), and
E_td, the row entries scanned in top-down levels. For SSSP the rounds X and the pull phases H
are taken from the run's own call counts, and the record volume from one calibration.

  BFS, 1-D:  L_bu * N/8 * (P-1)/P             frontier bitmap, Allgatherv per bottom-up level
           + E_td * 2 ib * (P-1)/P^2          (vertex, parent) proposals, Alltoallv
           + L_td * 8 (P-1)                   their counts, Alltoall
           + (L + 1) * 16                     level sums, Allreduce
  BFS, 2-D (kernels/bfs2d.py; R x C grid, R <= C), summed level by level over the profile
  (nf: the level's frontier vertices; ids are sent where 8 nf ib < N, else bits):
           bottom-up level, C > 1: N/(8R) (C-1)/C          row strip's frontier bits, or
                                   nf/R ib (C-1)/C + 8(C-1)   its ids and their counts
           bottom-up level, R > 1: N/(8C)                  R blocks of done bits rotated along
                                                           the column (R Sendrecv, N/(8P) each)
           each parent flush, R > 1: sum over the R-1 other grid rows s of
                       min(2 ib k_s, N/(8P) + ib k_s) + 8(R-1)
                  (pairs, or the block's bitmap plus values), k_s = (1/P) sum over the
                  vertices v found bottom-up since the last flush of
                  (1 - s/R)^f(v) - (1 - (s+1)/R)^f(v): grid row s in scan order finds v
                  when none of the s rows before it holds one of v's f(v) possible parents
                  (neighbours one level up, each in a random row strip)
           top-down level, R > 1:  N/(8C) (R-1)/R           column strip's frontier bits, or
                                   nf/C ib (R-1)/R + 8(R-1)   its ids and their counts
           top-down level, C > 1:  scout 2 ib (C-1)/(C P) + 8(C-1)   proposals along the row
                                   (an upper bound: a vertex is proposed by a rank once)
           + (L + 1) * 16                                  level sums, Allreduce
         (flushes: at every switch back to top-down and at the end, as bfs2d.py does)
  SSSP, 2-D (kernels/sssp2d.py): X, Y, V = the run's Allgather (rounds), Alltoall (row
         exchanges) and Allreduce (votes) calls per search;
             X * 8 (R-1) + W * 8/C (R-1)/R                  expansion along the column: W
                                                           (vertex, distance) words per search
                                                           over all ranks, calibrated once
           + Y * 16 (C-1) + V * 8                          round headers, votes
           + rho * 16 / P * sum over v of (C-1) (1 - (1 - 1/C)^d(v))
                                                           records (u, d, parent) along the
                                                           row: the 1-D record term with the
                                                           grid row's C ranks for P
  SSSP, 1-D: X * 48 (P-1)                     round headers (6 int64 per rank pair), Alltoall
           + H * (4N (P-1)/P + 12)            pull phases: N float32 distances, Allgatherv;
                                              their minimum (float32) and the next bucket
                                              (int64), Allreduce
           + rho * 12 / P * sum over vertices v of (P-1) (1 - (1 - 1/P)^d(v))
                                              records (3 int32), Alltoallv: the ghost cache
                                              lets a rank send a vertex few records, so they
                                              go with the other ranks holding a neighbour of
                                              v (d(v): v's row entries); rho calibrated at the
                                              smallest P > 1 and checked at the others

Projection: time per search = compute + communication, with compute = m / (P x the measured
one-rank rate) and communication = calls * alpha * ceil(log2 P) + bytes / beta (the model's
bytes per rank; the measured inputs kept from this SCALE: levels change little with SCALE).
Everything here ran on a shared, loaded 2-core machine: read volumes and memory, not times.
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def grid_shape(p):
    """R x C = P, as square as P allows, R <= C (kernels/grid.py's rule)."""
    r = int(math.isqrt(p))
    while p % r:
        r -= 1
    return r, p // r


def mpiexec():
    venv = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(venv) if venv.exists() else "mpiexec"


def run_point(p, a, tmp):
    out = pathlib.Path(tmp) / ("p%d.json" % p)
    cmd = [mpiexec(), "-n", str(p), sys.executable, "-m", "graph500", "-s", str(a.scale),
           "-e", str(a.edgefactor), "--roots", str(a.roots), "--kernels", a.kernels,
           "--energy", "off", "--quiet", "--json", str(out)]
    if a.layout == "2d":
        cmd += ["--layout", "2d"]
    if not a.validate:
        cmd.append("--skip-validation")
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=a.timeout)
    if res.returncode != 0:
        sys.exit("P=%d failed (exit %d): %s" % (p, res.returncode, res.stderr.strip()[-2000:]))
    return json.loads(out.read_text())


# --- structural inputs from a serial BFS of the same graph ------------------------------------

def bfs_profiles(scale, edgefactor, seed, roots):
    """Per root: a list of (kind 'td'/'bu', frontier size, frontier entries) per level, as
    bfs.py's direction switch runs them, and the entries of the vertices each level found."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    from graph500.generator import generate_edges
    from graph500.kernels.bfs import ALPHA, BETA
    n = 1 << scale
    src, dst, _ = generate_edges(scale, edgefactor, seed[0], seed[1], 0, edgefactor << scale)
    keep = src != dst                       # Kernel 1 drops self-loops, keeps duplicates
    u = np.concatenate([src[keep], dst[keep]]).astype(np.int64)
    v = np.concatenate([dst[keep], src[keep]]).astype(np.int64)
    deg = np.bincount(u, minlength=n)
    total = int(deg.sum())
    a = sp.csr_matrix((np.ones(len(u), np.float32), (u, v)), shape=(n, n))
    out = []
    global DEGREES
    DEGREES = deg[deg > 0]
    coo = a.tocoo()                          # distinct neighbour pairs, both directions
    for root in roots:
        d = shortest_path(a, method="D", directed=False, unweighted=True, indices=int(root))
        d = np.where(np.isfinite(d), d, -1).astype(np.int64)
        # f(v): v's distinct neighbours one level nearer the root (its possible parents)
        up = (d[coo.row] >= 0) & (d[coo.row] == d[coo.col] - 1)
        f = np.bincount(coo.col[up], minlength=n)
        depth = int(d.max())
        nf = np.bincount(d[d >= 0], minlength=depth + 1)
        sc = np.bincount(d[d >= 0], weights=deg[d >= 0], minlength=depth + 1).astype(np.int64)
        levels = []
        nfront, scout = int(nf[0]), int(sc[0])
        unexplored = total - scout
        top_down = True
        for k in range(depth + 1):
            if top_down and scout > unexplored / ALPHA:
                top_down = False
            nxt_n = int(nf[k + 1]) if k < depth else 0
            nxt_s = int(sc[k + 1]) if k < depth else 0
            kind = "td" if top_down else "bu"
            # the found vertices' counts by f (bottom-up levels: who finds them, bfs2d.py)
            fh = np.bincount(f[d == k + 1]) if kind == "bu" and k < depth else np.zeros(1)
            prev = nfront
            nfront, scout = nxt_n, nxt_s
            unexplored -= scout
            # bfs2d.py flushes the bottom-up parents at every switch back and at the end
            flush = False
            if not top_down and nfront < prev and nfront < n / BETA:
                top_down = True
                flush = True
            elif not top_down and k == depth:
                flush = True
            levels.append((kind, prev, sc[k], nxt_n, fh, flush))
        out.append(levels)
    return out


DEGREES = None     # row entries of every vertex with one, set by bfs_profiles


def distinct_ranks(p, scale_factor=1.0):
    """Sum over vertices of the other ranks expected to hold a neighbour of each (random
    owners), times scale_factor (the projection keeps this SCALE's degree distribution)."""
    return scale_factor * float(((p - 1) * (1 - (1 - 1 / p) ** DEGREES)).sum())


def bfs_inputs(profiles):
    """Per-search means of the model's inputs: L, L_td, L_bu, E_td, B_bu (vertices found by
    bottom-up levels), F_td (frontier vertices of top-down levels), Ph_bu (bottom-up parent
    flushes: bfs2d.py flushes at every switch back to top-down, and at the end)."""
    keys = ("L", "L_td", "L_bu", "E_td", "B_bu", "F_td", "Ph_bu")
    acc = dict.fromkeys(keys, 0.0)
    for levels in profiles:
        acc["L"] += len(levels)
        kinds = [lv[0] for lv in levels]
        acc["Ph_bu"] += sum(1 for lv in levels if lv[5])
        for kind, nf, scout, found, _, _ in levels:
            if kind == "td":
                acc["L_td"] += 1
                acc["E_td"] += scout
                acc["F_td"] += nf
            else:
                acc["L_bu"] += 1
                acc["B_bu"] += found
    return {k: v / len(profiles) for k, v in acc.items()}


# --- the closed forms ---------------------------------------------------------------------

def id_bytes(scale):
    from graph500.kernels.construct import id_bytes as ib
    return ib(scale)


def bfs_1d(scale, p, i):
    n, ib = 1 << scale, id_bytes(scale)
    parts = {"Allgatherv": i["L_bu"] * n / 8 * (p - 1) / p,
             "Alltoallv": i["E_td"] * 2 * ib * (p - 1) / p ** 2,
             "Alltoall": i["L_td"] * 8 * (p - 1),
             "Allreduce": (i["L"] + 1) * 16 if p > 1 else 0}
    calls = (i["L"] + 1) + 2 * i["L_td"] + i["L_bu"]
    return parts, calls


def bfs_2d(scale, p, prof, grow=1.0):
    """Bytes by part and collectives (Sendrecv, point-to-point, not among them), mean per
    search over the profiled roots, level by level as kernels/bfs2d.py moves them. `grow`
    scales the vertex and entry counts (the projection to a larger SCALE)."""
    n, ib = 1 << scale, id_bytes(scale)
    r, c = grid_shape(p)
    parts = dict.fromkeys(("row frontier", "column done bits", "bottom-up parents",
                           "top-down frontier", "top-down proposals", "counts", "Allreduce"),
                          0.0)
    calls = 0.0
    pend = np.zeros(max(r - 1, 1))             # found per sending grid row, not yet flushed
    for levels in prof:
        calls += len(levels) + 1 if p > 1 else 0
        parts["Allreduce"] += 16 * (len(levels) + 1) if p > 1 else 0
        for kind, nf, scout, found, fh, flush in levels:
            nf, scout = nf * grow, scout * grow
            bits = 8 * nf * ib >= n            # bfs2d._bits_cheaper
            if kind == "td":
                if r > 1:
                    calls += 1 if bits else 2
                    if bits:
                        parts["top-down frontier"] += n / (8 * c) * (r - 1) / r
                    else:
                        parts["top-down frontier"] += nf / c * ib * (r - 1) / r
                        parts["counts"] += 8 * (r - 1)
                if c > 1:
                    calls += 2
                    # an upper bound: a rank proposes a vertex at most once per search
                    parts["top-down proposals"] += scout * 2 * ib * (c - 1) / (c * p)
                    parts["counts"] += 8 * (c - 1)
            else:
                if c > 1:
                    calls += 1 if bits else 2
                    if bits:
                        parts["row frontier"] += n / (8 * r) * (c - 1) / c
                    else:
                        parts["row frontier"] += nf / r * ib * (c - 1) / c
                        parts["counts"] += 8 * (c - 1)
                if r > 1:
                    parts["column done bits"] += n / (8 * c)
                    # vertex v (f possible parents, each in a random row strip) is found by
                    # the s-th grid row scanning its block (s = 0 first, the owner last)
                    # with probability (1 - s/R)^f - (1 - (s+1)/R)^f; what the R - 1 others
                    # find travels at the next flush, as pairs or bitmap plus values
                    fs = np.arange(len(fh))
                    for st in range(r - 1):
                        share = float((fh * ((1 - st / r) ** fs - (1 - (st + 1) / r) ** fs)).sum())
                        pend[st] += share * grow / p
            if flush and r > 1:
                calls += 2
                parts["counts"] += 8 * (r - 1)
                for st in range(r - 1):
                    k = pend[st]
                    parts["bottom-up parents"] += min(2 * ib * k, n / (8 * p) + ib * k)
                    pend[st] = 0.0
        pend[:] = 0.0
    m = len(prof)
    return {k: v / m for k, v in parts.items()}, calls / m


def sssp_1d(scale, p, x, h, rho, distinct):
    """Above PULL_MAX_VERTICES (kernels/sssp.py) no heavy phase pulls: the projection then
    drops the pull term, and the pushes' records it would need are not modelled (a lower
    bound, marked in the table)."""
    from graph500.kernels.sssp import PULL_MAX_VERTICES
    n = 1 << scale
    pulls = n <= PULL_MAX_VERTICES
    parts = {"Alltoall": x * 48 * (p - 1),
             "Allgatherv": h * 4 * n * (p - 1) / p if pulls else 0,
             "Allreduce": h * (4 + 8) if p > 1 else 0,
             "Alltoallv": rho * 12 * distinct / p}
    return parts, None


def sssp_2d(scale, p, calls, words, rho, distinct):
    """kernels/sssp2d.py, bytes by part: `calls` maps each call to its count per search (the
    run's own: rounds X, row exchanges Y, votes V), `words` is the (vertex, distance) words
    expanded per search over all ranks (light extractions plus the settled sets: structural,
    calibrated once), rho the records per (rank, vertex) pair (as sssp_1d's, with the grid
    row's C ranks in place of P)."""
    r, c = grid_shape(p)
    parts = {"Allgather": calls.get("Allgather", 0) * 8 * (r - 1),
             "Allgatherv": words * 8 / c * (r - 1) / r,
             "Alltoall": calls.get("Alltoall", 0) * 16 * (c - 1),
             "Allreduce": calls.get("Allreduce", 0) * 8 if p > 1 else 0,
             "Alltoallv": rho * 16 * distinct / p}
    return parts


# --- report -------------------------------------------------------------------------------

def mib(x):
    return "%.3f" % (x / 2 ** 20)


def per_call(comm, name, unit="search"):
    c = comm.get("by_call", {}).get(name)
    return (c["bytes_received_per_" + unit]["mean"], c["calls_per_" + unit]) if c else (0.0, 0.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=18)
    ap.add_argument("--edgefactor", type=int, default=16)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4, 9, 16])
    ap.add_argument("--roots", type=int, default=4)
    ap.add_argument("--layout", choices=("1d", "2d"), default="1d")
    ap.add_argument("--kernels", default="bfs,sssp")
    ap.add_argument("--validate", action="store_true", help="validate every search (slower)")
    ap.add_argument("--alpha", type=float, default=2e-6, help="network latency, s (2 us)")
    ap.add_argument("--beta", type=float, default=12.5e9, help="network bandwidth, B/s")
    ap.add_argument("--project-scales", type=int, nargs="+", default=[30, 32, 34, 36])
    ap.add_argument("--project-ranks", type=int, nargs="+",
                    default=[16, 64, 256, 1024, 4096])
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--from-json", nargs="+", metavar="RESULT",
                    help="read these result records instead of running")
    ap.add_argument("--keep", metavar="DIR", help="keep each run's result record in DIR")
    a = ap.parse_args(argv)

    if a.from_json:
        runs = [json.load(open(f)) for f in a.from_json]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
            runs = []
            for p in a.ranks:
                runs.append(run_point(p, a, a.keep or tmp))
                print("ran P=%d" % p, file=sys.stderr, flush=True)
    runs.sort(key=lambda r: r["num_mpi_processes"])
    scale, ef = runs[0]["scale"], runs[0]["edgefactor"]
    layout = runs[0].get("layout", a.layout)
    print("SCALE %d, edgefactor %d, roots %s, layout %s; mean over ranks of bytes received "
          "per rank per search (kernels/traffic.py's counts), MiB" % (scale, ef,
                                                                     runs[0]["roots"], layout))
    print("%5s %7s %14s %14s %10s %14s %14s %10s %12s" % (
        "P", "grid", "bfs recv mean", "bfs recv max", "bfs coll", "sssp recv mean",
        "sssp recv max", "sssp coll", "peak RSS MiB"))
    for r in runs:
        p = r["num_mpi_processes"]
        grid = r.get("grid") or ([1, p] if layout == "1d" else list(grid_shape(p)))
        row = ["%5d" % p, "%7s" % ("%dx%d" % tuple(grid))]
        for k in ("bfs", "sssp"):
            c = r.get(k, {}).get("comm")
            if c:
                row += ["%14s" % mib(c["bytes_received_per_search"]["mean"]),
                        "%14s" % mib(c["bytes_received_per_search"]["max"]),
                        "%10.1f" % c["collectives_per_search"]]
            else:
                row += ["%14s" % "-", "%14s" % "-", "%10s" % "-"]
        row.append("%12.1f" % (max(r["peak_rss_bytes"]) / 2 ** 20))
        print(" ".join(row))

    # The structural inputs, from a serial BFS of the same graph from the same roots.
    prof = bfs_profiles(scale, ef, runs[0]["seed"], runs[0]["roots"])
    inp = bfs_inputs(prof)
    print("\nBFS inputs per search (serial BFS, bfs.py's switch): levels L %.2f (top-down "
          "%.2f, bottom-up %.2f), top-down entries E_td %.0f (%.3f of all %d x 2 entries)" % (
              inp["L"], inp["L_td"], inp["L_bu"], inp["E_td"], inp["E_td"] / (2 * ef << scale),
              ef << scale))
    model = bfs_2d if layout == "2d" else bfs_1d
    print("\nBFS model check (%s; within 10 %% required at P = 4, 9, 16):" % layout)
    ok = True
    for r in runs:
        p = r["num_mpi_processes"]
        c = r.get("bfs", {}).get("comm")
        if not c or p == 1:
            continue
        parts, calls = model(scale, p, prof if layout == "2d" else inp)
        pred = sum(parts.values())
        got = c["bytes_received_per_search"]["mean"]
        err = (pred - got) / got if got else float("nan")
        gated = p in (4, 9, 16)
        ok &= (not gated) or abs(err) <= 0.10
        detail = ", ".join("%s %s/%s" % (k, mib(v), mib(per_call(c, k)[0])) for k, v in
                           parts.items()) if layout == "1d" else ", ".join(
            "%s %s" % (k, mib(v)) for k, v in parts.items())
        print("  P=%-3d model %s MiB, measured %s MiB (%+.1f %%)%s; calls model %.1f, measured "
              "%.1f\n        model/measured by call, MiB: %s" % (
                  p, mib(pred), mib(got), 100 * err, "" if gated else " (not gated)", calls,
                  c["collectives_per_search"], detail))

    sssp_runs = [r for r in runs if r.get("sssp", {}).get("comm") and r["num_mpi_processes"] > 1]
    rho = None
    if sssp_runs and layout == "1d":
        print("\nSSSP model check (1d; X rounds and H pulls from each run's call counts; "
              "rho calibrated at P=%d):" % sssp_runs[0]["num_mpi_processes"])
        for r in sssp_runs:
            p, c = r["num_mpi_processes"], r["sssp"]["comm"]
            x, h = per_call(c, "Alltoall")[1], per_call(c, "Allgatherv")[1]
            distinct = distinct_ranks(p)
            rec = per_call(c, "Alltoallv")[0]
            if rho is None:
                rho = rec / (12 * distinct / p) if rec else 0.0
            parts, _ = sssp_1d(scale, p, x, h, rho, distinct)
            pred, got = sum(parts.values()), c["bytes_received_per_search"]["mean"]
            err = (pred - got) / got if got else float("nan")
            gated = p in (4, 9, 16)
            ok &= (not gated) or abs(err) <= 0.10
            print("  P=%-3d X %.1f, H %.1f, rho %.4f: model %s MiB, measured %s MiB (%+.1f %%)"
                  "%s; records model %s, measured %s MiB" % (
                      p, x, h, rho, mib(pred), mib(got), 100 * err,
                      "" if gated else " (not gated)", mib(parts["Alltoallv"]), mib(rec)))
    cal2d = None
    if sssp_runs and layout == "2d":
        good, cal2d = _check_sssp_2d(scale, sssp_runs)
        ok &= good
    print("\nmodel within 10 %% at P = 4, 9, 16: %s" % ("yes" if ok else "NO"))

    # Projection.
    one = next((r for r in runs if r["num_mpi_processes"] == 1), None)
    print("\nProjection: alpha %.3g s, beta %.3g B/s; compute = m / (P x the one-rank rate "
          "measured here%s)" % (a.alpha, a.beta, "" if one else ": no P=1 run, not printed"))
    if one is None:
        return 0 if ok else 1
    last = sssp_runs[-1] if sssp_runs else None
    frac = {k: one[k]["mean_nedge"] / (ef << scale) for k in ("bfs", "sssp") if k in one}
    rate = {k: one[k]["harmonic_mean_TEPS"] for k in ("bfs", "sssp") if k in one}
    for k in rate:
        print("  measured one-rank (one core, loaded VM) %s rate: %.3g TEPS" % (k, rate[k]))
    print("%6s %6s %8s | %12s %10s %10s %9s | %12s %10s %10s %9s" % (
        "SCALE", "P", "grid", "bfs MiB/rk", "bfs comm s", "bfs comp s", "bfs GTEPS",
        "sssp MiB/rk", "sssp com s", "sssp cmp s", "sssp GTEPS"))
    for s in a.project_scales:
        for p in a.project_ranks:
            lg = math.ceil(math.log2(p)) if p > 1 else 0
            row = ["%6d %6d %8s |" % (s, p, "%dx%d" % (grid_shape(p) if layout == "2d"
                                                         else (1, p)))]
            if layout == "2d":
                parts, calls = bfs_2d(s, p, prof, 2.0 ** (s - scale))
            else:
                parts, calls = bfs_1d(s, p, inp_scaled(inp, s, scale))
            row += _proj(sum(parts.values()), calls, lg, frac.get("bfs"), rate.get("bfs"), s,
                         ef, p, a)
            if last is not None and "sssp" in rate and layout == "1d":
                lc = last["sssp"]["comm"]
                x, h = per_call(lc, "Alltoall")[1], per_call(lc, "Allgatherv")[1]
                sp_parts, _ = sssp_1d(s, p, x, h, rho, distinct_ranks(p, 2.0 ** (s - scale)))
                row += ["|"] + _proj(sum(sp_parts.values()),
                                     x + 2 * h + per_call(lc, "Alltoallv")[1],
                                     lg, frac["sssp"], rate["sssp"], s, ef, p, a)
                if not sp_parts["Allgatherv"]:
                    row.append("*")
            elif last is not None and "sssp" in rate and cal2d is not None:
                # the last run's calls per search (bucket rounds: a property of the weights,
                # kept); expanded words and records grow with N
                lc = last["sssp"]["comm"]
                calls = {k: per_call(lc, k)[1] for k in lc.get("by_call", {})}
                f = 2.0 ** (s - scale)
                sp_parts = sssp_2d(s, p, calls, cal2d[1] * f, cal2d[0],
                                   distinct_ranks(grid_shape(p)[1], f))
                row += ["|"] + _proj(sum(sp_parts.values()), sum(calls.values()), lg,
                                     frac["sssp"], rate["sssp"], s, ef, p, a)
            print(" ".join(row))
    if layout == "1d":
        print("* SSSP above SCALE 27 pushes its heavy edges (kernels/sssp.py PULL_MAX_VERTICES):"
              " no pull term, and the pushed records are not modelled: a lower bound")
    return 0 if ok else 1


def _check_sssp_2d(scale, runs):
    """The 2-D SSSP model against the runs: rho from the first run with C > 1, the expanded
    words from the first with R > 1 (each calibrated once, checked at the other P).
    Returns (all gated P within 10 %, (rho, words) or None when either is uncalibrated)."""
    ok = True
    rho = words = None
    print("\nSSSP model check (2d; calls from each run's counts; rho and the expanded words "
          "calibrated at the first P with C > 1 and R > 1):")
    for r in runs:
        p, c = r["num_mpi_processes"], r["sssp"]["comm"]
        rr, cc = grid_shape(p)
        calls = {k: per_call(c, k)[1] for k in c.get("by_call", {})}
        distinct = distinct_ranks(cc)
        rec = per_call(c, "Alltoallv")[0]
        exp = per_call(c, "Allgatherv")[0]
        cal = []
        if rho is None and cc > 1:
            rho = rec / (16 * distinct / p)
            cal.append("rho")
        if words is None and rr > 1:
            words = exp / (8 / cc * (rr - 1) / rr)
            cal.append("words")
        parts = sssp_2d(scale, p, calls, words or 0.0, rho or 0.0, distinct)
        pred, got = sum(parts.values()), c["bytes_received_per_search"]["mean"]
        err = (pred - got) / got if got else float("nan")
        gated = p in (4, 9, 16)
        ok &= (not gated) or abs(err) <= 0.10
        print("  P=%-3d rho %.4f, words %.0f%s: model %s MiB, measured %s MiB (%+.1f %%)%s\n"
              "        model/measured by call, MiB: %s" % (
                  p, rho or 0, words or 0, " (calibrated: %s)" % ", ".join(cal) if cal else "",
                  mib(pred), mib(got), 100 * err, "" if gated else " (not gated)",
                  ", ".join("%s %s/%s" % (k, mib(v), mib(per_call(c, k)[0]))
                            for k, v in parts.items())))
    return ok, ((rho, words) if rho is not None and words is not None else None)


def inp_scaled(inp, s, scale):
    """The BFS inputs at SCALE s: level counts kept, entry and vertex counts scaled with N."""
    f = 2.0 ** (s - scale)
    return dict(inp, E_td=inp["E_td"] * f, B_bu=inp["B_bu"] * f, F_td=inp["F_td"] * f)


def _proj(nbytes, calls, lg, frac, rate, s, ef, p, a):
    if rate is None:
        return ["%12s %10s %10s %9s" % ("-", "-", "-", "-")]
    m = frac * (ef << s)
    comm = calls * a.alpha * lg + nbytes / a.beta
    comp = m / (p * rate)
    return ["%12.1f %10.4g %10.4g %9.4g" % (nbytes / 2 ** 20, comm, comp, m / (comm + comp) / 1e9)]


if __name__ == "__main__":
    sys.exit(main())
