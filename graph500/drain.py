"""Let what this rank wrote on stdout/stderr reach the launcher before the job is torn down.

A rank's stdout and stderr are pipes read by the launcher (MPICH Hydra's proxy, Open MPI's
daemon), which forwards them as it gets to them; MPI_Abort goes to the launcher through another
channel. Hydra's proxy, finding a rank's abort and its last output waiting together, handles the
PMI socket first (it comes first in its poll list) and forwards the abort ahead of the output,
and mpiexec stops forwarding output within a second of an abort: the failing rank's one-line
error was lost in about 1 run in 14 on a busy node. So before aborting, the rank waits until its
pipes are empty, i.e. read, and the proxy forwards what it reads at once, ahead of anything it
reads later. A timeout bounds the wait, so a launcher that reads nothing never makes an abort
hang.
"""
import fcntl
import os
import stat
import struct
import termios
import time


def unread_bytes(fd):
    """Bytes written to pipe `fd` that its reader has not read yet; None when fd is not a
    pipe (a file or a terminal has no reader to wait for)."""
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
        # FIONREAD works on either end of a Linux pipe: what is buffered in it.
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return None


def drain_stdio(timeout=5.0, fds=(1, 2), poll=0.005):
    """Wait until stdout and stderr pipes are read, at most `timeout` seconds. Returns True
    when they were (or are not pipes), False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(unread_bytes(fd) for fd in fds):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
