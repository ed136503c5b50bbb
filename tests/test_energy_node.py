"""Leader choice and the node override, as pure functions (no MPI)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph500.energy.node import NodeMapError, assign_nodes, parse_node_map, split_nodes


def test_parse_node_map():
    assert parse_node_map("0,0,1,1", 4) == [0, 0, 1, 1]
    assert parse_node_map(" 3,1,3 ", 3) == [3, 1, 3]
    assert parse_node_map("block:2", 5) == [0, 0, 1, 1, 2]
    for text, size in [("0,0,1", 4), ("0,a", 2), ("-1,0", 2), ("block:0", 2), ("block:x", 2)]:
        with pytest.raises(NodeMapError):
            parse_node_map(text, size)


@given(st.lists(st.integers(0, 5), min_size=1, max_size=40))
def test_assign_nodes_one_lowest_leader_per_node(keys):
    index, leaders = assign_nodes(keys)
    assert len(leaders) == len(set(keys)) and leaders == sorted(leaders)
    for node, leader in enumerate(leaders):
        members = [r for r in range(len(keys)) if index[r] == node]
        assert leader == min(members)                        # the lowest rank leads
        assert len({keys[r] for r in members}) == 1          # a node is one key
    assert set(index) == set(range(len(leaders)))
    for r, k in enumerate(keys):
        assert (index[r] == index[keys.index(k)])            # same key, same node


def test_no_comm_is_a_single_leader():
    info = split_nodes(None)
    assert (info.index, info.nnodes, info.is_leader, info.label) == (0, 1, True, "0")


def test_energy_never_imports_the_benchmark():
    import subprocess
    import sys
    code = ("import sys, energy, energy.join, energy.ipmi, energy.fakes; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('graph500', 'kernels')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   cwd=__file__.rsplit("/tests/", 1)[0])
