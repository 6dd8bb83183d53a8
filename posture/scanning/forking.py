"""Run part of a scan in a forked child process and bring back what it returns.

Reading a large manifest is CPU-bound: threads share one interpreter lock (yaml-rs
holds it to build every Python object), a forked child does not. The child inherits
everything already in memory (the file, the reader), does its share of the work,
and sends the result back through a pipe as ``marshal`` data, which Python writes
five times and reads about 1.5 times as fast as pickle (measured on what a 10,000-workload
file's second half holds: 0.035 s and 0.08 s against 0.19 s and 0.13 s).

The child is a helper, never a dependency: when it cannot be started, dies, or
sends something unreadable, ``result()`` says so and the caller does that share of
the work itself, so that any error it met surfaces in the parent, as it would have
without the child.
"""

import contextlib
import logging
import marshal
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

# RAMPART_FORK=0 keeps every scan in one process.
DISABLE_VARIABLE = "RAMPART_FORK"
_LENGTH = struct.Struct("<Q")  # the payload's size, written before it


def available() -> bool:
    """Whether this process may fork a helper now.

    A fork copies only the calling thread: a lock another thread held at that moment
    (in the allocator, in logging, in an import) would stay held forever in the child.
    So only a process without other threads forks: the CLI, a Celery prefork worker,
    a sync web worker, the benchmark; a threaded web server reads in-process. And only
    on Linux, where fork is also what multiprocessing uses (macOS frameworks are not
    safe to use after a fork).
    """
    return (
        sys.platform == "linux"
        and os.environ.get(DISABLE_VARIABLE, "1") != "0"
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


class Child:
    """A running child: ``result()`` once, then it is gone (``stop()`` if abandoned)."""

    def __init__(self, pid: int, pipe: int):
        self._pid: int | None = pid
        self._pipe: int | None = pipe

    def result(self) -> tuple[bool, object]:
        """(True, what the function returned), or (False, None) when the child failed."""
        try:
            with os.fdopen(self._pipe, "rb") as pipe:
                self._pipe = None
                framed = pipe.read()
        except OSError:
            framed = b""
        self._reap()
        # The length goes first: a child that died half-way, or whose exit status someone
        # else collected (a SIGCHLD handler), cannot pass for one that finished.
        payload = memoryview(framed)[_LENGTH.size :]
        if len(framed) < _LENGTH.size or _LENGTH.unpack_from(framed)[0] != len(payload):
            logger.warning("a scan's helper process failed; its share is done in-process")
            return False, None
        try:
            # Written by this process's own fork, through a pipe no one else holds.
            return True, marshal.loads(payload)  # noqa: S302
        except (EOFError, ValueError, TypeError):
            logger.warning("a scan's helper process sent an unreadable result; its share is done in-process")
            return False, None

    def stop(self) -> None:
        """End the child if it is still running (the parent stopped early), and reap it."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> None:
        with contextlib.suppress(ChildProcessError):  # already collected by a SIGCHLD handler
            os.waitpid(self._pid, 0)
        self._pid = None


def start(function: Callable, *args) -> Child | None:
    """Run ``function(*args)`` in a forked child; None when no child can be started."""
    if not available():
        return None
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        logger.warning("could not start a scan's helper process; its share is done in-process", exc_info=True)
        return None
    if pid == 0:
        _run_child(read_end, write_end, function, args)
    os.close(write_end)
    return Child(pid, read_end)


def _run_child(read_end: int, write_end: int, function: Callable, args: tuple) -> None:
    # Leave without running anything the parent registered (atexit, buffered output,
    # database connections): os._exit, whatever happens. A failure says nothing here:
    # the parent redoes the share and meets the same error where it can report it.
    code = 1
    try:
        os.close(read_end)
        payload = marshal.dumps(function(*args))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(_LENGTH.pack(len(payload)))
            pipe.write(payload)
        code = 0
    finally:
        os._exit(code)  # also on an exception, which goes no further
