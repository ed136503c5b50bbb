"""RAPL through fake powercap trees: zone choice by name, no double counting, wraps, failures."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph500.energy import fakes
from graph500.energy.rapl import RaplSource, choose_domains, discover_zones, unwrap
from graph500.energy.source import SourceUnavailable
from graph500.energy.sysfs import FileReader

J = 1_000_000  # microjoules


def labels(src):
    return [d.label for d in src.domains if d.counted]


def test_single_socket_psys_counted_alone_mmio_never(tmp_path):
    fakes.single_socket(tmp_path, package=5 * J, dram=J, psys=9 * J, core=2 * J)
    src = RaplSource(str(tmp_path))
    assert labels(src) == ["psys"]
    notes = " | ".join(src.notes)
    assert "intel-rapl-mmio:0 (package-0) not added: repeats intel-rapl:0" in notes
    assert "(core) not added: inside package-0" in notes
    assert "(uncore) not added: inside package-0" in notes
    assert "package-0, dram(package-0) not added: inside psys" in notes
    src.read(0.0)
    for zone, value in [("intel-rapl:0", 15 * J), ("intel-rapl-mmio:0", 15 * J),
                        ("intel-rapl:0:0", 7 * J), ("intel-rapl:0:2", 3 * J), ("intel-rapl:1", 21 * J)]:
        fakes.set_energy(tmp_path, zone, value)
    assert src.read(1.0) == [12.0]  # psys only: not package + psys, not package twice


def test_single_socket_without_psys_is_package_plus_dram(tmp_path):
    fakes.single_socket(tmp_path, package=5 * J, dram=J, psys_zone=False)
    src = RaplSource(str(tmp_path))
    assert labels(src) == ["package-0", "dram(package-0)"]
    fakes.set_energy(tmp_path, "intel-rapl:0", 15 * J)
    fakes.set_energy(tmp_path, "intel-rapl-mmio:0", 15 * J)
    fakes.set_energy(tmp_path, "intel-rapl:0:0", 9 * J)
    fakes.set_energy(tmp_path, "intel-rapl:0:2", 3 * J)
    assert sum(src.read(1.0)) == pytest.approx(12.0)  # 10 package + 2 dram; core and mmio ignored
    assert src.method == "RAPL package+dram counters"


def test_two_sockets_zone_index_opposite_to_package_number(tmp_path):
    fakes.two_sockets_swapped(tmp_path)
    src = RaplSource(str(tmp_path))
    assert labels(src) == ["package-0", "dram(package-0)", "package-1", "dram(package-1)"]
    # zone intel-rapl:1 is package-0 and intel-rapl:0:0 is package-1's dram
    fakes.set_energy(tmp_path, "intel-rapl:1", 10 * J)
    fakes.set_energy(tmp_path, "intel-rapl:1:0", 1 * J)
    fakes.set_energy(tmp_path, "intel-rapl:0", 20 * J)
    fakes.set_energy(tmp_path, "intel-rapl:0:0", 2 * J)
    assert dict(zip(labels(src), src.read(1.0))) == {
        "package-0": 10.0, "dram(package-0)": 1.0, "package-1": 20.0, "dram(package-1)": 2.0}


def test_hexadecimal_zone_ids(tmp_path):
    # eleven sockets: zone "a" is the 11th; its dram subzone is "a:0", not zone 10 in decimal
    for i in range(11):
        fakes.powercap_zone(tmp_path, f"intel-rapl:{i:x}", f"package-{10 - i}")
    fakes.powercap_zone(tmp_path, "intel-rapl:a:0", "dram")
    fakes.powercap_zone(tmp_path, "intel-rapl:a:1", "core")
    zones = {z.dirname: z for z in discover_zones(str(tmp_path), FileReader())}
    assert zones["intel-rapl:a"].top == 10 and zones["intel-rapl:a:1"].sub == 1
    src = RaplSource(str(tmp_path))
    assert labels(src)[:3] == ["package-0", "dram(package-0)", "package-1"]
    assert labels(src)[-1] == "package-10"
    fakes.set_energy(tmp_path, "intel-rapl:a:0", 4 * J)
    assert dict(zip(labels(src), src.read(1.0)))["dram(package-0)"] == 4.0
    assert "DRAM of package-1 not measured: no dram zone" in src.not_measured


def test_nested_only_tree_is_found(tmp_path):
    # a root pointing at the device directory: subzones only inside their parent
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0")
    fakes.powercap_zone(tmp_path / "intel-rapl:0", "intel-rapl:0:0", "dram", 0)
    src = RaplSource(str(tmp_path))
    assert labels(src) == ["package-0", "dram(package-0)"]


def test_wrap_between_two_reads_is_exact(tmp_path):
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", fakes.MAX_RANGE_UJ - 1000)
    src = RaplSource(str(tmp_path))
    src.read(0.0)
    fakes.set_energy(tmp_path, "intel-rapl:0", 500)
    (joules,) = src.read(1.0)
    assert joules * J == pytest.approx(1000 + 1 + 500, abs=1e-6)  # up to max, the step to 0, then 500
    assert src.wraps == 1 and src.lost == 0
    assert unwrap(10, 5, None) == (None, False)
    assert unwrap(5, 10, 100) == (5, False)


def test_missing_max_energy_range_is_flagged_never_negative(tmp_path):
    fakes.powercap_zone(tmp_path, "intel-rapl:0", "package-0", 5 * J, max_range=None)
    src = RaplSource(str(tmp_path))
    assert any("max_energy_range_uj missing" in n for n in src.notes)
    fakes.set_energy(tmp_path, "intel-rapl:0", 7 * J)
    assert src.read(1.0) == [2.0]
    fakes.set_energy(tmp_path, "intel-rapl:0", 1 * J)  # went back: a wrap we cannot size
    assert src.read(2.0) == [2.0]
    assert src.lost == 1 and src.wraps == 0
    assert any("no max_energy_range_uj" in w and "unknown" in w for w in src.warnings)
    fakes.set_energy(tmp_path, "intel-rapl:0", 4 * J)
    assert src.read(3.0) == [5.0]


class DenyEnergy(FileReader):
    """Root can read any file, so a permission failure is injected instead of chmod'ed."""

    def read(self, path):
        if path.endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", path)
        return super().read(path)


def test_permission_denied_is_reported_with_the_fix(tmp_path):
    fakes.single_socket(tmp_path, psys_zone=False)
    with pytest.raises(SourceUnavailable) as e:
        RaplSource(str(tmp_path), DenyEnergy())
    text = str(e.value)
    assert "permission denied" in text and "energy_uj" in text
    assert f"sudo chmod a+r {tmp_path}/intel-rapl:*/energy_uj" in text and "run as root" in text


def test_no_powercap_directory(tmp_path):
    with pytest.raises(SourceUnavailable, match="no powercap directory"):
        RaplSource(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceUnavailable, match="no RAPL zones"):
        RaplSource(str(tmp_path / "empty"))


def test_choose_domains_mmio_only_package_is_used():
    from graph500.energy.rapl import Zone
    zones = [Zone("intel-rapl-mmio:0", "intel-rapl-mmio", 0, None, "package-0", "/x")]
    selected, notes, _ = choose_domains(zones)
    assert [label for label, _ in selected] == ["package-0"]


# -- property: a wrapping counter read at random safe intervals ---------------------------------
@settings(max_examples=60, deadline=None)
@given(
    segments=st.lists(st.tuples(st.floats(0.01, 5.0), st.floats(0.0, 400.0)), min_size=1, max_size=8),
    raw_range=st.integers(2_000, 5_000_000),
    unit=st.integers(1, 64),
    fractions=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=200),
)
def test_unwrapped_energy_matches_trace_within_one_unit_per_read(segments, raw_range, unit, fractions):
    """True energy E(t) from a piecewise-constant power trace; the counter shows
    floor(E/unit) mod raw_range units (like the MSR) scaled to uJ; reads are spaced so that less
    than one wrap fits between two. Reconstructed energy stays within one unit per read."""
    max_range = (raw_range - 1) * unit                # what max_energy_range_uj shows
    modulus_j = raw_range * unit / J
    p_max = max(max(w for _, w in segments), 1.0)
    safe_gap = 0.9 * modulus_j / p_max                # seconds in which less than a wrap passes

    edges = [0.0]
    for d, _ in segments:
        edges.append(edges[-1] + d)

    def energy_j(t):
        e = 0.0
        for (d, w), t0 in zip(segments, edges):
            e += w * min(max(t - t0, 0.0), d)
        return e + p_max * max(t - edges[-1], 0.0)   # keep drawing p_max after the trace

    now = {"t": 0.0}

    def counter():
        raw = math.floor(energy_j(now["t"]) * J / unit) % raw_range
        return str(raw * unit)

    reader = fakes.DictReader({"/pc/intel-rapl:0/name": "package-0",
                               "/pc/intel-rapl:0/max_energy_range_uj": str(max_range),
                               "/pc/intel-rapl:0/energy_uj": counter})
    src = RaplSource("/pc", reader)
    src.read(0.0)
    for f in fractions:
        now["t"] += f * safe_gap
        (got,) = src.read(now["t"])
    true = energy_j(now["t"])
    reads = len(fractions)
    assert src.wraps == math.floor(true * J / unit) // raw_range
    assert abs(got - true) * J <= unit * (1 + src.wraps) + 1e-6
    assert abs(got - true) * J <= unit * reads + 1e-6
