"""BFS validation against a plain reading of spec section 5, on many randomly corrupted parent
arrays: the distributed validator (graph500/validate.py) must accept exactly the arrays the
plain one accepts and name the same failing check, for one piece and for several (the
threaded path's chunking). Runs the same
way on one rank (imported by pytest) and under mpiexec
(`python tests/bfs_random_cases.py SCALE TRIALS OUT.json`): every rank draws the same
corruptions from the global parent array.

Why random corruptions: the validator tests rule 5 in an unusual way (a level's rows against
the levels two and more above, unreached rows against the reached set: see
_levels_and_scan), so a spot check of one planted corruption per class is not enough to trust
that it rejects what a tuple-by-tuple check rejects and nothing else."""
import json
import sys

import numpy as np
from mpi4py import MPI

from graph500 import validate as V
from graph500.kernels.bfs import BFSWorkspace, bfs
from graph500.kernels.teps import edge_count

import bfs_cases


def plain_verdict(parent, root, src, dst, nedge):
    """Spec section 5 read directly, on global arrays: 0 when the parent array is valid,
    else the check that fails first in the validator's order (its docstring: the range and
    the root's entry before anything else, then the lowest check number).
    src/dst: every non-self-loop tuple once."""
    n = len(parent)
    if ((parent < -1) | (parent >= n)).any():
        return V.CHECK_RANGE
    if parent[root] != root:
        return V.CHECK_ROOT
    depth = bfs_cases.global_depth(parent, root)       # from the parents alone, level by level
    if ((parent >= 0) != (depth >= 0)).any():           # a cycle or a broken chain
        return V.CHECK_TREE
    du, dv = depth[src], depth[dst]
    ru, rv = du >= 0, dv >= 0
    if (ru != rv).any():
        return V.CHECK_REACH
    if (np.abs(du - dv)[ru & rv] > 1).any():
        return V.CHECK_LEVEL
    # every reached vertex but the root joined to its parent by a tuple
    edges = set(zip(src.tolist(), dst.tolist())) | set(zip(dst.tolist(), src.tolist()))
    for v in np.flatnonzero(depth > 0):
        if (int(v), int(parent[v])) not in edges:
            return V.CHECK_CONFIRM
    return 0 if int((ru & rv).sum()) == nedge else V.CHECK_NEDGE


def corruptions(parent, depth, root, adjacency, rng, ntrials):
    """ntrials corrupted copies of the global parent array, of mixed kinds; some are valid
    (another parent one level up), most are not."""
    n = len(parent)
    reached = np.flatnonzero(parent >= 0)
    unreached = np.flatnonzero(parent < 0)
    out = []
    for t in range(ntrials):
        p = parent.copy()
        for _ in range(1 + t % 3):
            v = int(rng.choice(reached[reached != root]))
            kind = rng.integers(0, 7)
            if kind == 0:                                  # any vertex as the parent
                p[v] = rng.integers(0, n)
            elif kind == 1:                                # unreached
                p[v] = -1
            elif kind == 2 and len(unreached):             # an unreached vertex gets a parent
                p[int(rng.choice(unreached))] = int(rng.choice(reached))
            elif kind == 3:                                # a neighbour as the parent
                p[v] = int(rng.choice(adjacency[v]))
            elif kind == 4:                                # another parent one level up: valid
                up = [int(w) for w in adjacency[v] if depth[w] == depth[v] - 1]
                p[v] = rng.choice(up)
            elif kind == 5:                                # two vertices swap parents
                w = int(rng.choice(reached[reached != root]))
                p[v], p[w] = p[w], p[v]
            else:                                          # a neighbour's parent made v
                w = int(rng.choice(adjacency[v]))
                if w != root:
                    p[w] = v
        out.append(p)
    return out


def run_cases(comm, scale, ntrials, seed=7, validate=None):
    """validate(root, local parent, nedge, nchunks) -> failure or None: the validator under
    test, default validate.validate_bfs on the 1-D graph (test_validate2d_random.py: 2-D)."""
    g, roots = bfs_cases.build(comm, scale)
    report = {"trials": 0, "valid": 0, "checks": {}, "disagree": []}
    if validate is None:
        def validate(root, local, nedge, nchunks):
            """The default validator, and its failure (check, vertex, value) against the
            one its exact mode names (rule 5 from the deep side only): the same."""
            fail = V.validate_bfs(comm, g, root, local, nedge, nchunks=nchunks)[0]
            ref = V.validate_bfs(comm, g, root, local, nedge, nchunks=nchunks, exact=True)[0]
            got, want = [(f.check, f.v, f.x) if f else None for f in (fail, ref)]
            if got != want:
                report["disagree"].append({"root": int(root), "nchunks": nchunks,
                                           "exact": str(want), "fast": str(got)})
            return fail
    lo, hi = g.part.lo, g.part.hi
    adjacency = bfs_cases.global_adjacency(comm, g)
    src = np.repeat(np.arange(len(adjacency)), [len(a) for a in adjacency])
    dst = np.concatenate(adjacency).astype(np.int64)
    once = dst > src                                       # each tuple once
    src, dst = src[once], dst[once]
    ws = BFSWorkspace(g, comm)
    rng = np.random.default_rng(seed)
    for root in roots[:2]:
        ws.reset()
        parent = bfs(ws, root).copy()
        nedge = edge_count(comm, g, parent)
        parent_all = np.concatenate(comm.allgather(parent))
        depth = bfs_cases.global_depth(parent_all, root)
        for p in corruptions(parent_all, depth, root, adjacency, rng, ntrials):
            want = plain_verdict(p, root, src, dst, nedge)
            for nchunks in (1, 5):
                fail = validate(root, p[lo:hi].copy(), nedge, nchunks)
                got = fail.check if fail else 0
                if got != want:
                    report["disagree"].append({"root": int(root), "nchunks": nchunks,
                                               "plain": want, "check": got})
            report["trials"] += 1
            report["valid"] += int(want == 0)
            report["checks"][str(want)] = report["checks"].get(str(want), 0) + 1
    return report


if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    rep = run_cases(comm, int(sys.argv[1]), int(sys.argv[2]))
    if comm.Get_rank() == 0:
        with open(sys.argv[3], "w") as f:
            json.dump(rep, f)
