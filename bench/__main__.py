"""The benchmark suite: every bench in turn, one table of Passage's figures next to their baselines.

    python -m bench [--quick] [--only NAME[,NAME...]]

Runs bench.gateway, bench.worker, bench.latency, bench.query, bench.replay, bench.scale_out,
bench.sweep, bench.notify, bench.console, bench.scorecards and bench.privacy as
subprocesses, one after the other (they would slow each other down on a small host), with sizes
that take about 15 minutes on 2 cores (18 on a busy shared host, 10 of them loading the query
bench's million cases; --quick: 3 to 5). Each bench writes its own JSON with
summary rows (bench/common.py); this collects them, prints one table (measure | Passage |
baseline measured in the same run | ratio Passage/baseline) and writes
bench/results/suite-<stamp>.json. A bench that fails is reported and the others still run; the exit
code is then 1. Each bench's output goes to bench/results/suite-<stamp>-logs/<name>.log.
Needs the broker (`passage kafka start`) and PostgreSQL at PASSAGE_TEST_DATABASE_URL or the local one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, machine, stamp
from services.config import ROOT

# name -> (full-suite arguments, --quick arguments); the order the suite runs them in.
PLAN: dict[str, tuple[list[str], list[str]]] = {
    "gateway": ([], ["--quick"]),  # 2000 single events and 20 batches of 500; quick 300 and 4
    "worker": ([], ["--quick"]),  # a backlog of 30000 events; quick 5000
    "latency": ([], ["--quick"]),  # 200 probes of each kind; quick 50
    "query": ([], ["--quick"]),  # 1M cases / 3M alerts; quick 100k / 300k
    "replay": ([], ["--quick"]),  # 100000 events; quick 20000
    # 30000 events; quick 20000, not the bench's 5000: one worker drains 5000 while the second is
    # still joining the group, which leaves a few hundred events to time and a meaningless ratio.
    "scale_out": ([], ["--events", "20000"]),
    "sweep": ([], ["--cases", "100000", "--due", "1000"]),  # 1M cases / 10k due; quick 100k / 1k
    "notify": ([], ["--quick"]),  # 150 distress probes to a webhook; quick 40
    "console": ([], ["--quick"]),  # officer console pages vs the JSON API, 1M cases; quick 100k
    "scorecards": ([], ["--quick"]),  # 1M cases / 50k employers; quick 100k / 5k
    "privacy": ([], ["--quick"]),  # 4 rounds of 600 journeys, plain and encrypted; quick 150
}
TIMEOUT_S = 30 * 60


def run(name: str, args: list[str], log_dir: Path) -> dict:
    """One bench as a subprocess; its summary rows from the JSON it wrote, or why there are none."""
    before = set(RESULTS.glob(f"{name}-*.json"))
    argv = [sys.executable, "-m", f"bench.{name}", *args]
    log = log_dir / f"{name}.log"
    began = time.monotonic()
    with log.open("wb") as out:
        try:
            code = subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    seconds = round(time.monotonic() - began, 1)
    written = sorted(set(RESULTS.glob(f"{name}-*.json")) - before)
    outcome = {
        "bench": name,
        "command": f"python -m bench.{name} {' '.join(args)}".strip(),
        "seconds": seconds,
        "exit_code": code,
        "log": str(log.relative_to(ROOT)),
        "rows": [],
    }
    if code != 0 or not written:
        tail = log.read_text(errors="replace").splitlines()[-8:]
        outcome["error"] = f"exit {code}, {len(written)} result files; last lines:\n" + "\n".join(tail)
        return outcome
    outcome["result_file"] = str(written[-1].relative_to(ROOT))
    outcome["rows"] = json.loads(written[-1].read_text()).get("summary", [])
    return outcome


def ratio(row: dict) -> float | None:
    return round(row["value"] / row["baseline_value"], 3) if row["baseline_value"] else None


def table(rows: list[dict]) -> str:
    """A Markdown table, padded so it also reads well in a terminal."""

    def figure(value: float, unit: str) -> str:
        return f"{value:,.0f} {unit}" if unit.endswith("/s") or value >= 100 else f"{value:,.1f} {unit}"

    lines = [("measure", "Passage", "baseline (same run)", "ratio")]
    for row in rows:
        lines.append(
            (
                row["measure"],
                figure(row["value"], row["unit"]),
                f"{figure(row['baseline_value'], row['unit'])}: {row['baseline_name']}",
                "-" if row["ratio"] is None else f"{row['ratio']:.{2 if row['ratio'] >= 0.1 else 3}f}x",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: about 5 minutes")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(PLAN)}")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(PLAN)
    unknown = [n for n in names if n not in PLAN]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(PLAN)}")
    suite_stamp = stamp()
    log_dir = RESULTS / f"suite-{suite_stamp}-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    load_before, began = os.getloadavg(), time.monotonic()
    outcomes = []
    for i, name in enumerate(names, 1):
        bench_args = PLAN[name][1 if args.quick else 0]
        print(f"[{i}/{len(names)}] python -m bench.{name} {' '.join(bench_args)}", flush=True)
        outcome = run(name, bench_args, log_dir)
        print(
            f"      {'done' if 'error' not in outcome else 'FAILED'} in {outcome['seconds']:.0f} s"
            + (f": {outcome['error']}" if "error" in outcome else ""),
            flush=True,
        )
        outcomes.append(outcome)
    rows = [{"bench": o["bench"], **row, "ratio": ratio(row)} for o in outcomes for row in o["rows"]]
    host = machine()
    print(
        f"\nPassage benchmark suite{' (--quick)' if args.quick else ''}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"{host['cpus']} CPUs, {host['memory_gib']} GiB; load average {load_before[0]:.1f} at the start, "
        f"{host['load_average'][0]:.1f} at the end; {time.monotonic() - began:.0f} s\n"
    )
    print(table(rows))
    path = RESULTS / f"suite-{suite_stamp}.json"
    path.write_text(
        json.dumps(
            {
                "bench": "suite",
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": " ".join(
                    [
                        "python -m bench",
                        *(["--quick"] if args.quick else []),
                        *([f"--only {args.only}"] if args.only else []),
                    ]
                ),
                "quick": args.quick,
                "seconds": round(time.monotonic() - began, 1),
                "machine": {**host, "load_average_before": [round(x, 2) for x in load_before]},
                "rows": rows,
                "benches": outcomes,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return 0 if all("error" not in o for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
