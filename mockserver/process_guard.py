"""What ``mockserver serve`` checks and arranges around granian's processes.

- :func:`check_port_free`: granian binds with ``SO_REUSEPORT``, so a second server on a busy
  port would start and take half the connections. A plain bind of the same address first
  (no ``SO_REUSEPORT``) fails while anyone listens there, whoever it is.
- :func:`raise_open_file_limit`: every connection is a file descriptor; the usual soft limit
  of 1,024 would turn away client 1,025. The soft limit is raised to the hard one.
- :func:`die_with_parent`: a worker whose main process was killed (``kill -9``) would go on
  serving as an orphan and keep the port; the kernel ends it instead (``PR_SET_PDEATHSIG``),
  and a worker that finds its parent already gone exits at once. A worker's document
  renderers (:mod:`mockserver.render_pool`) watch the worker the same way.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import socket
import sys

__all__ = [
    "MAIN_PID_VARIABLE",
    "PortInUse",
    "check_port_free",
    "die_with_parent",
    "raise_open_file_limit",
]

#: Environment variable naming the main process, set before the workers start.
MAIN_PID_VARIABLE = "MOCKSERVER_MAIN_PID"
_PR_SET_PDEATHSIG = 1


class PortInUse(OSError):
    """Raised when another program (or another mock) already listens on the port."""


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`PortInUse` with a one-line message if ``host:port`` cannot be bound."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR only lets the bind pass over connections in TIME_WAIT; a listener
        # (even one with SO_REUSEPORT) still makes it fail.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use by another program "
                    "(or another mock): stop it, or choose another --port"
                ) from None
            raise PortInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None


def raise_open_file_limit() -> tuple[int, int]:
    """Raise this process's soft limit of open files to its hard limit; (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # e.g. an unlimited hard limit some kernels refuse
            pass
    return soft, hard


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel kill this process when its parent dies (Linux; no-op elsewhere).

    ``parent_pid`` is the parent expected (default: ``MOCKSERVER_MAIN_PID``, the main
    process of ``mockserver serve``); if another process is the parent already, the
    expected one died before the signal was asked for, and this process exits at once.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent_pid is None:
        main_pid = os.environ.get(MAIN_PID_VARIABLE, "")
        parent_pid = int(main_pid) if main_pid.isdigit() else None
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)
