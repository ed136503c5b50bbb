"""CPU package and DRAM energy from RAPL through the powercap sysfs tree (Intel, and AMD Zen kernels).

Zones are matched by their `name` file, never by index: zone numbers follow driver probe order, so
`intel-rapl:0` can be `package-1`, and zone ids are hexadecimal (`intel-rapl:a` is the eleventh).
What enters the node total, so that nothing is counted twice:
- `psys` alone when present: the platform domain contains the packages and their memory;
- otherwise every `package-N` (or `package-N-die-M`) plus the `dram` subzone under it, and a
  top-level `dram` zone if the platform has one;
- never `core`/`uncore` (inside their package), never an `intel-rapl-mmio` zone that repeats an
  MSR zone of the same name (the MMIO interface reads the same package counter).

`energy_uj` is a microjoule counter that wraps back to 0 after `max_energy_range_uj` (minutes at
server power). Every read unwraps against the previous one, so reads must be closer together than
one wrap period: `max_interval` tells the sampler how close. The counter's true modulus is
max_energy_range_uj plus one hardware energy unit (about 61 uJ, not exported), so adding
max + 1 undercounts by less than one unit per wrap. Without max_energy_range_uj a counter that
goes back cannot be unwrapped: that interval is dropped and counted in `lost`, never negative.

Every interval is also checked against the domain's maximum power (energy.plausible): a counter
that goes back is a wrap only when the wrapped difference is possible at that power, so a reset
or a jump becomes a recorded gap instead of 262 kJ of invented energy; a counter that stands
still under load (a frozen zone) is a gap too. The maximum comes from --energy-max-watts, else
from the zone's constraint_*_max_power_uw files (times a headroom), else a per-domain default.
"""
import math
import re
from dataclasses import dataclass
from typing import Optional

from . import plausible
from .source import Domain, Source, SourceReadError, SourceUnavailable
from .sysfs import FileReader, read_int

DEFAULT_ROOT = "/sys/class/powercap"

_ZONE_DIR = re.compile(r"^(intel-rapl|intel-rapl-mmio):([0-9a-fA-F]+)(?::([0-9a-fA-F]+))?$")
_PACKAGE = re.compile(r"^package-(\d+)(?:-die-(\d+))?$")


def permission_fix(root):
    return (f"run as root, or `sudo chmod a+r {root}/intel-rapl:*/energy_uj` "
            "(energy_uj is root-only since the 2020 PLATYPUS fix)")


@dataclass
class Zone:
    dirname: str
    control: str          # "intel-rapl" or "intel-rapl-mmio"
    top: int              # parsed from hex
    sub: Optional[int]    # None for a top-level zone
    name: str
    path: str

    def describe(self):
        return f"{self.dirname} ({self.name})"


def discover_zones(root, reader):
    """Every zone under root, from the flat class listing and from inside each zone directory."""
    try:
        entries = reader.listdir(root)
    except FileNotFoundError:
        raise SourceUnavailable(f"no powercap directory {root} (RAPL driver not loaded, "
                                "or a VM/container without RAPL)") from None
    except PermissionError:
        raise SourceUnavailable(f"permission denied listing {root}") from None
    except OSError as e:
        raise SourceUnavailable(f"cannot list {root}: {e.strerror or e}") from None
    found = {}
    pending = [(root, e) for e in entries]
    while pending:
        parent, entry = pending.pop(0)
        m = _ZONE_DIR.match(entry)
        if not m or entry in found:
            continue
        path = f"{parent}/{entry}"
        try:
            name = reader.read(f"{path}/name").strip()
        except OSError:
            continue  # a zone without a readable name cannot be matched, so it is not used
        sub = m.group(3)
        found[entry] = Zone(entry, m.group(1), int(m.group(2), 16),
                            int(sub, 16) if sub is not None else None, name, path)
        if sub is None:
            try:
                pending.extend((path, c) for c in reader.listdir(path))
            except OSError:
                pass
    return sorted(found.values(), key=lambda z: (z.control, z.top, -1 if z.sub is None else z.sub))


def _package_key(name):
    m = _PACKAGE.match(name)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def choose_domains(zones):
    """(selected [(label, Zone)], notes, not_measured): the no-double-counting policy, pure."""
    notes, not_measured = [], []
    tops = [z for z in zones if z.sub is None]
    msr_tops = [z for z in tops if z.control == "intel-rapl"]
    packages = {z.name: z for z in msr_tops if _package_key(z.name)}
    for z in tops:
        if z.control != "intel-rapl-mmio":
            continue
        if z.name in packages:
            notes.append(f"{z.describe()} not added: repeats {packages[z.name].dirname}")
        elif _package_key(z.name):
            packages[z.name] = z  # only the MMIO interface exposes this package
        else:
            notes.append(f"{z.describe()} not added: MMIO zone without an MSR counterpart")
    psys = [z for z in msr_tops if z.name == "psys"]
    top_dram = [z for z in msr_tops if z.name == "dram"]
    for z in msr_tops:
        if z.name not in packages and z.name not in ("psys", "dram"):
            notes.append(f"{z.describe()} not added: unknown domain")
    by_parent = {(p.control, p.top): p for p in packages.values()}
    dram_of = {}
    for z in zones:
        if z.sub is None:
            continue
        parent = by_parent.get((z.control, z.top))
        if parent is None or packages.get(parent.name) is not parent:
            notes.append(f"{z.describe()} not added: not under a counted package")
        elif z.name == "dram":
            dram_of[parent.name] = z
        else:
            notes.append(f"{z.describe()} not added: inside {parent.name}")

    ordered = sorted(packages.values(), key=lambda z: _package_key(z.name))
    if psys:
        left_out = [p.name for p in ordered] + [f"dram({p})" for p in sorted(dram_of)]
        left_out += [z.name for z in top_dram]
        if left_out:
            notes.append(f"{', '.join(left_out)} not added: inside psys (platform energy)")
        return [("psys" if len(psys) == 1 else f"psys:{z.top:x}", z) for z in psys], notes, []
    selected = []
    for p in ordered:
        selected.append((p.name, p))
        d = dram_of.get(p.name)
        if d is not None:
            selected.append((f"dram({p.name})", d))
        elif not top_dram:
            not_measured.append(f"DRAM of {p.name} not measured: no dram zone")
    selected += [("dram", z) for z in top_dram]
    return selected, notes, not_measured


def unwrap(prev, cur, max_range, seconds=math.inf, max_watts=math.inf):
    """(delta, wrapped) between two counter values (uJ); delta None when it cannot be known:
    no range to unwrap with, or a change no wrap explains at up to max_watts over `seconds`."""
    kind, value = plausible.counter_step(prev, cur, seconds, max_range, max_watts, scale=1e-6)
    if kind == "gap":
        return None, False
    return value, kind == "wrap"


def hardware_max_watts(reader, zone_path):
    """The largest constraint_*_max_power_uw of a zone in watts, or None when none is readable."""
    try:
        names = reader.listdir(zone_path)
    except OSError:
        return None
    best = None
    for n in names:
        if n.startswith("constraint_") and n.endswith("_max_power_uw"):
            try:
                v = read_int(reader, f"{zone_path}/{n}")
            except (OSError, ValueError):
                continue
            if v > 0 and (best is None or v > best):
                best = v
    return best / 1e6 if best else None


class RaplSource(Source):
    name = "rapl"
    kind = "counter"

    def __init__(self, root=DEFAULT_ROOT, reader=None, max_watts=None, busy=None):
        super().__init__()
        self.root = root
        self.reader = reader if reader is not None else FileReader()
        zones = discover_zones(root, self.reader)
        if not zones:
            raise SourceUnavailable(f"no RAPL zones in {root}")
        selected, self.notes, self.not_measured = choose_domains(zones)
        if not selected:
            raise SourceUnavailable(f"no RAPL package or psys zone in {root}")
        self._paths, self._ranges, self._last, self._bounds = [], [], [], []
        wrap_seconds = []
        for label, z in selected:
            self.domains.append(Domain(label))
            self._paths.append(f"{z.path}/energy_uj")
            bound, origin = plausible.max_watts(label, max_watts, hardware_max_watts(self.reader, z.path))
            self._bounds.append(bound)
            self.limits[label] = {"max_W": bound, "from": origin}
            try:
                rng = read_int(self.reader, f"{z.path}/max_energy_range_uj")
                rng = rng if rng > 0 else None
            except (OSError, ValueError):
                rng = None
            if rng is None:
                self.notes.append(f"{z.describe()}: max_energy_range_uj missing, a counter wrap "
                                  "cannot be unwrapped (such an interval is dropped and flagged)")
            else:
                wrap_seconds.append(rng / 1e6 / bound)
            self._ranges.append(rng)
        for path in self._paths:
            try:
                self._last.append(read_int(self.reader, path))
            except PermissionError:
                raise SourceUnavailable(f"permission denied reading {path}: "
                                        f"{permission_fix(root)}") from None
            except (OSError, ValueError) as e:
                why = getattr(e, "strerror", None) or e
                raise SourceUnavailable(f"cannot read {path}: {why}") from None
        self._wrap_seconds = min(wrap_seconds) if wrap_seconds else None
        if self._wrap_seconds:
            self.max_interval = self._wrap_seconds / 2
        self._cum = [0] * len(self._paths)
        self._t = None
        self._frozen = plausible.FrozenWatch(len(self._paths), busy)
        self.files = list(getattr(self.reader, "opened", []))
        if selected[0][0].startswith("psys"):
            self.method = "RAPL psys (platform) counter"
        elif any(d.label.startswith("dram") for d in self.domains):
            self.method = "RAPL package+dram counters"
        else:
            self.method = "RAPL package counters"

    def read(self, now):
        # the first read after the probe has no interval to bound: the probe's time is unknown
        seconds = math.inf if self._t is None else now - self._t
        if self._t is not None and self._wrap_seconds and seconds > self._wrap_seconds:
            self.warn_once(f"RAPL read gap {seconds:.0f} s exceeds the shortest wrap period "
                           f"({self._wrap_seconds:.0f} s at full power): a wrap may be missed")
        self._t = now
        for i, path in enumerate(self._paths):
            try:
                cur = read_int(self.reader, path)
            except (OSError, ValueError) as e:
                raise SourceReadError(f"reading {path}: {getattr(e, 'strerror', None) or e}") from None
            prev, self._last[i] = self._last[i], cur
            label = self.domains[i].label
            if self._frozen.update(i, cur != prev, now):
                self.record_gap(f"rapl {label}: {self._frozen.frozen_text()}")
                continue
            kind, value = plausible.counter_step(prev, cur, seconds, self._ranges[i], self._bounds[i],
                                                 scale=1e-6)
            if kind == "gap":
                self.record_gap(f"rapl {label}: {path} {value}")
                continue
            self.wraps += kind == "wrap"
            self._cum[i] += value
        return [c / 1e6 for c in self._cum]
