"""Count every MPI exchange: calls, and the bytes this rank sends to and receives from others.

`Counted(comm)` is an mpi4py Intracomm on the same MPI handle (a subclass, not a look-alike, so
isinstance checks, `py2f` and mpi4py functions that want a real communicator keep working) whose
communication methods add to a `Counter` and then call mpi4py's own. Sub-communicators made from
it (`Split`, `Split_type`, `Dup`, `Create`, `Create_group`, `Create_cart`, `Sub`) are counted
into the same Counter. Kernels keep calling `comm.X(...)` and never know they are counted.

What one call counts is its logical volume, the same whatever algorithm the MPI library picks,
and only bytes that cross between ranks (a rank's own block of an Alltoallv stays in memory):
- Alltoall(v): the blocks for the other ranks are sent, the blocks from them received.
- Allgather(v): a rank's block is sent to each of the P-1 others; the others' blocks received.
- Bcast, Scatter(v): the root sends each other rank its part; Gather(v): the reverse.
- Reductions (Allreduce, Reduce, Scan, Exscan, their lowercase forms): each rank counts its
  contribution once sent and once received. (A library moves about log2(P) such messages per
  rank, or two for large ones; that factor is the algorithm's, not the kernel's.)
- Reduce_scatter(_block): a rank sends the others' blocks of its contribution and receives its
  own block from each other rank.
- Point-to-point: the message, unless to or from the rank itself or PROC_NULL; a blocking
  receive counts what arrived (from its status); Irecv counts its buffer (what may arrive).
- Lowercase (pickle-based) calls: the pickled sizes (mpi4py's own pickler).
So summed over ranks, bytes sent equal bytes received for every phase (tests/test_traffic.py).
Barrier counts as a collective with no bytes. One lowercase call is one call, however many MPI
messages mpi4py makes of it.
"""
from contextlib import contextmanager

import numpy as np
from mpi4py import MPI

_NULL = MPI.PROC_NULL


class Traffic:
    """A snapshot of (or difference between snapshots of) a Counter."""
    __slots__ = ("collectives", "p2p", "sent", "received", "by_call")

    def __init__(self, collectives=0, p2p=0, sent=0, received=0, by_call=None):
        self.collectives, self.p2p, self.sent, self.received = collectives, p2p, sent, received
        self.by_call = by_call if by_call is not None else {}   # name -> (calls, sent, received)

    def __sub__(self, before):
        calls = {}
        for name, (n, s, r) in self.by_call.items():
            n0, s0, r0 = before.by_call.get(name, (0, 0, 0))
            if n != n0:
                calls[name] = (n - n0, s - s0, r - r0)
        return Traffic(self.collectives - before.collectives, self.p2p - before.p2p,
                       self.sent - before.sent, self.received - before.received, calls)

    def as_dict(self):
        return {"collectives": self.collectives, "p2p": self.p2p, "sent": self.sent,
                "received": self.received,
                "by_call": {k: list(v) for k, v in sorted(self.by_call.items())}}

    def __repr__(self):
        return "Traffic(%r)" % (self.as_dict(),)


class Counter:
    """Running totals of one rank's calls and bytes, shared by a communicator and its children."""

    def __init__(self):
        self.collectives = self.p2p = self.sent = self.received = 0
        self.by_call = {}     # name -> [calls, sent, received]

    def add(self, name, collective, sent, received):
        if collective:
            self.collectives += 1
        else:
            self.p2p += 1
        self.sent += sent
        self.received += received
        c = self.by_call.get(name)
        if c is None:
            self.by_call[name] = [1, sent, received]
        else:
            c[0] += 1
            c[1] += sent
            c[2] += received

    def snapshot(self):
        return Traffic(self.collectives, self.p2p, self.sent, self.received,
                       {k: tuple(v) for k, v in self.by_call.items()})


class Ledger:
    """One rank's traffic per named phase: `with ledger.count("bfs"): search()` records one
    Traffic per occurrence; `mean(name)` is the per-occurrence mean as a plain dict."""

    def __init__(self, counter):
        self.counter = counter
        self.phases = {}

    @contextmanager
    def count(self, phase):
        before = self.counter.snapshot()
        try:
            yield
        finally:
            self.phases.setdefault(phase, []).append(self.counter.snapshot() - before)

    def mean(self, phase):
        """{"n", "collectives", "p2p", "sent", "received", "by_call": {name: [calls, sent,
        received]}}, each the mean per occurrence of `phase`; None if it never happened."""
        got = self.phases.get(phase)
        if not got:
            return None
        n = len(got)
        calls = {}
        for t in got:
            for name, v in t.by_call.items():
                acc = calls.setdefault(name, [0, 0, 0])
                for i in range(3):
                    acc[i] += v[i]
        return {"n": n, "collectives": sum(t.collectives for t in got) / n,
                "p2p": sum(t.p2p for t in got) / n, "sent": sum(t.sent for t in got) / n,
                "received": sum(t.received for t in got) / n,
                "by_call": {k: [x / n for x in v] for k, v in sorted(calls.items())}}

    def summary(self):
        return {name: self.mean(name) for name in self.phases}


# --- mpi4py message specs -> bytes --------------------------------------------------------------

def _is_type(x):
    return isinstance(x, (MPI.Datatype, str))


def _typesize(t):
    return (t if isinstance(t, MPI.Datatype) else MPI.Datatype.fromcode(t)).extent


def _buffer(buf):
    """(bytes, item size) of a buffer object; (0, 1) for None and BOTTOM."""
    if buf is None or buf is MPI.BOTTOM:
        return 0, 1
    if isinstance(buf, np.ndarray):
        return buf.nbytes, buf.itemsize
    m = memoryview(buf)
    return m.nbytes, m.itemsize


def _unpack(spec, vector):
    """mpi4py's own reading of a message spec (msgbuffer.pxi): (buf, count(s), displ(s), type).
    2 items: [buf, type] or [buf, count]; 3: [buf, count, type]; 4: [buf, count, displ, type];
    count may be a (count, displ) pair (a tuple, or for simple messages also a list)."""
    if not isinstance(spec, (list, tuple)):
        return spec, None, None, None
    pair = tuple if vector else (tuple, list)
    n = len(spec)
    if n == 2:
        buf, count = spec
        if _is_type(count):
            return buf, None, None, count
        if isinstance(count, pair):
            return buf, count[0], count[1], None
        return buf, count, None, None
    if n == 3:
        buf, count, typ = spec
        if isinstance(count, pair):
            return buf, count[0], count[1], typ
        return buf, count, None, typ
    if n == 4:
        return spec
    raise ValueError("message: expecting 2 to 4 items")


def message_bytes(spec, blocks=1):
    """Bytes of one block of a simple message spec (`blocks` equal blocks when no count is
    given, as mpi4py divides the buffer of Gather's receive or Alltoall's send)."""
    buf, count, displ, typ = _unpack(spec, vector=False)
    nbytes, item = _buffer(buf)
    ext = _typesize(typ) if typ is not None else item
    if count is not None:
        return int(count) * ext
    if ext <= 0:
        return 0
    length = nbytes - (int(displ) * ext if displ is not None else 0)
    return (length // ext // blocks) * ext


def vector_counts(spec, blocks):
    """(counts per block, bytes per item) of a vector message spec; counts as given (an
    array or a sequence), or made up as mpi4py would (one count for all, or an even split)."""
    buf, counts, _, typ = _unpack(spec, vector=True)
    if typ is not None:
        ext = _typesize(typ)
        if counts is None:
            nbytes = _buffer(buf)[0]
    else:
        nbytes, ext = _buffer(buf)
    if counts is None:
        total = nbytes // ext if ext > 0 else 0
        q, rem = divmod(total, blocks)
        counts = [q + (i < rem) for i in range(blocks)]
    elif isinstance(counts, (int, np.integer)):
        counts = [int(counts)] * blocks
    return counts, ext


def vector_bytes(spec, blocks):
    """Bytes per block (an int64 array of `blocks`) of a vector message spec."""
    counts, ext = vector_counts(spec, blocks)
    return np.asarray(counts, dtype=np.int64)[:blocks] * ext


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _pickled(obj):
    return len(MPI.pickle.dumps(obj))


def _others(counts, ext, rank):
    """Bytes of the blocks of the other ranks (counts: an array or a sequence). Few NumPy
    calls: this runs on every exchange, inside the timed searches."""
    if isinstance(counts, np.ndarray):
        # a small array sums faster as Python ints than through NumPy's reduction
        total = sum(counts.tolist()) if len(counts) <= 256 else int(counts.sum())
    else:
        total = sum(counts)
    return (total - int(counts[rank])) * ext


# Each volume function returns (sent, received) for this rank, given the call's arguments,
# its result, the rank and the communicator size (P > 1: callers count P = 1 as no bytes).

def _v_alltoallv(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    rc = vector_counts(recv, p)
    sc = rc if send is MPI.IN_PLACE else vector_counts(send, p)
    return _others(*sc, r), _others(*rc, r)


def _v_alltoall(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    rb = message_bytes(recv, p)
    sb = rb if send is MPI.IN_PLACE else message_bytes(send, p)
    return (p - 1) * sb, (p - 1) * rb


def _v_allgatherv(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    counts, ext = vector_counts(recv, p)
    mine = int(counts[r]) * ext if send is MPI.IN_PLACE else message_bytes(send)
    return (p - 1) * mine, _others(counts, ext, r)


def _v_allgather(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    rb = message_bytes(recv, p)
    mine = rb if send is MPI.IN_PLACE else message_bytes(send)
    return (p - 1) * mine, (p - 1) * rb


def _root(args, kw, i):
    return _arg(args, kw, i, "root", 0)


def _v_gather(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    if r != _root(args, kw, 2):
        return message_bytes(send), 0
    return 0, (p - 1) * message_bytes(recv, p)


def _v_gatherv(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    if r != _root(args, kw, 2):
        return message_bytes(send), 0
    return 0, _others(*vector_counts(recv, p), r)


def _v_scatter(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    if r != _root(args, kw, 2):
        return 0, message_bytes(recv)
    return (p - 1) * message_bytes(send, p), 0


def _v_scatterv(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    if r != _root(args, kw, 2):
        return 0, message_bytes(recv)
    return _others(*vector_counts(send, p), r), 0


def _v_bcast(args, kw, res, r, p):
    n = message_bytes(_arg(args, kw, 0, "buf"))
    return ((p - 1) * n, 0) if r == _root(args, kw, 1) else (0, n)


def _v_reduction(args, kw, res, r, p):
    send = _arg(args, kw, 0, "sendbuf")
    n = message_bytes(_arg(args, kw, 1, "recvbuf") if send is MPI.IN_PLACE else send)
    return n, n


def _v_reduce_scatter_block(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    # IN_PLACE: the receive buffer holds all P blocks of the contribution
    b = message_bytes(recv, p) if send is MPI.IN_PLACE else message_bytes(recv)
    return (p - 1) * b, (p - 1) * b


def _v_reduce_scatter(args, kw, res, r, p):
    send, recv = _arg(args, kw, 0, "sendbuf"), _arg(args, kw, 1, "recvbuf")
    counts = _arg(args, kw, 2, "recvcounts")
    spec = recv if send is MPI.IN_PLACE or send is None else send
    buf, _, _, typ = _unpack(spec, vector=False)
    ext = _typesize(typ) if typ is not None else _buffer(buf)[1]
    if counts is None:          # mpi4py: equal blocks of the receive buffer
        b = message_bytes(recv)
        return (p - 1) * b, (p - 1) * b
    return _others(counts, ext, r), (p - 1) * int(counts[r]) * ext


def _v_none(args, kw, res, r, p):
    return 0, 0


def _v_send(args, kw, res, r, p):
    dest = _arg(args, kw, 1, "dest")
    return (0 if dest in (r, _NULL) else message_bytes(_arg(args, kw, 0, "buf"))), 0


def _v_irecv(args, kw, res, r, p):
    source = _arg(args, kw, 1, "source", MPI.ANY_SOURCE)
    return 0, (0 if source in (r, _NULL) else message_bytes(_arg(args, kw, 0, "buf")))


def _v_isend_obj(args, kw, res, r, p):
    dest = _arg(args, kw, 1, "dest")
    return (0 if dest in (r, _NULL) else _pickled(_arg(args, kw, 0, "obj"))), 0


def _v_bcast_obj(args, kw, res, r, p):
    if r == _root(args, kw, 1):
        return (p - 1) * _pickled(_arg(args, kw, 0, "obj")), 0
    return 0, _pickled(res)


def _v_gather_obj(args, kw, res, r, p):
    if r != _root(args, kw, 1):
        return _pickled(_arg(args, kw, 0, "sendobj")), 0
    return 0, sum(_pickled(x) for i, x in enumerate(res) if i != r)


def _v_scatter_obj(args, kw, res, r, p):
    if r != _root(args, kw, 1):
        return 0, _pickled(res)
    items = _arg(args, kw, 0, "sendobj")
    return sum(_pickled(x) for i, x in enumerate(items) if i != r), 0


def _v_allgather_obj(args, kw, res, r, p):
    return ((p - 1) * _pickled(_arg(args, kw, 0, "sendobj")),
            sum(_pickled(x) for i, x in enumerate(res) if i != r))


def _v_alltoall_obj(args, kw, res, r, p):
    items = _arg(args, kw, 0, "sendobj")
    return (sum(_pickled(x) for i, x in enumerate(items) if i != r),
            sum(_pickled(x) for i, x in enumerate(res) if i != r))


def _v_reduction_obj(args, kw, res, r, p):
    n = _pickled(_arg(args, kw, 0, "sendobj"))
    return n, n


# name -> (volume, collective?). The nonblocking and persistent collectives count as their
# blocking forms, when posted.
_VOLUME = {
    "Barrier": (_v_none, True), "Ibarrier": (_v_none, True),
    "Bcast": (_v_bcast, True), "Ibcast": (_v_bcast, True),
    "Gather": (_v_gather, True), "Igather": (_v_gather, True),
    "Gatherv": (_v_gatherv, True), "Igatherv": (_v_gatherv, True),
    "Scatter": (_v_scatter, True), "Iscatter": (_v_scatter, True),
    "Scatterv": (_v_scatterv, True), "Iscatterv": (_v_scatterv, True),
    "Allgather": (_v_allgather, True), "Iallgather": (_v_allgather, True),
    "Allgatherv": (_v_allgatherv, True), "Iallgatherv": (_v_allgatherv, True),
    "Alltoall": (_v_alltoall, True), "Ialltoall": (_v_alltoall, True),
    "Alltoallv": (_v_alltoallv, True), "Ialltoallv": (_v_alltoallv, True),
    "Reduce": (_v_reduction, True), "Ireduce": (_v_reduction, True),
    "Allreduce": (_v_reduction, True), "Iallreduce": (_v_reduction, True),
    "Scan": (_v_reduction, True), "Iscan": (_v_reduction, True),
    "Exscan": (_v_reduction, True), "Iexscan": (_v_reduction, True),
    "Reduce_scatter_block": (_v_reduce_scatter_block, True),
    "Ireduce_scatter_block": (_v_reduce_scatter_block, True),
    "Reduce_scatter": (_v_reduce_scatter, True), "Ireduce_scatter": (_v_reduce_scatter, True),
    "Send": (_v_send, False), "Ssend": (_v_send, False), "Bsend": (_v_send, False),
    "Rsend": (_v_send, False), "Isend": (_v_send, False), "Issend": (_v_send, False),
    "Irecv": (_v_irecv, False),
    "send": (_v_isend_obj, False), "ssend": (_v_isend_obj, False),
    "isend": (_v_isend_obj, False), "issend": (_v_isend_obj, False),
    "bcast": (_v_bcast_obj, True), "gather": (_v_gather_obj, True),
    "scatter": (_v_scatter_obj, True), "allgather": (_v_allgather_obj, True),
    "alltoall": (_v_alltoall_obj, True), "allreduce": (_v_reduction_obj, True),
    "reduce": (_v_reduction_obj, True), "scan": (_v_reduction_obj, True),
    "exscan": (_v_reduction_obj, True), "barrier": (_v_none, True),
}


def _counted_method(name, volume, collective):
    base = getattr(MPI.Intracomm, name)

    def method(self, *args, **kwargs):
        res = base(self, *args, **kwargs)
        p = self._size
        sent, received = volume(args, kwargs, res, self._rank, p) if p > 1 else (0, 0)
        self.counter.add(name, collective, sent, received)
        return res
    method.__name__ = method.__qualname__ = name
    method.__doc__ = "mpi4py's %s, counted (kernels/traffic.py)." % name
    return method


def _received(status, rank):
    """Bytes a completed receive got from another rank (0 from itself or PROC_NULL)."""
    if status.Get_source() in (rank, _NULL):
        return 0
    return status.Get_count(MPI.BYTE)


class _Counting:
    """The counted methods, mixed into the Intracomm and Cartcomm subclasses below."""

    def _adopt(self, counter):
        self.counter = counter
        self._rank = MPI.Comm.Get_rank(self)
        self._size = MPI.Comm.Get_size(self)
        return self

    # Receives whose size only the status knows: pass one to mpi4py when the caller did not.
    def Recv(self, buf, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=None):
        st = status if status is not None else MPI.Status()
        MPI.Intracomm.Recv(self, buf, source, tag, st)
        self.counter.add("Recv", False, 0, _received(st, self._rank))

    def Sendrecv(self, sendbuf, dest, sendtag=0, recvbuf=None, source=MPI.ANY_SOURCE,
                 recvtag=MPI.ANY_TAG, status=None):
        st = status if status is not None else MPI.Status()
        MPI.Intracomm.Sendrecv(self, sendbuf, dest, sendtag, recvbuf, source, recvtag, st)
        sent = 0 if dest in (self._rank, _NULL) else message_bytes(sendbuf)
        self.counter.add("Sendrecv", False, sent, _received(st, self._rank))

    def Sendrecv_replace(self, buf, dest, sendtag=0, source=MPI.ANY_SOURCE,
                         recvtag=MPI.ANY_TAG, status=None):
        st = status if status is not None else MPI.Status()
        sent = 0 if dest in (self._rank, _NULL) else message_bytes(buf)
        MPI.Intracomm.Sendrecv_replace(self, buf, dest, sendtag, source, recvtag, st)
        self.counter.add("Sendrecv_replace", False, sent, _received(st, self._rank))

    def recv(self, buf=None, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=None):
        st = status if status is not None else MPI.Status()
        obj = MPI.Intracomm.recv(self, buf, source, tag, st)
        self.counter.add("recv", False, 0, _received(st, self._rank))
        return obj

    def sendrecv(self, sendobj, dest, sendtag=0, recvbuf=None, source=MPI.ANY_SOURCE,
                 recvtag=MPI.ANY_TAG, status=None):
        st = status if status is not None else MPI.Status()
        obj = MPI.Intracomm.sendrecv(self, sendobj, dest, sendtag, recvbuf, source, recvtag, st)
        sent = 0 if dest in (self._rank, _NULL) else _pickled(sendobj)
        self.counter.add("sendrecv", False, sent, _received(st, self._rank))
        return obj

    # Communicators made from this one are counted into the same Counter.
    def Dup(self, *args, **kwargs):
        return wrap(MPI.Intracomm.Dup(self, *args, **kwargs), self.counter)

    def Split(self, color=0, key=0):
        return wrap(MPI.Intracomm.Split(self, color, key), self.counter)

    def Split_type(self, split_type, key=0, info=MPI.INFO_NULL):
        return wrap(MPI.Intracomm.Split_type(self, split_type, key, info), self.counter)

    def Create(self, group):
        return wrap(MPI.Intracomm.Create(self, group), self.counter)

    def Create_group(self, group, tag=0):
        return wrap(MPI.Intracomm.Create_group(self, group, tag), self.counter)

    def Create_cart(self, dims, periods=None, reorder=False):
        return wrap(MPI.Intracomm.Create_cart(self, dims, periods, reorder), self.counter)


for _name, (_volume, _collective) in _VOLUME.items():
    if hasattr(MPI.Intracomm, _name):
        setattr(_Counting, _name, _counted_method(_name, _volume, _collective))


class Counted(_Counting, MPI.Intracomm):
    """An intra-communicator whose exchanges are counted into `counter` (a new Counter unless
    given; wrapping a Counted shares its Counter). Same MPI handle as `comm`: nothing is
    duplicated, and freeing either frees both."""

    def __new__(cls, comm=None, counter=None):
        if comm is None:                    # mpi4py's own Dup makes type(self)() first
            return super().__new__(cls)
        self = super().__new__(cls, comm)
        return self._adopt(counter if counter is not None
                           else getattr(comm, "counter", None) or Counter())


class CountedCart(_Counting, MPI.Cartcomm):
    """A Cartesian communicator counted like Counted; its Sub grids share the Counter."""

    def __new__(cls, comm=None, counter=None):
        if comm is None:
            return super().__new__(cls)
        self = super().__new__(cls, comm)
        return self._adopt(counter if counter is not None
                           else getattr(comm, "counter", None) or Counter())

    def Sub(self, remain_dims):
        return wrap(MPI.Cartcomm.Sub(self, remain_dims), self.counter)


def wrap(comm, counter):
    """`comm` counted into `counter`: a Counted, or a CountedCart for a Cartesian one. The null
    communicator (Split's answer to MPI.UNDEFINED) and intercommunicators come back as they
    are, uncounted."""
    if comm == MPI.COMM_NULL:
        return comm
    if isinstance(comm, MPI.Cartcomm):
        return CountedCart(comm, counter)
    if isinstance(comm, MPI.Intracomm) and not isinstance(comm, MPI.Topocomm):
        return Counted(comm, counter)
    return comm
