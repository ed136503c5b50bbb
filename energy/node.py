"""Which ranks share a node, and which one of them reads the node's meters.

One meter per node: the node's lowest world rank (local rank 0 of
`comm.Split_type(MPI.COMM_TYPE_SHARED)`) is the leader and the only rank that opens counters;
node energies are later summed over leaders. Every other rank on the node would read the same
counters, so letting each rank measure multiplies the total by ranks-per-node.

For tests, GRAPH500_ENERGY_NODES overrides the grouping so that one machine can act as several
nodes: either a rank->node list ("0,0,1,1": ranks 0-1 on node 0, ranks 2-3 on node 1) or
"block:K" (K consecutive ranks per node). The node's id then fills the `{node}` placeholder of
the sysfs roots, so each fake node reads its own tree.
"""
import os
import socket
from dataclasses import dataclass, field
from typing import List, Optional

ENV_NODES = "GRAPH500_ENERGY_NODES"


class NodeMapError(ValueError):
    pass


def parse_node_map(text, size):
    """Node id per rank from the override text; NodeMapError on bad text or length."""
    text = text.strip()
    if text.startswith("block:"):
        try:
            k = int(text[len("block:"):])
        except ValueError:
            raise NodeMapError(f"{ENV_NODES}={text!r}: block:K needs an integer K") from None
        if k < 1:
            raise NodeMapError(f"{ENV_NODES}={text!r}: K must be >= 1")
        return [r // k for r in range(size)]
    try:
        ids = [int(x) for x in text.split(",")]
    except ValueError:
        raise NodeMapError(f"{ENV_NODES}={text!r}: expected node ids like 0,0,1,1 or block:K") from None
    if len(ids) != size:
        raise NodeMapError(f"{ENV_NODES} lists {len(ids)} ranks but the run has {size}")
    if min(ids) < 0:
        raise NodeMapError(f"{ENV_NODES}: node ids must be >= 0")
    return ids


def assign_nodes(keys):
    """From one key per rank (host, node id, leader rank): (node index per rank, leader ranks).

    The leader of a node is its lowest rank; nodes are numbered in the order of their leaders.
    """
    leader_of = {}
    for rank, key in enumerate(keys):
        leader_of.setdefault(key, rank)
    leaders = sorted(leader_of.values())
    index_of_leader = {r: i for i, r in enumerate(leaders)}
    return [index_of_leader[leader_of[k]] for k in keys], leaders


@dataclass
class NodeInfo:
    index: int = 0                    # 0..nnodes-1, in leader-rank order
    label: str = "0"                  # fills {node}: the override's id, else the index
    nnodes: int = 1
    is_leader: bool = True
    host: str = field(default_factory=socket.gethostname)
    leaders: List[int] = field(default_factory=lambda: [0])
    override: Optional[str] = None    # the override text, when one was used
    node_comm: object = None


def split_nodes(comm, node_map=None):
    """Collective: this rank's NodeInfo. comm None means a single process without MPI."""
    if comm is None:
        return NodeInfo()
    from mpi4py import MPI
    rank, size = comm.Get_rank(), comm.Get_size()
    text = node_map if node_map is not None else os.environ.get(ENV_NODES)
    if text:
        ids = parse_node_map(text, size)  # same text on all ranks: all raise together
        node_comm = comm.Split(ids[rank], rank)
        label = str(ids[rank])
    else:
        node_comm = comm.Split_type(MPI.COMM_TYPE_SHARED, key=rank)
        label = None
    leader_rank = node_comm.bcast(rank, root=0)
    index_per_rank, leaders = assign_nodes(comm.allgather(leader_rank))
    index = index_per_rank[rank]
    return NodeInfo(index=index, label=label if label is not None else str(index),
                    nnodes=len(leaders), is_leader=(leader_rank == rank),
                    host=MPI.Get_processor_name(), leaders=leaders,
                    override=text or None, node_comm=node_comm)
