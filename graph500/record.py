"""The JSON result record's own fields (docs/result-schema.md): what makes one file stand alone
as the record of a run: schema, version, times, command line, nodes, per-rank facts, CPU model,
validation status. The measurements themselves are assembled by the driver."""
import platform
import time

from .threads import rank_placement

SCHEMA = 4   # 1: the record before `schema`; 2: `schema` and the keys up to it; 3: + `layout`, `grid`,
             # the `comm` objects and the GPU ranks' MPI path; 4: + `omp_wait_policy`
             # (keys only ever added: a reader of 2 reads 4)


def iso_utc(epoch):
    """ISO 8601 in UTC to the second, e.g. 2026-11-28T08:30:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def cpu_model():
    """The first "model name" of /proc/cpuinfo, else what the platform says, else None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def ranks(comm, threads, peak_rss_bytes):
    """Collective: on rank 0, one object per rank in rank order; None elsewhere. Where a rank
    runs (host, affinity, threads) is graph500/threads.py's to say."""
    mine = dict(rank_placement(threads), peak_rss_bytes=int(peak_rss_bytes))
    everyone = comm.gather(mine, root=0)
    if everyone is None:
        return None
    return [dict(rank=r, **d) for r, d in enumerate(everyone)]


def count_nodes(comm, local):
    """Shared-memory nodes in the job (the communicator split the run itself uses)."""
    return comm.allreduce(1 if local.Get_rank() == 0 else 0)


def failure(kernel, root, search, check, message):
    return {"kernel": kernel, "root": int(root), "search": int(search),
            "check": None if check is None else int(check), "message": message}


def status(validated, failed):
    if failed:
        return "invalid"
    return "valid" if validated else "not validated"


# --- communication volume (kernels/traffic.py counts it; the driver's Ledger splits it by phase)

COMM_COUNTED = ("per rank: bytes this rank sent to and received from other ranks, and its MPI "
                "calls, as kernels/traffic.py counts them (logical volume: a reduction counts "
                "its contribution once each way); mean and max over ranks")


def _over_ranks(values):
    return {"mean": sum(values) / len(values), "max": max(values)}


def comm_object(per_rank, unit=None, plural=None):
    """One `comm` object from each rank's Ledger.mean(phase) (rank order), or None when some
    rank never ran the phase. With a unit ("search") the keys say per what they are
    (`bytes_received_per_search`) and `plural` (`searches`) holds how many were averaged."""
    if not per_rank or any(d is None for d in per_rank):
        return None
    sfx = "_per_" + unit if unit else ""
    out = {"bytes_received" + sfx: _over_ranks([d["received"] for d in per_rank]),
           "bytes_sent" + sfx: _over_ranks([d["sent"] for d in per_rank]),
           "collectives" + sfx: sum(d["collectives"] for d in per_rank) / len(per_rank),
           "point_to_point" + sfx: sum(d["p2p"] for d in per_rank) / len(per_rank)}
    if plural:
        out[plural] = per_rank[0]["n"]
    calls = {}
    for name in sorted({k for d in per_rank for k in d["by_call"]}):
        got = [d["by_call"].get(name, (0, 0, 0)) for d in per_rank]
        calls[name] = {"calls" + sfx: sum(g[0] for g in got) / len(got),
                       "bytes_received" + sfx: _over_ranks([g[2] for g in got]),
                       "bytes_sent" + sfx: _over_ranks([g[1] for g in got])}
    out["by_call"] = calls
    return out


def add_comm(result, per_rank):
    """Put the `comm` objects into the result (docs/result-schema.md): under each kernel that
    ran, its searches and (`validation`) its validations; Kernel 1 and its audit under the
    top-level `comm`. `per_rank` is every rank's Ledger.summary(), in rank order."""
    def phase(name, unit=None, plural=None):
        return comm_object([d.get(name) for d in per_rank], unit, plural)
    top = {"counted": COMM_COUNTED, "ranks": len(per_rank)}
    for name in ("construction", "audit"):
        obj = phase(name)
        if obj is not None:
            top[name] = obj
    result["comm"] = top
    for kernel in ("bfs", "sssp"):
        if isinstance(result.get(kernel), dict):
            obj = phase(kernel, "search", "searches")
            if obj is not None:
                val = phase(kernel + " validation", "validation", "validations")
                if val is not None:
                    obj["validation"] = val
                result[kernel]["comm"] = obj
