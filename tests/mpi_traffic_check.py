"""Run under mpiexec -n P: every call form the traffic counter parses, once each on a Counted
world (and one on a sub-communicator), each case snapshotted alone. Rank 0 prints one JSON
object: {"size": P, "ranks": [{case: [sent, received, collectives, p2p]}, ...]}; the test
(tests/test_traffic.py) holds the hand-computed values."""
import json

import numpy as np
from mpi4py import MPI

from graph500.kernels.traffic import Counted

comm = Counted(MPI.COMM_WORLD)
r, p = comm.Get_rank(), comm.Get_size()
cases = {}


def case(name, fn):
    before = comm.counter.snapshot()
    fn()
    t = comm.counter.snapshot() - before
    cases[name] = [t.sent, t.received, t.collectives, t.p2p]


def disp(c):
    d = np.zeros(len(c), dtype=np.int64)
    np.cumsum(c[:-1], out=d[1:])
    return d


# Alltoallv: rank r sends 1 + j + 2r items to rank j (so receives 1 + r + 2s from rank s)
sc = np.array([1 + j + 2 * r for j in range(p)], dtype=np.int64)
rc = np.array([1 + r + 2 * s for s in range(p)], dtype=np.int64)
sb, rb = np.zeros(sc.sum(), np.int64), np.zeros(rc.sum(), np.int64)
case("alltoallv_pair", lambda: comm.Alltoallv([sb, (sc, disp(sc)), MPI.INT64_T],
                                              [rb, (rc, disp(rc)), MPI.INT64_T]))
case("alltoallv_four", lambda: comm.Alltoallv([sb, sc, disp(sc), MPI.INT64_T],
                                              [rb, rc, disp(rc), MPI.INT64_T]))
sf, rf = np.zeros(sc.sum(), np.float32), np.zeros(rc.sum(), np.float32)
case("alltoallv_untyped", lambda: comm.Alltoallv([sf, (sc, None)], [rf, (rc, None)]))
# Alltoall: 3 int32 per rank, plain arrays
case("alltoall", lambda: comm.Alltoall(np.zeros(3 * p, np.int32), np.zeros(3 * p, np.int32)))
# Allgatherv: rank s contributes s + 1 words
gc = np.arange(1, p + 1, dtype=np.int64)
gout = np.zeros(gc.sum(), np.uint64)
case("allgatherv", lambda: comm.Allgatherv([np.zeros(r + 1, np.uint64), MPI.UINT64_T],
                                           [gout, (gc, disp(gc)), MPI.UINT64_T]))
case("allgatherv_in_place", lambda: comm.Allgatherv(MPI.IN_PLACE,
                                                    [gout, (gc, disp(gc)), MPI.UINT64_T]))
case("allgather", lambda: comm.Allgather(np.zeros(5), np.zeros(5 * p)))
case("allreduce", lambda: comm.Allreduce(np.zeros(7, np.int64), np.zeros(7, np.int64),
                                         op=MPI.SUM))
case("allreduce_in_place", lambda: comm.Allreduce(MPI.IN_PLACE, np.zeros(3), op=MPI.MAX))
case("reduce", lambda: comm.Reduce(np.zeros(4, np.int32), np.zeros(4, np.int32), root=0))
# Bcast of 6 int16 out of a buffer of 10, root 1 % P
case("bcast", lambda: comm.Bcast([np.zeros(10, np.int16), 6, MPI.INT16_T], root=1 % p))
case("gather", lambda: comm.Gather(np.zeros(2, np.int64),
                                   np.zeros(2 * p, np.int64) if r == 0 else None, root=0))
case("gatherv", lambda: comm.Gatherv(np.zeros(r + 1, np.float32),
                                     [np.zeros(gc.sum(), np.float32), gc] if r == 0 else None,
                                     root=0))
case("scatter", lambda: comm.Scatter(np.zeros(3 * p, np.int32) if r == 0 else None,
                                     np.zeros(3, np.int32), root=0))
case("scatterv", lambda: comm.Scatterv([np.zeros(gc.sum(), np.float64), (gc, disp(gc))]
                                       if r == 0 else None, np.zeros(r + 1), root=0))
case("reduce_scatter_block", lambda: comm.Reduce_scatter_block(np.zeros(2 * p, np.int64),
                                                               np.zeros(2, np.int64)))
case("barrier", lambda: comm.Barrier())


def ring_send():
    # rank r sends 10 (r + 1) bytes to r + 1 and receives into a 1000-byte buffer
    big = np.zeros(1000, np.uint8)
    if r % 2 == 0:
        comm.Send(np.zeros(10 * (r + 1), np.uint8), dest=(r + 1) % p)
        comm.Recv(big, source=(r - 1) % p)
    else:
        comm.Recv(big, source=(r - 1) % p)
        comm.Send(np.zeros(10 * (r + 1), np.uint8), dest=(r + 1) % p)


if p % 2 == 0:     # the even/odd ring above needs an even P to be deadlock-free
    case("send_recv", ring_send)
case("sendrecv", lambda: comm.Sendrecv(np.zeros(r + 2, np.int64), dest=(r + 1) % p,
                                       recvbuf=np.zeros(100, np.int64), source=(r - 1) % p))
case("sendrecv_proc_null", lambda: comm.Sendrecv(np.zeros(4), dest=MPI.PROC_NULL,
                                                 recvbuf=np.zeros(4), source=MPI.PROC_NULL))
# lowercase (pickled) calls
case("allreduce_obj", lambda: comm.allreduce(r * 1000, op=MPI.SUM))
case("bcast_obj", lambda: comm.bcast("x" * 100 if r == 0 else None, root=0))
case("gather_obj", lambda: comm.gather(list(range(r)), root=0))
case("allgather_obj", lambda: comm.allgather({"rank": r}))


def obj_ring():
    if r % 2 == 0:
        comm.send(b"y" * (50 * r), dest=(r + 1) % p)
        comm.recv(source=(r - 1) % p)
    else:
        comm.recv(source=(r - 1) % p)
        comm.send(b"y" * (50 * r), dest=(r + 1) % p)


if p % 2 == 0:
    case("send_recv_obj", obj_ring)
# a sub-communicator counts into the same counter, with its own size and ranks
sub = comm.Split(r % 2, r)
case("split_allgather", lambda: sub.Allgather(np.zeros(1, np.int64),
                                              np.zeros(sub.Get_size(), np.int64)))

everyone = comm.gather(cases, root=0)
if r == 0:
    print(json.dumps({"size": p, "same_counter": sub.counter is comm.counter,
                      "is_comm": isinstance(sub, MPI.Intracomm), "ranks": everyone}))
