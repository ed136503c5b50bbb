"""The one home for writing result files: whole or not at all, with ordinary permissions.

Every result file (the benchmark's --json through graph500.output, energy-join's output, the
power trace, the plot, `energy monitor --json`) is written here:
- into a temporary file next to the target, then renamed over it, so a reader never sees half a
  file; on any failure (full disk, a bug in the writer, an interrupt) the temporary file is
  removed and OutputError says what happened in one line;
- created with mode 0666 filtered by the umask, like any file the user makes (0644 by default),
  not mkstemp's 0600;
- an existing symlink is written through: its target is replaced and the link stays; an
  existing file without write permission is refused, not silently replaced (root ignores
  permission bits, so this is checked from the mode);
- JSON never holds NaN or Infinity (invalid JSON for most parsers): non-finite numbers become
  null, and json.dump runs with allow_nan=False so a miss fails here instead of in a reader.
`check_writable` is the same rules before a run, so a bad path fails in a second, not after it.
"""
import json
import math
import os
import stat


class OutputError(OSError):
    """A result file that cannot be written; str(self) is one line for the user."""

    def __str__(self):
        return self.args[0] if self.args else "cannot write the output"


def target_of(path):
    """The file a write to `path` lands in: symlinks followed (the link itself is kept)."""
    return os.path.realpath(path) if os.path.islink(path) else path


def _check_existing(path, target):
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):   # the directory check says which
        return
    except OSError as e:
        raise OutputError(f"{path}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path} is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path} exists and is not a regular file")
    if not st.st_mode & 0o222:
        raise OutputError(f"{path} exists and is read-only: remove it or choose another path")


def _temp_name(target):
    d, base = os.path.split(os.path.abspath(target))
    return os.path.join(d, f".{base}.partial-{os.getpid()}-{os.urandom(4).hex()}")


def check_writable(path):
    """Raise OutputError (one line) unless `path` can take a result file now: not empty, not a
    directory, not read-only, in an existing directory where a file can be created."""
    if not path or not str(path).strip():
        raise OutputError("an output path is empty")
    target = target_of(path)
    _check_existing(path, target)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise OutputError(f"{path}: {directory} is not a directory")
        raise OutputError(f"{path}: directory {directory} does not exist")
    probe = _temp_name(target)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{path}: cannot create a file in {directory}: {e.strerror}") from None


def write_atomic(path, write, binary=False):
    """Call write(f) on a temporary file opened for `path`, then rename it into place."""
    if not path:
        raise OutputError("an output path is empty")
    target = target_of(path)
    _check_existing(path, target)
    tmp = _temp_name(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from None
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", newline="")) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OutputError):
            raise
        if isinstance(e, OSError):
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
        raise


def finite(obj):
    """A copy of a JSON-able structure with NaN and infinities replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    return obj


def write_json_atomic(path, data):
    """Readers never see a half-written file; never NaN or Infinity in it."""
    clean = finite(data)

    def write(f):
        json.dump(clean, f, indent=1, allow_nan=False)
        f.write("\n")

    write_atomic(path, write)
