"""Numba's cache is keyed by the kernel sources (graph500/numba_cache.py): an edited helper
inlined from another file is picked up, a user's NUMBA_CACHE_DIR is respected, and with no
writable cache the run goes on uncached with a one-line warning."""
import os
import shutil
import subprocess
import sys

import pytest

from graph500 import numba_cache
from mpi_util import ROOT

# _route_counts (kernels/construct.py) inlines owner() from kernels/partition.py: Numba's own
# cache checks only construct.py's timestamp, so an edit of owner() alone went unnoticed.
SCRIPT = """
import sys
from graph500 import numba_cache
w = numba_cache.configure()
if w:
    sys.stderr.write("graph500: %s\\n" % w)
import numpy as np
from graph500.kernels.construct import _route_counts
src = np.arange(64, dtype=np.int32)
print(_route_counts(src, (src + 1) % 64, 4, 6, 0, 1)[0].tolist())   # 4 ranks, one chunk
"""
OWNER = "    return ((v >> shift) * nranks) >> (scale - shift)\n"


def copy_packages(dst, packages=("kernels", "graph500")):
    """The packages as installed: graph500/, with kernels/ and energy/ inside it."""
    for pkg in packages:
        to = dst / pkg if pkg == "graph500" else dst / "graph500" / pkg
        shutil.copytree(ROOT / pkg, to, ignore=shutil.ignore_patterns("__pycache__"),
                        dirs_exist_ok=True)
    (dst / "probe.py").write_text(SCRIPT)
    assert OWNER in (dst / "graph500" / "kernels" / "partition.py").read_text()


def run_probe(where, **env):
    e = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    e.update(PYTHONPATH=str(where), NUMBA_NUM_THREADS="1", **env)
    return subprocess.run([sys.executable, "probe.py"], cwd=str(where), env=e,
                          capture_output=True, text=True, timeout=600)


def test_edited_inline_helper_is_recompiled(tmp_path):
    copy_packages(tmp_path)
    cache = tmp_path / "cache"
    first = run_probe(tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "[32, 32, 32, 32]"
    assert len(list(cache.glob("graph500-*"))) == 1           # the user's folder, keyed

    part = tmp_path / "graph500" / "kernels" / "partition.py"
    construct = tmp_path / "graph500" / "kernels" / "construct.py"
    stamp = os.stat(construct).st_mtime_ns
    part.write_text(part.read_text().replace(OWNER, "    return v * 0\n"))
    assert os.stat(construct).st_mtime_ns == stamp             # only the helper changed
    second = run_probe(tmp_path, NUMBA_CACHE_DIR=str(cache))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[128, 0, 0, 0]"            # not the old machine code
    assert len(list(cache.glob("graph500-*"))) == 2


def test_hash_covers_every_source_file(tmp_path):
    copy_packages(tmp_path)
    before = numba_cache.source_hash(tmp_path)
    assert before == numba_cache.source_hash(tmp_path)
    with open(tmp_path / "graph500" / "spec.py", "a") as f:
        f.write("# a comment is an edit too\n")
    assert numba_cache.source_hash(tmp_path) != before


def test_default_folder_and_an_already_keyed_one(tmp_path):
    env = {"HOME": str(tmp_path)}
    paths, user = numba_cache.candidates("abc", env, root=tmp_path)
    assert not user and paths[0] == str(tmp_path / ".numba_cache" / "graph500-abc")
    paths, user = numba_cache.candidates("abc", {"NUMBA_CACHE_DIR": "/x/y"}, root=tmp_path)
    assert user and paths == ["/x/y/graph500-abc"]
    paths, _ = numba_cache.candidates("abc", {"NUMBA_CACHE_DIR": "/x/graph500-abc"})
    assert paths == ["/x/graph500-abc"]          # set by a parent run: not nested again


def unwritable(tmp_path):
    """As root, chmod cannot make a folder unwritable; a path under a regular file is."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    return blocker


def test_no_writable_cache_runs_uncached_with_a_warning(tmp_path):
    copy_packages(tmp_path)
    blocker = unwritable(tmp_path)
    (tmp_path / ".numba_cache").write_text("")          # the default folder cannot be made
    res = run_probe(tmp_path, XDG_CACHE_HOME=str(blocker / "cache"))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[32, 32, 32, 32]"
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "NUMBA_CACHE_DIR" in lines[0] and "warning" in lines[0], res.stderr
    assert not list(tmp_path.rglob("*.nbi"))            # nothing cached anywhere in the copy


def test_no_writable_cache_does_not_abort_the_cli(tmp_path):
    """Numba alone raised "no locator available" when the kernels were imported (no writable
    NUMBA_CACHE_DIR, __pycache__ or user cache); now the run gets past the imports, here to
    the memory preflight, which needs no compiled kernel."""
    copy_packages(tmp_path, ("kernels", "graph500", "energy"))
    blocker = unwritable(tmp_path)
    for pkg in ("graph500/kernels", "graph500", "graph500/energy"):
        shutil.rmtree(tmp_path / pkg / "__pycache__", ignore_errors=True)
        (tmp_path / pkg / "__pycache__").write_text("")     # Numba's in-tree cache
    e = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    e.update(PYTHONPATH=str(tmp_path), NUMBA_NUM_THREADS="1",
             NUMBA_CACHE_DIR=str(blocker / "cache"), XDG_CACHE_HOME=str(blocker / "xdg"))
    res = subprocess.run([sys.executable, "-m", "graph500", "-s", "36", "--kernels", "bfs"],
                         cwd=str(tmp_path),
                         env=e, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stderr
    warning, error = res.stderr.strip().splitlines()
    assert warning.startswith("graph500: warning: no writable Numba cache")
    assert "NUMBA_CACHE_DIR=%s is not writable" % (blocker / "cache") in warning
    assert error.startswith("graph500: error:") and "GiB" in error
