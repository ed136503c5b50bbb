import pathlib
import sys

# Tests import the helpers that live beside them (bfs_cases, mpi_util).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

# Numba's cache keyed by the kernel sources, as the CLI does (graph500/numba_cache.py), before
# any test imports Numba: in-process tests must not run stale machine code either.
from graph500 import numba_cache  # noqa: E402

_warning = numba_cache.configure()
if _warning:
    sys.stderr.write("graph500: %s\n" % _warning)
