"""Progress lines on stderr (rank 0): elapsed time on every line, phase starts and ends, and
after each search the searches done out of all and an estimate of the time left.

    graph500 [   12.3 s] construction ...
    graph500 [   14.9 s] construction: 2.581 s
    graph500 [   15.2 s] bfs  3/64 root 12345: 0.0123 s, 1.23e+08 TEPS, validated in 0.0456 s; 3/128 searches, about 9.1 s left

The estimate is what this kernel's searches so far took per search (with their validations
and the barriers between them) times its searches left, plus its energy loop. A kernel not yet
started has no honest estimate (SSSP costs tens of times what BFS does, by graph and machine),
so while one is still to come the line says "left before sssp"; from the last kernel on, the
estimate is for the whole run.
"""
import sys
import time
from contextlib import contextmanager


def _duration(s):
    if s < 120:
        return "%.1f s" % s
    if s < 7200:
        return "%d min %02d s" % (s // 60, s % 60)
    return "%d h %02d min" % (s // 3600, s % 3600 // 60)


class Progress:
    """`log(fmt, *a)` writes one line on rank 0 unless --quiet; `note` writes even then."""

    def __init__(self, comm, quiet, t0=None, stream=None):
        self.rank0 = comm.Get_rank() == 0
        self.on = self.rank0 and not quiet
        self.t0 = time.monotonic() if t0 is None else t0
        self.stream = stream
        self.total = 0          # searches in the whole run (set by plan())
        self.done = 0
        self.loops_left = 0.0   # energy-loop seconds still to come
        self._per_search = None
        self._kernel_t0 = self._kernel_done = None

    def _write(self, text):
        out = self.stream or sys.stderr
        out.write("graph500 [%7.1f s] %s\n" % (time.monotonic() - self.t0, text))
        out.flush()

    def __call__(self, fmt, *a):
        if self.on:
            self._write(fmt % a if a else fmt)

    def note(self, fmt, *a):
        """Something that changes what the run measures (SKIP_*, an artefact not written)."""
        if self.rank0:
            self._write(fmt % a if a else fmt)

    @contextmanager
    def phase(self, name, detail=""):
        """One line when the phase starts, one with its duration when it ends."""
        self("%s%s ...", name, " (%s)" % detail if detail else "")
        t0 = time.monotonic()
        yield
        self("%s: done in %s", name, _duration(time.monotonic() - t0))

    # --- searches and the estimate of what is left --------------------------------------------

    def plan(self, kernels, searches_per_kernel, loop_seconds):
        """kernels in run order; loop_seconds: each kernel's energy loop (0 for none)."""
        self.kernels, self.per_kernel, self.loop = list(kernels), searches_per_kernel, loop_seconds
        self.total, self.done = len(self.kernels) * searches_per_kernel, 0
        self._current = -1

    def kernel_started(self):
        self._current += 1
        self._kernel_t0, self._kernel_done = time.monotonic(), 0

    def search_done(self):
        """Count one search; returns '; n/total searches, about T left' for the search line."""
        self.done += 1
        self._kernel_done += 1
        per_search = (time.monotonic() - self._kernel_t0) / self._kernel_done
        left = (self.per_kernel - self._kernel_done) * per_search + self.loop
        later = self.kernels[self._current + 1:]
        return "; %d/%d searches, about %s left%s" % (
            self.done, self.total, _duration(left), " before " + ",".join(later) if later else "")
