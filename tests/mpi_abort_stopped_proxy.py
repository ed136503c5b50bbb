"""Run under mpiexec (MPICH Hydra), itself under strace: the command line with rank 1 failing at
start-up, and Hydra's proxy (rank 1's parent) stopped while rank 1 writes its error line and
aborts. When the proxy resumes it finds the line and the abort waiting together and forwards
the abort first; mpiexec then stops forwarding output. Without graph500/drain.py the line is
lost; with it, rank 1 holds the abort back until the proxy has read the line.

  python tests/mpi_abort_stopped_proxy.py GRAPH500-ARGS...
"""
import os
import subprocess
import sys
import time

from mpi4py import MPI

from graph500 import cli


class StopProxyFirst:
    """Rank 1's stderr: before the first write, stop the launcher's proxy (for 1.5 s)."""

    def __init__(self, stream):
        self.stream, self.done = stream, False

    def write(self, text):
        if not self.done:
            self.done = True
            ppid = os.getppid()
            subprocess.Popen(["sh", "-c", "sleep 1.5; kill -CONT %d" % ppid],
                             start_new_session=True)
            os.kill(ppid, 19)                                           # SIGSTOP
            deadline = time.monotonic() + 5
            while _state(ppid) not in ("T", "t") and time.monotonic() < deadline:
                time.sleep(0.001)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


if __name__ == "__main__":
    if MPI.COMM_WORLD.Get_rank() == 1:
        sys.stderr = StopProxyFirst(sys.stderr)
    cli.main(sys.argv[1:])
