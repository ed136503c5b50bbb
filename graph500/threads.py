"""Numba threads per rank: the default share of the cores, the oversubscription warning, and
what the JSON records about each rank's placement.

A launcher that binds ranks decides which cores each may use (its affinity mask). Ranks whose
masks overlap compete for the same cores, so the default gives each group of overlapping ranks
the cores of the union of their masks, divided among them: k ranks sharing one mask of c cores
get c // k threads each, the first c % k of them (in local-rank order) one more. A rank bound
to cores nobody else on the node uses gets its whole mask. Masks are compared only among the
ranks of one node (they name that node's CPUs).
"""
import os
import socket


def affinity():
    """This process's allowed CPU ids (sorted list), or None where the OS does not say."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _mask(m):
    """A mask as a set; None (unknown) means every CPU of the node."""
    return set(m) if m is not None else set(range(os.cpu_count() or 1))


def _groups(masks):
    """Local rank indices grouped by overlapping masks (connected components), each in
    local-rank order, with the union of the group's masks."""
    sets = [_mask(m) for m in masks]
    seen = [False] * len(sets)
    groups = []
    for i in range(len(sets)):
        if seen[i]:
            continue
        seen[i] = True
        members, cores, todo = [i], set(sets[i]), [i]
        while todo:
            a = todo.pop()
            for b in range(len(sets)):
                if not seen[b] and sets[a] & sets[b]:
                    seen[b] = True
                    members.append(b)
                    cores |= sets[b]
                    todo.append(b)
        groups.append((sorted(members), cores))
    return groups


def default_threads(masks, me):
    """Default thread count of local rank `me`, given every local rank's mask (list of CPU id
    lists, None for unknown) in local-rank order."""
    for members, cores in _groups(masks):
        if me in members:
            k, c = len(members), len(cores)
            share = c // k + (1 if members.index(me) < c % k else 0)
            # Never more threads than this rank's own mask holds (a small mask overlapping a
            # big one), and never fewer than one.
            return max(1, min(share, len(_mask(masks[me]))))
    raise ValueError("rank %d not among %d masks" % (me, len(masks)))


def node_mismatch(masks, threads):
    """(threads on the node, cores the node's ranks may use) when they differ, else None."""
    cores = set()
    for m in masks:
        cores |= _mask(m)
    total = sum(threads)
    return None if total == len(cores) else (total, len(cores))


# libgomp (Numba's "omp" layer) lets an idle thread spin between parallel regions, up to
# about 300k iterations when the process's team fits its own affinity mask. On a node with
# more threads than allowed cores that spinning takes the core another rank needs: SSSP at
# 2 ranks x 2 threads on 2 cores spent 40x the CPU per search of 1 or 3 threads
# (bench/sssp_thread_count_cost.py; 0.04 s with the idle threads asleep). Such a node gets
# OMP_WAIT_POLICY=PASSIVE, unless the user set a policy.
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"


def idle_policy(oversubscribed, environ=os.environ):
    """Puts idle OpenMP threads to sleep on an oversubscribed node, unless the user chose a
    policy. Must run before Numba starts its threads (libgomp reads the variable once, when
    it loads). Returns the policy in force (None: the library's default)."""
    if oversubscribed and not environ.get(WAIT_POLICY_ENV):
        environ[WAIT_POLICY_ENV] = "PASSIVE"
    return environ.get(WAIT_POLICY_ENV) or None


def choose_threads(explicit, local, limit):
    """Collective over the node communicator `local`. Returns (threads for this rank, a
    one-line warning to print or None). `explicit` is --threads (None: the default share);
    `limit` is the most Numba's pool allows (numba.config.NUMBA_NUM_THREADS). The warning is
    returned on local rank 0 only, so each node reports once. On a node with more threads
    than allowed cores, idle threads are set to sleep (idle_policy)."""
    masks = local.allgather(affinity())
    me = local.Get_rank()
    want = explicit if explicit is not None else default_threads(masks, me)
    threads = max(1, min(want, limit))
    counts = local.allgather(threads)
    warning = None
    bad = node_mismatch(masks, counts)
    idle_policy(bad is not None and bad[0] > bad[1])
    if me == 0 and bad is not None:
        warning = ("graph500: warning: %s: %d ranks run %d threads in all on %d allowed cores "
                   "(see README, On a cluster)" % (socket.gethostname(), len(masks), bad[0], bad[1]))
    return threads, warning


def rank_placement(threads):
    """This rank's entry for the JSON's per-rank list: {"host", "affinity", "threads"}."""
    return {"host": socket.gethostname(), "affinity": affinity(), "threads": int(threads)}


def threading_layer():
    """The Numba threading layer in use (known once a parallel kernel has run), or None."""
    import numba
    try:
        return numba.threading_layer()
    except ValueError:
        return None
