"""Every benchmark in one run, at small default sizes, into one results page: bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--only proxy peers ...] [--with faults cluster] [--out bench/RESULTS.md]

Needs the local stack (`totem stack up`); runs beside a serving demo. Installs the load generator
and the peer proxy it compares with (Debian's wrk and nginx-light) when run as root, else says
what to install. Each benchmark prints its own report, which the page keeps; its headline figures
(`bench.figures.record`) make the table at the top, each with the goal it is held to.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import FIGURES_ENV  # noqa: E402
from totem_stack import packages  # noqa: E402

TOOLS = {"wrk": "wrk", "nginx-light": "nginx"}


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...] = ()
    timeout: float = 300
    optional: bool = False  # only with --with-<name>


# Small sizes: the whole run stays under ten minutes on a 2-core machine.
BENCHES = (
    Bench("store", ("--ops", "1000", "--events", "200"), 120),
    Bench("proxy", ("--switches", "100", "--reload-switches", "30", "--reloads", "20"), 300),
    Bench("peers", ("--switches", "100"), 300),
    Bench("orchestrator", (), 240),
    Bench("discover", ("--count", "20"), 180),
    Bench("image_factory", ("--rounds", "3", "--builds", "4"), 300),
    Bench("deployer", ("--deploys", "10", "--switches", "10"), 300),
    Bench("pipeline", ("--pushes", "5"), 300),
    Bench("canary", ("--good", "2", "--pause", "3", "--window", "20"), 300),
    Bench("auth", ("--checks", "2000", "--duration", "5"), 240),
    Bench("logs", ("--lines", "10000", "--instances", "1,3", "--delay-lines", "100"), 180),
    Bench("faults", (), 900, optional=True),
    Bench("cluster", ("--batches", "1,10"), 900, optional=True),
)


@dataclass
class Outcome:
    bench: Bench
    seconds: float
    returncode: int | None  # None: timed out
    output: str
    figures: list[dict] = field(default_factory=list)


def run(bench: Bench) -> Outcome:
    command = [sys.executable, str(ROOT / "bench" / f"{bench.name}.py"), *bench.args]
    print(f"==> {' '.join(['bench/' + bench.name + '.py', *bench.args])}", flush=True)
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures:
        env = {**os.environ, FIGURES_ENV: figures.name, "PYTHONUNBUFFERED": "1"}
        started = time.perf_counter()
        lines: list[str] = []
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        # a hung benchmark is stopped too: SIGINT, so it cleans up in its `finally`
        watchdog = threading.Timer(bench.timeout, process.send_signal, (signal.SIGINT,))
        watchdog.start()
        assert process.stdout is not None
        for line in process.stdout:  # echoed as it comes, so a long run shows progress
            print("    " + line, end="", flush=True)
            lines.append(line)
        returncode: int | None = process.wait()
        if not watchdog.is_alive():
            returncode = None
        watchdog.cancel()
        outcome = Outcome(bench, time.perf_counter() - started, returncode, "".join(lines))
        outcome.figures = [json.loads(line) for line in figures.read().splitlines() if line.strip()]
    return outcome


def machine() -> str:
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return f"{os.cpu_count()} cores ({model}), {memory_kib / 1024 / 1024:.0f} GiB memory, Linux {platform.release()}"


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".")


def goal(figure: dict) -> tuple[str, str]:
    unit = figure["unit"]
    if figure.get("at_most") is not None:
        return f"≤ {number(figure['at_most'])} {unit}", "yes" if figure["value"] <= figure["at_most"] else "**no**"
    if figure.get("at_least") is not None:
        return f"≥ {number(figure['at_least'])} {unit}", "yes" if figure["value"] >= figure["at_least"] else "**no**"
    return "", ""


def page(outcomes: list[Outcome], total: float) -> str:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        "# Benchmark results",
        "",
        f"Regenerated by `.venv/bin/python bench/run_all.py` on {today}, at commit `{commit()}`, "
        f"in {total / 60:.1f} minutes.",
        f"Machine: {machine()}. Every figure is from one run; the goals are the project's published ones.",
        "",
        "| figure | value | goal | met | benchmark |",
        "|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        for figure in outcome.figures:
            target, met = goal(figure)
            value = f"{number(figure['value'])} {figure['unit']}"
            rows.append(f"| {figure['figure']} | {value} | {target} | {met} | `{outcome.bench.name}` |")
        if outcome.returncode != 0:
            status = "timed out" if outcome.returncode is None else f"exited {outcome.returncode}"
            rows.append(f"| {outcome.bench.name}: **{status}** | | | | `{outcome.bench.name}` |")
    rows += ["", "## Each benchmark's report", ""]
    for outcome in outcomes:
        command = " ".join([f"bench/{outcome.bench.name}.py", *outcome.bench.args])
        rows += [f"### `{command}` ({outcome.seconds:.0f} s)", "", "```", outcome.output.rstrip(), "```", ""]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [bench.name for bench in BENCHES]
    parser.add_argument("--only", nargs="*", choices=names, help="run only these benchmarks")
    parser.add_argument(
        "--with",
        dest="extra",
        nargs="*",
        default=[],
        choices=[b.name for b in BENCHES if b.optional],
        help="also these longer ones: the faults under load, the 3-host cluster rig (minutes each)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    if not packages.ensure(TOOLS, sys.stdout, as_root=os.geteuid() == 0):
        return 2
    chosen = [
        bench
        for bench in BENCHES
        if (bench.name in args.only if args.only else not bench.optional or bench.name in args.extra)
    ]
    started = time.perf_counter()
    outcomes = [run(bench) for bench in chosen]
    total = time.perf_counter() - started
    args.out.write_text(page(outcomes, total) + "\n")
    print(f"wrote {args.out} ({total / 60:.1f} minutes)")
    return 0 if all(outcome.returncode == 0 for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
