"""Who a process is, in a form another process on the same host can check it is still running."""

import os
import socket
from functools import cache


@cache
def this_process() -> str:
    """'host:pid:start' for the running process (start: its start time in clock ticks)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}"


def gone_from_this_host(process: str) -> bool:
    """Whether the named process ran on this host and has ended (a reused pid doesn't count)."""
    try:
        host, pid_text, start = process.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    return _started(pid) != start


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when there is no such process)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return fields[19]  # field 22 of stat(5), counted after the command name
    except FileNotFoundError:
        return ""
    except OSError:  # no /proc here: the pid alone must do
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ""
        except PermissionError:
            pass
        return "?"
