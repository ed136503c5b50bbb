"""Where Numba keeps the compiled kernels: a folder keyed by a hash of the kernel sources.

Numba's own cache checks only the timestamp and size of the file that holds the decorated
function. A helper compiled into it from another file (kernels/partition.py `owner`, inlined
everywhere) can change without that file changing, and the old machine code then runs on. So
the cache lives in a folder named after a hash of every .py file of the packages that hold
Numba code (kernels/ and graph500/): any edit selects a fresh folder and a full recompile.

The folder is NUMBA_CACHE_DIR/graph500-<hash> when the user set NUMBA_CACHE_DIR, otherwise
.numba_cache/graph500-<hash> beside the packages (a clone's root, like Numba's own default
of caching next to the sources), or ~/.cache/graph500 when that is read-only. With no
writable folder at all the run goes on uncached (every kernel compiles at start-up), with a
warning: Numba alone would abort at the first import ("no locator available").

configure() must run before Numba is imported: Numba reads NUMBA_CACHE_DIR once, at import.
"""
import hashlib
import os
import pathlib
import sys
import tempfile

PACKAGES = ("kernels", "graph500")
PREFIX = "graph500-"
_ROOT = pathlib.Path(__file__).resolve().parents[1]


def source_hash(root=_ROOT, packages=PACKAGES):
    """Hex digest of the names and contents of every .py file under the packages."""
    h = hashlib.sha256()
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _writable(path):
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def candidates(key, environ=os.environ, root=_ROOT):
    """Folders to try, best first, and whether the user chose them."""
    name = PREFIX + key
    user = environ.get("NUMBA_CACHE_DIR")
    if user:
        user = os.path.abspath(user)
        # Already keyed (a parent run or the test suite set it up): use it as it is.
        return [user if os.path.basename(user) == name else os.path.join(user, name)], True
    home = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [str(root / ".numba_cache" / name), os.path.join(home, "graph500", name)], False


def configure(environ=os.environ):
    """Point Numba's cache at the keyed folder; returns a warning line when there is none
    writable (Numba then compiles without caching), else None."""
    key = source_hash()
    paths, user_set = candidates(key, environ)
    for path in paths:
        if _writable(path):
            environ["NUMBA_CACHE_DIR"] = path
            if "numba" in sys.modules:       # already imported: tell its config too
                sys.modules["numba"].config.CACHE_DIR = path
            return None
    _disable_caching()
    why = ("NUMBA_CACHE_DIR=%s is not writable" % environ["NUMBA_CACHE_DIR"] if user_set
           else "neither %s nor %s is writable" % tuple(paths))
    return ("warning: no writable Numba cache (%s): compiling every kernel without caching; "
            "set NUMBA_CACHE_DIR to a writable directory" % why)


def _disable_caching():
    """Make @njit(cache=True) compile without caching: Numba raises "no locator available"
    when it finds no writable cache folder, at the first decorated function it sees."""
    from numba.core.dispatcher import Dispatcher
    Dispatcher.enable_caching = lambda self: None


def setup(comm):
    """Collective: configure() on every rank; rank 0 prints one warning line for all the
    ranks that found no writable cache."""
    warning = configure()
    warnings = comm.gather(warning, root=0)
    if comm.Get_rank() == 0:
        bad = [w for w in warnings if w]
        if bad:
            on = " (on %d of %d ranks)" % (len(bad), len(warnings)) if len(warnings) > 1 else ""
            sys.stderr.write("graph500: %s%s\n" % (bad[0], on))
            sys.stderr.flush()
