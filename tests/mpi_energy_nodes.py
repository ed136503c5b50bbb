"""Run under mpiexec by tests/test_energy_mpi.py: the monitor over a real communicator.

argv: OUT_DIR WATCH_DIR PLAN_JSON. Every rank records each path under WATCH_DIR (the fake sysfs
trees) that it opens or lists, by wrapping os.open, os.listdir, os.scandir and open before
energy is imported: that audit, not the monitor's own bookkeeping, shows which ranks touched a
counter. Rank 0 plays the hardware between the phase edges (with the unwrapped functions, so
its writes are not audited), then every rank writes its audit and rank 0 the result.
"""
import builtins
import json
import os
import sys

OUT, WATCH, PLAN = sys.argv[1], sys.argv[2], sys.argv[3]
audit = []
_open, _os_open, _listdir, _scandir = builtins.open, os.open, os.listdir, os.scandir


def _note(path):
    if not isinstance(path, int) and os.fspath(path).startswith(WATCH):
        audit.append(os.fspath(path))


def _wrap(fn):
    def wrapped(path, *a, **k):
        _note(path)
        return fn(path, *a, **k)
    return wrapped


builtins.open, os.open, os.listdir, os.scandir = (_wrap(_open), _wrap(_os_open),
                                                  _wrap(_listdir), _wrap(_scandir))

from mpi4py import MPI  # noqa: E402

from graph500 import energy  # noqa: E402


def write_raw(path, value):
    fd = _os_open(path, os.O_WRONLY)
    try:
        data = f"{value}\n".encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


comm = MPI.COMM_WORLD
rank = comm.Get_rank()
with _open(PLAN) as f:
    plan = json.load(f)

mon = energy.EnergyMonitor(comm, energy.EnergyConfig(nvml=False, interval=0.05))
mon.start()
comm.Barrier()
mon.begin("run")
comm.Barrier()
mon.begin("bfs")
comm.Barrier()  # every leader has read its begin edge before the "hardware" moves
if rank == 0:
    for path, value in plan["bumps"]:
        write_raw(path, value)
comm.Barrier()
mon.end("bfs")
comm.Barrier()
mon.end("run")
result = mon.finish(teps={"bfs": 1e9}, loop_teps={"bfs": None})

with _open(os.path.join(OUT, f"audit-{rank}.json"), "w") as f:
    json.dump({"rank": rank, "leader": mon.node.is_leader, "node": mon.node.index,
               "label": mon.node.label, "audit": audit}, f)
if rank == 0:
    with _open(os.path.join(OUT, "result.json"), "w") as f:
        json.dump({"energy": result, "lines": energy.report_lines(result)}, f)
