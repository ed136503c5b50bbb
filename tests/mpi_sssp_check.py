"""Kernel 3 and its validator under mpiexec (launched by tests/test_sssp.py).

  mpiexec -n P python tests/mpi_sssp_check.py OUT.json

For a few small graphs and roots: search, validate, compare with scipy's Dijkstra (rank 0),
and record per root the nedge, the validator's verdict and hashes of the whole distance and
parent arrays, so that the test can compare runs with different P bit for bit. Also checks
that every rank gets the same verdict, for correct and for mutated results.
"""
import hashlib
import json
import sys

import numpy as np
from mpi4py import MPI

import mpi_sssp_common as common
from graph500.validate_sssp import validate_sssp
from graph500.kernels.sssp import DEFAULT_DELTA, SSSPWorkspace, sssp

DELTAS = (DEFAULT_DELTA, 0.1)


def graphs():
    """(name, SCALE, (src, dst, w)). SCALE 6 is a single 64-vertex word, so with P > 1
    some ranks own no vertex at all."""
    yield "random9", 9, common.random_edges(9, 8 << 9, 7)
    yield "tiny6", 6, common.random_edges(6, 100, 3)
    yield "ties9", 9, common.ties_edges(9, 8 << 9, 5)
    yield "kron10", 10, common.benchmark_edges(10)
    # the smallest benchmark graph here whose light passes fill a small queue midway
    yield "kron12", 12, common.benchmark_edges(12)
    yield "kron16", 16, common.benchmark_edges(16)


def same_everywhere(comm, value):
    values = comm.allgather(value)
    assert all(v == values[0] for v in values), values
    return values[0]


def pick_roots(src, dst, k):
    keep = src != dst
    cand = np.unique(np.concatenate([src[keep], dst[keep]]))
    return [int(cand[i]) for i in np.linspace(0, len(cand) - 1, k).astype(int)]


def mutation_verdicts(comm, g, src, dst, root, dist, parent, nedge):
    """Flip one thing at a time on the vertex owned by the highest rank holding a reached
    vertex (so that, with several ranks, a remote rank must report it)."""
    part = g.part
    reached = np.flatnonzero((dist != np.inf) & (np.arange(part.nlocal) + part.lo != root))
    mine = int(part.lo + reached[-1]) if len(reached) else -1
    target = comm.allreduce(mine, op=MPI.MAX)
    out = {}
    cases = {
        "raise": lambda d, p, i: d.__setitem__(i, np.float32(d[i] * 1.5 + 0.01)),
        "lower": lambda d, p, i: d.__setitem__(i, np.float32(d[i] * 0.5)),
        "unreach": lambda d, p, i: (d.__setitem__(i, np.inf), p.__setitem__(i, -1)),
        "range": lambda d, p, i: p.__setitem__(i, 1 << part.scale),
    }
    for name, mutate in cases.items():
        d, p = dist.copy(), parent.copy()
        if part.lo <= target < part.hi:
            mutate(d, p, target - part.lo)
        ok, msg, _ = validate_sssp(comm, g, root, d, p, nedge)
        out[name] = same_everywhere(comm, [bool(ok), msg])
    ok, msg, _ = validate_sssp(comm, g, root, dist, parent, nedge + 1)
    out["nedge"] = same_everywhere(comm, [bool(ok), msg])
    # A separate component planted as reached (the reference's checks pass it), with the
    # edge count grown by its tuples as the kernel's count would be.
    fake = common.fake_component(part.scale, src, dst, root)
    for name, value in common.FAKE_DISTANCES.items() if fake else ():
        verts, parents, inside = fake
        d, p = dist.copy(), parent.copy()
        common.plant_component(part, d, p, verts, parents, value)
        ok, msg, _ = validate_sssp(comm, g, root, d, p, nedge + inside)
        out["cycle " + name] = same_everywhere(comm, [bool(ok), msg])
    return out


def main():
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    report = {"nranks": comm.Get_size(), "graphs": {}}
    for name, scale, (src, dst, w) in graphs():
        g = common.build_graph(comm, scale, src, dst, w)
        ws = SSSPWorkspace(g, comm)
        # A small queue (its floor is the longest row): light passes stop midway on kron12
        # and resume after an exchange.
        small = SSSPWorkspace(g, comm, capacity=4, ghost_slots=16)
        # SCALE 16 is there for the mutations at that size: one root, one delta.
        roots = pick_roots(src, dst, 3 if scale < 16 else 1)
        deltas = DELTAS if scale < 16 else DELTAS[:1]
        ref = common.reference_distances(scale, src, dst, w, roots) if rank == 0 else None
        entry = {}
        runs = [("", ws, root, delta) for root in roots for delta in deltas]
        if scale < 16:
            runs += [("small/", small, roots[0], delta) for delta in deltas]
        for prefix, space, root, delta in runs:
            i = roots.index(root)
            dist, parent = sssp(space, root, delta)
            full = common.gather_block(comm, dist)
            nedge = common.tuples_reached(src, dst, full) if rank == 0 else None
            nedge = comm.bcast(nedge)
            ok, msg, counted = validate_sssp(comm, g, root, dist, parent, nedge)
            same_everywhere(comm, (bool(ok), msg, counted))
            rec = {"ok": bool(ok), "msg": msg, "nedge": counted}
            fullp = common.gather_block(comm, parent)
            if rank == 0:
                rec["sha"] = hashlib.sha256(full.tobytes()).hexdigest()
                rec["parent_sha"] = hashlib.sha256(fullp.tobytes()).hexdigest()
                reach_ok = bool(np.array_equal(np.isinf(full), np.isinf(ref[i])))
                fin = np.isfinite(full)
                err = float(np.max(np.abs(full[fin] - ref[i][fin]) /
                                   np.maximum(ref[i][fin], 1.0), initial=0.0))
                rec["reach_ok"] = reach_ok
                rec["max_rel_err"] = err
            entry["%s%d/%g" % (prefix, root, delta)] = rec
            if i == 0 and delta == DELTAS[0] and not prefix:
                entry["mutations"] = mutation_verdicts(comm, g, src, dst, root, dist,
                                                         parent, nedge)
        report["graphs"][name] = entry
    if rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
