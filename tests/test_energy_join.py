"""energy-join: a synthetic wall-meter log whose power is known per phase, joined with a result."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from graph500.energy.join import main

T0 = 1_700_000_000.0
# (phase, start offset s, end offset s, watts): back to back, "run" encloses them
PLAN = [("idle", 0.0, 70.0, 100.0), ("construction", 70.0, 70.5, 180.0),
        ("bfs", 70.5, 75.5, 300.0), ("validation", 75.5, 78.5, 150.0),
        ("bfs", 78.5, 83.5, 300.0), ("energy_loop_bfs", 83.5, 148.5, 280.0)]
EXPECTED = {"idle": 7000.0, "construction": 90.0, "bfs": 3000.0, "validation": 450.0,
            "energy_loop_bfs": 65 * 280.0}


def power_at(t):
    for _, a, b, w in PLAN:
        if a <= t - T0 < b:
            return w
    return 90.0


def write_result(path, teps=2.8e9):
    intervals = {}
    for name, a, b, _ in PLAN:
        intervals.setdefault(name, []).append([T0 + a, T0 + b])
    intervals["run"] = [[T0 + 0.0, T0 + 148.5]]
    data = {"graph500": {"SCALE": 10},
            "energy": {"method": "none", "intervals": intervals,
                       "kernels": {"bfs": {"teps": teps}}}}
    path.write_text(json.dumps(data))
    return data


def meter_times(period=0.1, start=-2.0, end=152.0):
    # samples fall between phase edges (offset 0.05 s), as an independent meter's would
    n = int((end - start) / period)
    return [T0 + start + 0.05 + i * period for i in range(n)]


def write_meter(path, fmt="epoch", kind="power", period=0.1, start=-2.0):
    lines = ["time,watts,joules"]
    e = 0.0
    times = meter_times(period, start)
    prev = None
    for t in times:
        if prev is not None:
            e += power_at(prev) * (t - prev)  # exact for the step function sampled at these instants
        prev = t
        if fmt == "epoch":
            stamp = f"{t:.3f}"
        elif fmt == "iso":
            stamp = datetime.fromtimestamp(t, timezone(timedelta(hours=2))).isoformat()
        else:  # naive ISO, UTC wall time
            stamp = datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None).isoformat()
        lines.append(f"{stamp},{power_at(t)},{e:.6f}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def files(tmp_path):
    result = tmp_path / "result.json"
    write_result(result)
    return tmp_path, result


def joined(path):
    return json.loads(path.read_text())["energy"]["external_meter"]


@pytest.mark.parametrize("fmt, extra", [("epoch", []), ("iso", ["--time-format", "iso"]),
                                        ("naive", ["--naive-tz", "utc"])])
def test_phase_energies_within_one_percent(files, fmt, extra, capsys):
    tmp, result = files
    meter = tmp / "meter.csv"
    write_meter(meter, "iso" if fmt == "iso" else fmt)
    before = result.read_text()
    assert main([str(result), str(meter), "--power-col", "watts", "--time-col", "time"] + extra) == 0
    out = tmp / "result.joined.json"
    assert result.read_text() == before  # the run's own record is untouched
    j = joined(out)
    assert j["method"] == "external meter"
    for name, joules in EXPECTED.items():
        assert j["phases"][name]["joules"] == pytest.approx(joules, rel=0.01), name
    assert j["phases"]["bfs"]["count"] == 2 and j["phases"]["bfs"]["seconds"] == pytest.approx(10.0)
    assert j["phases"]["energy_loop_bfs"]["watts"] == pytest.approx(280.0, rel=0.01)
    # MTEPS/W from the loop's steady power, not from the short bfs phase
    assert j["kernels"]["bfs"]["power_phase"] == "energy_loop_bfs"
    assert j["mteps_per_watt"]["bfs"] == pytest.approx(2.8e9 / 1e6 / 280.0, rel=0.01)
    assert "wrote" in capsys.readouterr().out


def test_short_phase_and_few_readings_flagged(files):
    tmp, result = files
    write_meter(tmp / "meter.csv")
    assert main([str(result), str(tmp / "meter.csv"), "-o", str(tmp / "out.json")]) == 0
    phases = joined(tmp / "out.json")["phases"]
    assert "shorter than 60 s (EEHPC)" in phases["bfs"]["flags"]
    assert not any("fewer" in f for f in phases["bfs"]["flags"])           # 100 readings
    assert "fewer than 10 meter readings (EEHPC)" in phases["construction"]["flags"]  # 5 readings
    assert phases["idle"]["flags"] == [] and phases["energy_loop_bfs"]["flags"] == []


def test_energy_column_and_slow_meter(files):
    tmp, result = files
    write_meter(tmp / "meter.csv", period=2.0)
    assert main([str(result), str(tmp / "meter.csv"), "--energy-col", "joules"]) == 0
    j = joined(tmp / "result.joined.json")
    assert j["phases"]["idle"]["joules"] == pytest.approx(7000.0, rel=0.01)
    assert j["phases"]["energy_loop_bfs"]["joules"] == pytest.approx(65 * 280.0, rel=0.01)
    assert any("slower than the EEHPC 1 Hz" in f for f in j["flags"])


def test_meter_not_covering_a_phase_gives_null(files):
    tmp, result = files
    write_meter(tmp / "meter.csv", start=50.0)
    assert main([str(result), str(tmp / "meter.csv")]) == 0
    j = joined(tmp / "result.joined.json")
    assert j["phases"]["idle"]["joules"] is None
    assert any("does not cover" in f for f in j["phases"]["idle"]["flags"])
    assert j["phases"]["bfs"]["joules"] == pytest.approx(3000.0, rel=0.01)


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("graph500 energy-join: error: ")
    return err


@pytest.mark.parametrize("case", ["missing_meter", "bad_json", "no_energy", "bad_column",
                                  "bad_time", "bad_number", "backwards", "same_output", "bad_option"])
def test_bad_input_exits_2_with_one_line(files, capsys, case):
    tmp, result = files
    meter = tmp / "meter.csv"
    write_meter(meter)
    args = [str(result), str(meter)]
    if case == "missing_meter":
        args[1] = str(tmp / "nope.csv")
    elif case == "bad_json":
        result.write_text("{not json")
    elif case == "no_energy":
        result.write_text(json.dumps({"graph500": {}}))
    elif case == "bad_column":
        args += ["--power-col", "volts"]
    elif case == "bad_time":
        meter.write_text("time,watts\nyesterday,100\nlater,100\n")
    elif case == "bad_number":
        meter.write_text(f"time,watts\n{T0},100\n{T0 + 1},N/A\n")
    elif case == "backwards":
        meter.write_text(f"time,watts\n{T0 + 5},100\n{T0 + 1},100\n")
    elif case == "same_output":
        args += ["-o", str(result)]
    elif case == "bad_option":
        args += ["--time-format", "julian"]
    assert main(args) == 2
    one_line_error(capsys)
    assert not (tmp / "result.joined.json").exists()


# -- issue 11: offsets, field types, reversed intervals, impossible readings, odd files -----------
def shifted_meter(path, shift, period=0.1):
    """The meter's clock runs `shift` seconds behind the run's: its stamps are t - shift."""
    lines = ["time,watts"]
    for t in meter_times(period):
        lines.append(f"{t - shift:.3f},{power_at(t)}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("shift", [0.35, 3.0, 37.5, -0.35, -3.0, -37.5])
def test_time_offset_of_several_periods_either_sign(files, shift):
    tmp, result = files
    shifted_meter(tmp / "meter.csv", shift)
    out = tmp / "out.json"
    assert main([str(result), str(tmp / "meter.csv"), "--time-offset", str(shift), "-o", str(out)]) == 0
    phases = joined(out)["phases"]
    for name, joules in EXPECTED.items():
        assert phases[name]["joules"] == pytest.approx(joules, rel=0.01), name


def test_time_offset_is_needed_the_unshifted_log_is_off(files):
    tmp, result = files
    shifted_meter(tmp / "meter.csv", 37.5)
    out = tmp / "out.json"
    assert main([str(result), str(tmp / "meter.csv"), "-o", str(out)]) == 0
    assert joined(out)["phases"]["bfs"]["joules"] != pytest.approx(3000.0, rel=0.01)


@pytest.mark.parametrize("case", ["kernels_list", "kernel_str", "teps_str", "teps_nan", "reversed",
                                  "interval_str", "offset_inf", "offset_nan", "max_watts_zero",
                                  "dev_zero_meter", "dir_meter", "only_nan"])
def test_more_bad_input_exits_2_before_writing(files, capsys, case):
    tmp, result = files
    meter = tmp / "meter.csv"
    write_meter(meter)
    data = json.loads(result.read_text())
    args = [str(result), str(meter)]
    if case == "kernels_list":
        data["energy"]["kernels"] = ["bfs"]
    elif case == "kernel_str":
        data["energy"]["kernels"] = {"bfs": "fast"}
    elif case == "teps_str":
        data["energy"]["kernels"]["bfs"]["teps"] = "2.8e9"
    elif case == "teps_nan":
        result.write_text(json.dumps(data).replace('"teps": 2800000000.0', '"teps": NaN'))
    elif case == "reversed":
        data["energy"]["intervals"]["bfs"][1] = [T0 + 83.5, T0 + 78.5]
    elif case == "interval_str":
        data["energy"]["intervals"]["bfs"] = "70-75"
    elif case == "offset_inf":
        args += ["--time-offset", "inf"]
    elif case == "offset_nan":
        args += ["--time-offset", "nan"]
    elif case == "max_watts_zero":
        args += ["--max-watts", "0"]
    elif case == "dev_zero_meter":
        args[1] = "/dev/zero"
    elif case == "dir_meter":
        args[1] = str(tmp)
    elif case == "only_nan":
        meter.write_text(f"time,watts\n{T0},nan\n{T0 + 1},inf\n{T0 + 2},-5\n")
    if case != "teps_nan" and case.split("_")[0] not in ("offset", "max", "dev", "dir", "only"):
        result.write_text(json.dumps(data))
    assert main(args) == 2
    err = one_line_error(capsys)
    assert not (tmp / "result.joined.json").exists()
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")]  # no temporary file either
    if case == "reversed":
        assert "ends before it starts" in err
    if case == "kernels_list":
        assert "`kernels` must be an object" in err
    if case == "dev_zero_meter":
        assert "not a regular file" in err


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "-140", "1e12"])
def test_impossible_power_readings_are_rejected_and_counted(files, bad):
    tmp, result = files
    write_meter(tmp / "meter.csv")
    lines = (tmp / "meter.csv").read_text().splitlines()
    # three readings inside the second bfs interval (78.5 .. 83.5 s after T0) go bad
    idx = [i for i, line in enumerate(lines[1:], 1)
           if 80.0 < float(line.split(",")[0]) - T0 < 80.3]
    assert len(idx) == 3
    for i in idx:
        t, _, e = lines[i].split(",")
        lines[i] = f"{t},{bad},{e}"
    (tmp / "meter.csv").write_text("\n".join(lines) + "\n")
    out = tmp / "out.json"
    assert main([str(result), str(tmp / "meter.csv"), "--power-col", "watts", "-o", str(out)]) == 0
    text = out.read_text()
    assert "NaN" not in text and "Infinity" not in text
    j = json.loads(text)["energy"]["external_meter"]
    assert j["rejected_readings"] == 3
    bfs = j["phases"]["bfs"]
    assert bfs["rejected_readings"] == 3 and any("rejected" in f for f in bfs["flags"])
    assert bfs["joules"] == pytest.approx(3000.0, rel=0.01)  # bridged over, never negative or huge
    assert j["phases"]["idle"]["rejected_readings"] == 0
    # MTEPS/W comes from the energy loop, which the bad readings do not touch
    assert j["mteps_per_watt"]["bfs"] == pytest.approx(2.8e9 / 1e6 / 280.0, rel=0.01)


def test_rejected_readings_in_the_power_phase_withhold_mteps(files, capsys):
    tmp, result = files
    write_meter(tmp / "meter.csv")
    lines = (tmp / "meter.csv").read_text().splitlines()
    i = next(i for i, line in enumerate(lines[1:], 1) if float(line.split(",")[0]) - T0 > 100)
    t, _, e = lines[i].split(",")
    lines[i] = f"{t},nan,{e}"
    (tmp / "meter.csv").write_text("\n".join(lines) + "\n")
    out = tmp / "out.json"
    assert main([str(result), str(tmp / "meter.csv"), "--power-col", "watts", "-o", str(out)]) == 0
    j = json.loads(out.read_text())["energy"]["external_meter"]
    assert j["mteps_per_watt"]["bfs"] is None
    assert "rejected" in j["kernels"]["bfs"]["reason"]
    assert "MTEPS_per_W (external meter, power from energy_loop_bfs): not measured (" \
        in capsys.readouterr().out


def test_fifo_as_meter_log_is_refused_not_waited_on(files, tmp_path):
    import os
    import subprocess
    import sys
    tmp, result = files
    fifo = tmp / "meter.fifo"
    os.mkfifo(fifo)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = subprocess.run([sys.executable, "-m", "graph500.energy.join", str(result), str(fifo)],
                         capture_output=True, text=True, timeout=60, cwd=repo)
    assert res.returncode == 2
    assert "not a regular file but a FIFO" in res.stderr and len(res.stderr.splitlines()) == 1
