"""wrk (Debian package `wrk`) as a load generator for benchmarks: argv, run or run-until-stopped, parsed.

    result = wrk.run("http://127.0.0.1:8080/", duration="5s", headers={"Host": "a.localhost"})
    load = wrk.start(url, connections=8)  # runs until load.stop(), which sends SIGINT: wrk prints its summary
    ...
    result = load.stop()
    result.requests, result.failed, result.rps, result.latency[99]

Every call takes an argv list; nothing goes through a shell.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

WRK = "/usr/bin/wrk"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TIME = r"([\d.]+)(us|ms|s|m|h)"
_REQUESTS = re.compile(rf"^\s*(\d+) requests in {_TIME}, ", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_DISTRIBUTION = re.compile(rf"^\s+([\d.]+)%\s+{_TIME}\s*$", re.M)


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed something that is not a wrk summary."""


@dataclass(frozen=True)
class WrkResult:
    requests: int  # completed responses, whatever their status
    duration: float  # seconds
    rps: float
    non_2xx: int = 0  # "Non-2xx or 3xx responses"
    connect_errors: int = 0
    read_errors: int = 0  # includes a connection the server closed before answering the request sent on it
    write_errors: int = 0
    timeouts: int = 0  # requests unanswered after --timeout (wrk's default 2 s)
    latency: dict[float, float] = field(default_factory=dict)  # percentile -> seconds (with --latency)

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx/3xx answer: non-2xx/3xx responses plus socket errors."""
        return self.non_2xx + self.socket_errors

    @property
    def total(self) -> int:
        """Requests attempted: the answered ones plus those lost to socket errors."""
        return self.requests + self.socket_errors


def _seconds(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse(text: str) -> WrkResult:
    """wrk's summary (stdout) as a WrkResult; WrkError if `text` holds none."""
    requests = _REQUESTS.search(text)
    rps = _RPS.search(text)
    if not requests or not rps:
        raise WrkError(f"not a wrk summary: {text.strip()[:200]!r}")
    socket = _SOCKET.search(text)
    connect, read, write, timeout = (int(n) for n in socket.groups()) if socket else (0, 0, 0, 0)
    non_2xx = _NON_2XX.search(text)
    return WrkResult(
        requests=int(requests.group(1)),
        duration=_seconds(requests.group(2), requests.group(3)),
        rps=float(rps.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        connect_errors=connect,
        read_errors=read,
        write_errors=write,
        timeouts=timeout,
        latency={float(pct): _seconds(n, unit) for pct, n, unit in _DISTRIBUTION.findall(text)},
    )


def executable() -> str:
    """The wrk binary, or WrkError naming the Debian package."""
    found = shutil.which("wrk") or (WRK if shutil.which(WRK) else None)
    if not found:
        raise WrkError("wrk not found: install the Debian package wrk (apt-get install wrk)")
    return found


def command(
    url: str,
    *,
    threads: int = 1,
    connections: int = 8,
    duration: str = "10s",
    headers: dict[str, str] | None = None,
    latency: bool = False,
    timeout: str | None = None,
) -> list[str]:
    argv = [executable(), f"-t{threads}", f"-c{connections}", f"-d{duration}"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if latency:
        argv.append("--latency")
    if timeout:
        argv += ["--timeout", timeout]
    return [*argv, url]


def run(url: str, **options) -> WrkResult:
    """Run wrk for its --duration and parse its summary."""
    done = subprocess.run(command(url, **options), capture_output=True, text=True)
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {(done.stderr or done.stdout).strip()[:200]}")
    return parse(done.stdout)


class Running:
    """wrk started in the background; stop() interrupts it (SIGINT) and returns what it counted so far."""

    def __init__(self, url: str, **options):
        options.setdefault("duration", "3600s")
        self.process = subprocess.Popen(
            command(url, **options), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # until wrk installs its SIGINT handler (after starting its threads), SIGINT kills it silently
        deadline = time.monotonic() + 5
        while self.process.poll() is None and not _catches_sigint(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.005)

    def stop(self) -> WrkResult:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        if self.process.returncode not in (0, -signal.SIGINT):
            raise WrkError(f"wrk exited {self.process.returncode}: {(err or out).strip()[:200]}")
        return parse(out)

    def kill(self) -> None:
        """Stop without a result (cleanup after an error)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def _catches_sigint(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) & (1 << (signal.SIGINT - 1)))


def start(url: str, **options) -> Running:
    return Running(url, **options)
