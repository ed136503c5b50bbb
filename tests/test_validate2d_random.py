"""The 2-D BFS validator (graph500/validate2d.py) accepts exactly what a plain reading of spec
section 5 accepts, and names the same failing check, on randomly corrupted parent arrays
(tests/bfs_random_cases.py, run with the 2-D validator), on a 2 x 2 grid and on a 1 x 3 one
(a prime P), each with one column-scan piece and with several.

Run as a script (`mpiexec -n P python tests/test_validate2d_random.py SCALE TRIALS OUT.json`)
it is the worker the tests launch; it writes the report from rank 0."""
import json
import sys

import pytest

from mpi_util import run_mpi
from test_validate_random import check

SCALE = 9
TRIALS = 50        # per root, two roots: 100 arrays


def _worker(scale, ntrials, out):
    from mpi4py import MPI

    import bfs_random_cases
    from graph500 import validate2d as V2
    from graph500.generator import generate_edges
    from graph500.kernels.construct2d import construct_graph2d

    comm = MPI.COMM_WORLD
    # the tuples bfs_cases.build generates, so the 2-D graph is the 1-D graph the cases use
    m = 16 << scale
    r, p = comm.Get_rank(), comm.Get_size()
    src, dst, _ = generate_edges(scale, 16, 2, 3, r * m // p, (r + 1) * m // p)
    g2 = construct_graph2d(comm, scale, src, dst)

    def validate(root, local, nedge, nchunks):
        return V2.validate_bfs2d(comm, g2, root, local, nedge, nchunks=nchunks)[0]

    rep = bfs_random_cases.run_cases(comm, scale, ntrials, validate=validate)
    rep["grid"] = [g2.grid.R, g2.grid.C]
    if r == 0:
        with open(out, "w") as f:
            json.dump(rep, f)


@pytest.mark.parametrize("nranks,grid", [(4, [2, 2]), (3, [1, 3])])
def test_random_corruptions_2d(tmp_path, nranks, grid):
    out = tmp_path / ("r2d_%d.json" % nranks)
    res = run_mpi(nranks, ["tests/test_validate2d_random.py", str(SCALE), str(TRIALS),
                           str(out)], timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert rep["grid"] == grid
    check(rep, TRIALS)


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
