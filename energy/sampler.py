"""The background reader: keeps counter unwrapping safe and records the power trace.

A daemon thread calls `tick` every `interval` seconds on a fixed schedule (missed ticks are
skipped, not bunched). Each tick is a few file reads under the meter's lock, which is all the
time it holds the GIL; the kernels run nogil, so the thread neither waits long for the GIL nor
delays them. It never computes a phase energy: the edges do that synchronously.
"""
import threading
import time


class Sampler:
    def __init__(self, tick, interval, clock=time.monotonic):
        self.tick = tick
        self.interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = None
        self.errors = []

    def start(self):
        self._thread = threading.Thread(target=self._run, name="graph500-energy-sampler", daemon=True)
        self._thread.start()

    def _run(self):
        next_t = self._clock() + self.interval
        while not self._stop.wait(max(0.0, next_t - self._clock())):
            try:
                self.tick()
            except Exception as e:  # keep sampling; the edges still measure
                if len(self.errors) < 10:
                    self.errors.append(f"sampler: {type(e).__name__}: {e}")
            next_t += self.interval
            now = self._clock()
            if next_t < now:
                next_t = now + self.interval

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
