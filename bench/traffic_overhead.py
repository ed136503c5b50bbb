"""What counting costs per MPI call (kernels/traffic.py): the same calls on one rank's
COMM_SELF, raw and through Counted (one rank: no bytes to work out), and the volume rule
alone as a rank of 4 would work it out (reading the buffer specs), best of several repeats.

    .venv/bin/python bench/traffic_overhead.py
"""
import time

import numpy as np
from mpi4py import MPI

from graph500.kernels import traffic
from graph500.kernels.traffic import Counted


def per_call(fn, n=20000, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main():
    raw = MPI.COMM_SELF
    counted = Counted(raw)
    a, b = np.zeros(2, np.int64), np.zeros(2, np.int64)
    c = np.array([4], np.int64)
    d = np.zeros(1, np.int64)
    s, r = np.zeros(8, np.int32), np.zeros(8, np.int32)
    t = MPI.INT32_T
    calls = {
        "Allreduce(a, b)": lambda comm: comm.Allreduce(a, b, op=MPI.SUM),
        "Alltoallv([buf, (counts, displs), type], ...)":
            lambda comm: comm.Alltoallv([s, (c, d), t], [r, (c, d), t]),
        "allreduce(int)": lambda comm: comm.allreduce(5),
    }
    c4, d4 = np.array([1, 2, 3, 2], np.int64), np.array([0, 1, 3, 6], np.int64)
    rules = {
        "Allreduce(a, b)": ("Allreduce", (a, b)),
        "Alltoallv([buf, (counts, displs), type], ...)":
            ("Alltoallv", ([s, (c4, d4), t], [r, (c4, d4), t])),
        "allreduce(int)": ("allreduce", (5,)),
    }
    print("%-48s %10s %10s %10s %12s" % ("call on COMM_SELF", "raw us", "counted us", "cost us",
                                         "rule P=4 us"))
    for name, f in calls.items():
        x = per_call(lambda: f(raw))
        y = per_call(lambda: f(counted))
        rule, args = rules[name]
        volume = traffic._VOLUME[rule][0]
        z = per_call(lambda: volume(args, {}, None, 1, 4))
        print("%-48s %10.2f %10.2f %10.2f %12.2f" % (name, 1e6 * x, 1e6 * y, 1e6 * (y - x),
                                                     1e6 * z))


if __name__ == "__main__":
    main()
