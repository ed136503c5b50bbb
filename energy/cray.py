"""HPE Cray EX node energy from /sys/cray/pm_counters (one board-level meter per node).

`energy` is the node's accumulated joules and already contains `accel*_energy` (and the cpu and
memory domains where present), so only `energy` enters the total and the others are read for
the record. The files are refreshed together by the blade controller (about 10 Hz); `freshness`
changes at every refresh, so a set of values is consistent only when freshness reads the same
before and after it: otherwise the read is repeated. Values look like "123456 J 1700000000 us";
the first token is the number.

Each interval of the node counter is checked like any counter (energy.plausible): going back or
jumping beyond the node's maximum power is a gap, and a counter flat under load is frozen.
"""
import math
import re

from . import plausible
from .source import Domain, Source, SourceReadError, SourceUnavailable
from .sysfs import FileReader, read_int

DEFAULT_ROOT = "/sys/cray/pm_counters"
_SUBDOMAIN = re.compile(r"^(accel\d+|cpu\d*|memory)_energy$")


class CraySource(Source):
    name = "cray"
    kind = "counter"
    method = "Cray pm_counters node energy"

    def __init__(self, root=DEFAULT_ROOT, reader=None, attempts=5, max_watts=None, busy=None):
        super().__init__()
        self.method = CraySource.method
        self.root = root
        self.reader = reader if reader is not None else FileReader()
        self.attempts = attempts
        try:
            entries = set(self.reader.listdir(root))
        except FileNotFoundError:
            raise SourceUnavailable(f"no Cray pm_counters directory {root}") from None
        except OSError as e:
            raise SourceUnavailable(f"cannot list {root}: {e.strerror or e}") from None
        if "energy" not in entries or "freshness" not in entries:
            raise SourceUnavailable(f"{root} has no energy/freshness files")
        subs = sorted(e for e in entries if _SUBDOMAIN.match(e))
        self._files = ["energy"] + subs
        self.domains = [Domain("node")] + [Domain(s[: -len("_energy")], counted=False) for s in subs]
        if subs:
            self.notes.append(f"{', '.join(d.label for d in self.domains[1:])} read, not added: "
                              "inside the node counter")
        self.inconsistent = 0
        self.retries = 0
        try:
            self._base = self._consistent_values()
        except SourceReadError as e:
            raise SourceUnavailable(str(e)) from None
        self._last = list(self._base)
        self._cum = [0] * len(self._files)
        self.files = list(getattr(self.reader, "opened", []))
        self._bound, origin = plausible.max_watts("node", max_watts)
        self.limits = {"node": {"max_W": self._bound, "from": origin}}
        self._t = None
        self._frozen = plausible.FrozenWatch(1, busy)

    def _consistent_values(self):
        fresh_path = f"{self.root}/freshness"
        try:
            for attempt in range(self.attempts):
                before = read_int(self.reader, fresh_path)
                values = [read_int(self.reader, f"{self.root}/{f}") for f in self._files]
                after = read_int(self.reader, fresh_path)
                if before == after:
                    self.retries += attempt
                    return values
            self.retries += self.attempts - 1
        except (OSError, ValueError) as e:
            raise SourceReadError(f"reading {self.root}: {getattr(e, 'strerror', None) or e}") from None
        # still changing after every attempt: keep the last set, but say so
        self.inconsistent += 1
        self.warn_once(f"{self.root}: freshness kept changing during {self.attempts} attempts; "
                       "some reads mix two refreshes")
        return values

    def read(self, now):
        values = self._consistent_values()
        seconds = math.inf if self._t is None else now - self._t
        self._t = now
        for i, v in enumerate(values):
            prev, self._last[i] = self._last[i], v
            if not self.domains[i].counted:
                self._cum[i] += max(v - prev, 0)  # for the record only
                continue
            if self._frozen.update(0, v != prev, now):
                self.record_gap(f"cray {self._files[i]}: {self._frozen.frozen_text()}")
                continue
            # counters only restart with the controller: a step back is a gap, not a wrap
            kind, value = plausible.counter_step(prev, v, seconds, None, self._bound,
                                                 slack=plausible.SLOW_SLACK_S)
            if kind == "gap":
                self.record_gap(f"cray {self.root}/{self._files[i]} {value}")
            else:
                self._cum[i] += value
        return [float(c) for c in self._cum]
