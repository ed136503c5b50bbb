"""Launch real `mpiexec -n K` subprocesses from tests, with a timeout so nothing hangs."""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def mpiexec():
    venv = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(venv) if venv.exists() else shutil.which("mpiexec")


def run_mpi(nranks, args, timeout=180, env=None, cwd=None):
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    # Oversubscribing 2 cores with 3-4 ranks: one Numba thread each keeps them from fighting.
    e.setdefault("NUMBA_NUM_THREADS", "1")
    # Tests that raise the thread count oversubscribe on purpose; idle OpenMP threads must
    # sleep then, or a spinning one takes the core another rank needs (the CLI does this by
    # itself, graph500/threads.py; scripts run here do not go through it). SSSP at 2 ranks x
    # 2 threads took 40x the CPU per search without it.
    e.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    e.update(env or {})
    cmd = [mpiexec(), "-n", str(nranks), sys.executable] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e,
                          cwd=cwd or str(ROOT))


def stderr_lines(text):
    """stderr's lines without the note that ranks x threads differs from the cores allowed
    (graph500/threads.py): the tests run one thread per rank, on whatever cores CI has."""
    return [line for line in text.strip().splitlines() if "allowed cores" not in line]
