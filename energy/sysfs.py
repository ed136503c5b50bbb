"""Reading small sysfs attribute files cheaply, behind a two-method interface tests can replace.

An edge read happens right after a barrier on the node leader, so it must cost little: each file
is opened once and re-read with pread at offset 0 (sysfs regenerates the value on every read from
offset 0), one system call per counter instead of open/read/close. Sources never touch the file
system directly; they call a reader's `listdir` and `read`, so a test can inject a reader that
raises PermissionError (root can read any file, so chmod cannot simulate it) or serves values
from a dict.
"""
import os


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
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            self._fds[path] = fd
            self.opened.append(path)
        return os.pread(fd, 4096, 0).decode("ascii", "replace")

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
