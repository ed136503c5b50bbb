"""The JSON result record's own fields (docs/result-schema.md): what makes one file stand alone
as the record of a run: schema, version, times, command line, nodes, per-rank facts, CPU model,
validation status. The measurements themselves are assembled by the driver."""
import platform
import time

from .threads import rank_placement

SCHEMA = 2   # 1: the keys before these were added; 2: this record (keys only ever added)


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
