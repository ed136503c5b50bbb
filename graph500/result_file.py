"""Reading a result JSON back (`graph500 report`, `graph500 compare`): load, recognise, and one
tolerant view of its keys.

Every record this project has written is read: the first keys (scale, bfs/sssp sections,
energy, versions, hosts, peak_rss_bytes ...) and the schema-2 keys added beside them (schema,
graph500_version, start_time, ranks objects, status, failure, audit, memory_estimate_bytes,
device ...). A key a record lacks reads as None and prints as "not recorded": nothing is
guessed from what is absent. A record of an invalid run has no statistics and is never shown
with numbers. No MPI and no Numba here, so both commands run in a second on a login node.
"""
import json
import math

from .spec import KERNELS, MAX_SCALE

NOT_RECORDED = "not recorded"
STATUSES = ("valid", "invalid", "not validated")


class ResultFileError(Exception):
    """A file that cannot be read as a graph500 result: a one-line message, exit code 2."""


def number(x):
    """x as a float when it is a finite JSON number, else None (a bool or a string is not one)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def integer(x):
    return x if isinstance(x, int) and not isinstance(x, bool) else None


def dict_at(d, *keys):
    """d[k1][k2]... as a dict: {} wherever a step is missing or not a dict."""
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d if isinstance(d, dict) else {}


def strings(x):
    """The strings of a JSON list; [] for anything else."""
    return [s for s in x if isinstance(s, str)] if isinstance(x, list) else []


def _looks_like_result(data):
    """A graph500 result names its problem (scale, edgefactor) and what ran: a kernel section,
    the kernel list, or (schema 2) a status, which an invalid run has instead of sections."""
    if not isinstance(data, dict):
        return False
    scale, edgefactor = integer(data.get("scale")), integer(data.get("edgefactor"))
    if scale is None or edgefactor is None or not 1 <= scale <= MAX_SCALE or edgefactor < 1:
        return False
    return (any(isinstance(data.get(k), dict) for k in KERNELS)
            or isinstance(data.get("kernels"), list) or data.get("status") in STATUSES)


def load(path):
    """The Result in `path`; ResultFileError (one line naming the file) for anything else."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ResultFileError("%s: %s" % (path, e.strerror or e)) from None
    except UnicodeDecodeError:
        raise ResultFileError("%s: not a text file (not JSON)" % path) from None
    try:
        data = json.loads(text)
    except ValueError as e:
        where = " (%s at line %d)" % (e.msg, e.lineno) if isinstance(e, json.JSONDecodeError) else ""
        raise ResultFileError("%s: not JSON%s" % (path, where)) from None
    if not _looks_like_result(data):
        raise ResultFileError("%s: not a graph500 result (no scale, edgefactor and kernel "
                              "sections; write one with `graph500 --json PATH`)" % path)
    return Result(path, data)


class Result:
    """Read-only accessors over one record's dict; each returns None when the key is absent."""

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.scale = data["scale"]
        self.edgefactor = data["edgefactor"]

    def get(self, key):
        return self.data.get(key)

    # --- status --------------------------------------------------------------------------
    @property
    def status(self):
        """(status, recorded): the record's own `status`, else what the first keys imply: a
        run without `status` wrote its JSON only after every validation passed."""
        s = self.data.get("status")
        if s in STATUSES:
            return s, True
        if self.data.get("validated") is True and self.kernels:
            return "valid", False
        if self.data.get("validated") is False:
            return "not validated", False
        return None, False

    @property
    def invalid(self):
        return self.status[0] == "invalid"

    @property
    def failure(self):
        """The failing check in one line, for an invalid run."""
        f = self.data.get("failure")
        if isinstance(f, dict):
            parts = []
            if f.get("kernel") is not None:
                parts.append(str(f["kernel"]).upper())
            if integer(f.get("root")) is not None:
                parts.append("root %d" % f["root"])
            if integer(f.get("search")) is not None:
                parts.append("(search %d)" % f["search"])
            if f.get("check") is not None:
                parts.append("check %s" % f["check"])
            head = " ".join(parts)
            msg = f.get("message")
            return "%s: %s" % (head, msg) if head and msg else head or msg or NOT_RECORDED
        if isinstance(f, str) and f:
            return f
        return NOT_RECORDED

    # --- what ran --------------------------------------------------------------------------
    @property
    def kernels(self):
        """Kernels with statistics, in the spec's order; none for an invalid run."""
        if self.data.get("status") == "invalid":
            return []
        return [k for k in KERNELS if isinstance(self.data.get(k), dict)]

    def kernel(self, k):
        sec = self.data.get(k)
        return sec if isinstance(sec, dict) and k in self.kernels else {}

    def teps(self, k, stat="harmonic_mean"):
        return number(self.kernel(k).get(stat + "_TEPS"))

    def validation_seconds(self, k):
        """Total seconds spent validating kernel k's searches; None when it did not validate."""
        vt = self.kernel(k).get("validate_time")
        if isinstance(vt, list) and vt and all(number(x) is not None for x in vt):
            return sum(vt)
        return None

    def search_seconds(self, k):
        t = self.kernel(k).get("time")
        if isinstance(t, list) and t and all(number(x) is not None for x in t):
            return sum(t)
        return None

    @property
    def nbfs(self):
        roots = self.data.get("roots")
        return len(roots) if isinstance(roots, list) else None

    # --- machine ---------------------------------------------------------------------------
    def _rank_objects(self):
        r = self.data.get("ranks")
        return [x for x in r if isinstance(x, dict)] if isinstance(r, list) else []

    @property
    def nranks(self):
        n = integer(self.data.get("num_mpi_processes"))
        if n is None and self._rank_objects():
            n = len(self._rank_objects())
        return n

    @property
    def threads(self):
        """Threads per rank: one int, or (min, max) when the ranks differ."""
        per = [integer(r.get("threads")) for r in self._rank_objects()]
        per = [t for t in per if t is not None]
        if per and min(per) != max(per):
            return (min(per), max(per))
        if per:
            return per[0]
        return integer(self.data.get("threads_per_rank"))

    @property
    def cores_used(self):
        """Threads over all ranks: the ranks objects' sum, else ranks x threads per rank."""
        per = [integer(r.get("threads")) for r in self._rank_objects()]
        if per and None not in per:
            return sum(per)
        t = integer(self.data.get("threads_per_rank"))
        return self.nranks * t if t is not None and self.nranks is not None else None

    @property
    def nodes(self):
        """(count, where it came from): the record's `nodes`, else its distinct hosts."""
        n = integer(self.data.get("nodes"))
        if n is not None:
            return n, None
        hosts = self.hosts
        if hosts:
            return len(hosts), "distinct hosts"
        return None, None

    @property
    def hosts(self):
        hosts = [r.get("host") for r in self._rank_objects() if isinstance(r.get("host"), str)]
        if not hosts and isinstance(self.data.get("hosts"), list):
            hosts = [h for h in self.data["hosts"] if isinstance(h, str)]
        return sorted(set(hosts))

    @property
    def peak_rss(self):
        """Per-rank peak RSS in bytes, in rank order (the ranks objects, else the old list)."""
        per = [number(r.get("peak_rss_bytes")) for r in self._rank_objects()]
        if not per or None in per:
            old = self.data.get("peak_rss_bytes")
            per = [number(x) for x in old] if isinstance(old, list) else []
        return [x for x in per if x is not None]

    @property
    def memory_estimate(self):
        """Largest per-node estimate in bytes (the key is an int or a list per node)."""
        m = self.data.get("memory_estimate_bytes")
        vals = [number(x) for x in (m if isinstance(m, list) else [m])]
        vals = [x for x in vals if x is not None]
        return max(vals) if vals else None

    @property
    def device(self):
        d = self.data.get("device")
        if isinstance(d, dict):       # tolerate {"device": "gpu", "gpus": [...]} nested
            d = d.get("device")
        return d if isinstance(d, str) else None

    @property
    def gpus(self):
        """Names of the GPUs searched on, when the record lists them."""
        g = self.data.get("gpus")
        if not isinstance(g, list):
            return []
        return sorted({str(x.get("name")) for x in g if isinstance(x, dict) and x.get("name")})

    # --- phases ----------------------------------------------------------------------------
    def phase_seconds(self):
        """{phase: seconds or None}: the untimed and timed phases a comparison shows."""
        audit = self.data.get("audit")
        out = {"start-up": number(self.data.get("startup_time")),
               "generation": number(self.data.get("graph_generation")),
               "construction": number(self.data.get("construction_time")),
               "audit": number(audit.get("time")) if isinstance(audit, dict) else None}
        for k in KERNELS:
            out[k + " searches"] = self.search_seconds(k)
            out[k + " validation"] = self.validation_seconds(k)
        return out

    @property
    def audit(self):
        a = self.data.get("audit")
        return a if isinstance(a, dict) else None

    # --- energy ----------------------------------------------------------------------------
    @property
    def energy(self):
        e = self.data.get("energy")
        return e if isinstance(e, dict) else None

    def energy_kernel(self, k):
        return dict_at(self.energy, "kernels", k)

    def external_meter(self):
        return dict_at(self.energy, "external_meter") or None

    def mteps_per_watt(self, k):
        """(value, source): the external meter's when one was joined, else the counters'."""
        if self.invalid:
            return None, None
        v = number(dict_at(self.external_meter(), "kernels", k).get("mteps_per_watt"))
        if v is not None:
            return v, "external meter"
        v = number(self.energy_kernel(k).get("mteps_per_watt"))
        method = dict_at(self.data, "energy").get("method")
        return (v, method if isinstance(method, str) else None) if v is not None else (None, None)

    def power_watts(self, k):
        """Average system power of the phase MTEPS/W uses (external meter first)."""
        if self.invalid:
            return None
        v = number(dict_at(self.external_meter(), "kernels", k).get("watts"))
        return v if v is not None else number(self.energy_kernel(k).get("power_W"))

    @property
    def idle_run(self):
        return bool(dict_at(self.energy, "phases", "idle"))

    @property
    def idle_watts(self):
        """Idle power: the external meter's when it covered the idle phase, else the counters'."""
        v = number(dict_at(self.external_meter(), "phases", "idle").get("watts"))
        return v if v is not None else number(dict_at(self.data, "energy").get("idle_W"))

    # --- software ----------------------------------------------------------------------------
    @property
    def versions(self):
        v = self.data.get("versions")
        return v if isinstance(v, dict) else {}


def fmt(x, digits=4, unit=""):
    """A number to `digits` significant digits, or "not recorded"."""
    if x is None:
        return NOT_RECORDED
    return ("%.*g" % (digits, x)) + (" " + unit if unit else "")


def mib(nbytes):
    return None if nbytes is None else nbytes / 2 ** 20
