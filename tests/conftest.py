import pathlib
import sys

# Tests import the helpers that live beside them (bfs_cases, mpi_util).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
