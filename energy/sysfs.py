"""Reading small sysfs attribute files cheaply, behind a two-method interface tests can replace.

An edge read happens right after a barrier on the node leader, so it must cost little: each file
is opened once and re-read with pread at offset 0 (sysfs regenerates the value on every read from
offset 0), one system call per counter instead of open/read/close. Sources never touch the file
system directly; they call a reader's `listdir` and `read`, so a test can inject a reader that
raises PermissionError (root can read any file, so chmod cannot simulate it) or serves values
from a dict.

Only regular files are read (sysfs attributes are regular files that report a size of 4096):
a FIFO put where a counter should be would block the open, /dev/zero would never end. Files are
opened non-blocking, checked with fstat, and read at most READ_LIMIT bytes at a time.
"""
import errno
import os
import stat

READ_LIMIT = 4096


class NotARegularFile(OSError):
    """A path that names a FIFO, a device, a socket or a directory instead of a file."""

    def __str__(self):
        return f"{self.filename} is {self.strerror}"


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path):
    """A read-only descriptor of a regular file; NotARegularFile for anything else. Never blocks:
    O_NONBLOCK makes opening a FIFO return at once, and the fstat check refuses it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _kind(mode)
        raise NotARegularFile(errno.EINVAL, kind if kind.startswith("not") else
                              f"not a regular file but {kind}", path)
    return fd


class FileReader:
    """The real reader: keeps one descriptor per file and records every path it opened."""

    def __init__(self):
        self._fds = {}
        self.opened = []

    def listdir(self, path):
        return sorted(os.listdir(path))

    def read(self, path):
        fd = self._fds.get(path)
        if fd is None:
            fd = open_regular(path)
            self._fds[path] = fd
            self.opened.append(path)
        return os.pread(fd, READ_LIMIT, 0).decode("ascii", "replace")

    def close(self):
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            try:
                os.close(fd)
            except OSError:
                pass


def read_int(reader, path):
    """First whitespace-separated token as an int ("123 J 456 us" -> 123)."""
    text = reader.read(path).split()
    if not text:
        raise ValueError(f"{path} is empty")
    return int(text[0])
