"""`passage demo --migrants N`: publish N synthetic journeys through the gateway, wait until the
views caught up, and print what the query API then says (cases per stage, open alerts per code,
events per second).

It uses the demo credentials `passage up` keeps in var/demo-credentials.json (one agency per
kind, the further recruiting agencies the journeys' offers name, a supervisor with scope `*`) and,
unless told otherwise, the URLs `passage up` serves on. Without that file (a deployment not started
by `passage up`, e.g. compose), or when it lacks an agency (written by an older demo), it issues
the missing ones itself, which needs the view database (PASSAGE_DATABASE_URL).
"Caught up" means the welfare view holds every published case with at least as many events as
were published for it (an exact test, not a guess after a sleep).
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from events import SEVERITY_RANK
from services.config import Settings
from services.errors import CommandError

CHUNK = 2000  # journeys generated and published at a time (bounded memory for large demos)
TOP_MIN_PLACEMENTS = 5  # the top-five table ignores employers too small for a rate to mean much
STAGES = ("registered", "skilling", "job_ready", "recruiting", "cleared", "deployed", "returned")


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo", help="publish N realistic synthetic journeys through the gateway, then summarise the views"
    )
    demo.add_argument("--migrants", type=_positive, required=True, help="how many journeys to publish")
    demo.add_argument("--gateway-url", help="default: where `passage up` serves it (var/demo-credentials.json)")
    demo.add_argument("--query-url", help="default: where `passage up` serves it (var/demo-credentials.json)")
    demo.add_argument(
        "--seed", type=int, help="the same seed gives the same journeys (republishing changes nothing); default random"
    )
    demo.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="give up when the views make no progress for this many seconds (default 180)",
    )
    demo.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    from tqdm import tqdm

    from events.client import PassageClient, PublishError
    from services.demo import bad_actors, credentials
    from services.demo.journeys import iter_journeys, run_tag
    from services.demo.publish import publish, waves
    from services.demo.views import QueryApi, QueryError

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the progress bar
    try:
        creds = credentials.load(settings)
    except credentials.CredentialsError as error:
        raise CommandError(str(error)) from None
    defaults = creds or credentials.Credentials()
    gateway_url, query_url = args.gateway_url or defaults.gateway_url, args.query_url or defaults.query_url
    _require_ready(gateway_url, "gateway")
    _require_ready(query_url, "query API")
    if creds is None or not creds.complete():  # `passage up` issues them; without it (compose) or
        creds = _issue_credentials(settings, gateway_url, query_url)  # from an older demo, here
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    query = QueryApi(query_url, creds.supervisor_token)
    # Generous timeout: the gateway answers 503 itself when Kafka does not acknowledge in time.
    clients = {
        agency: PassageClient(gateway_url, key, retries=6, timeout=max(60.0, 3 * settings.publish_timeout_s))
        for agency, key in creds.keys_by_agency().items()
    }
    expected: dict[str, int] = {}
    progress = tqdm(total=args.migrants, unit="migrant", desc="publishing", file=sys.stderr, disable=None)
    published = 0

    def counted(batch) -> None:
        nonlocal published
        published += len(batch.events)
        progress.update(batch.finished)
        progress.set_postfix(events=published, refresh=False)

    began = time.monotonic()
    try:
        # Before the journeys, so the watchlisted employer's offers are recorded after the entry.
        clients[credentials.agency_id("emigration_authority")].publish(
            bad_actors.watchlisting(run_tag(seed), datetime.now(UTC).isoformat())
        )
        journeys = iter_journeys(
            args.migrants, seed=seed, now=datetime.now(UTC), clearance_required=settings.clearance_required_set
        )
        while chunk := list(itertools.islice(journeys, CHUNK)):
            expected.update((j.case_id, len(j.events)) for j in chunk)
            outcome = publish(waves(chunk), lambda b: clients[b.agency_id].publish_batch(b.events), counted)
            if outcome.rejected:
                raise CommandError(
                    f"the gateway rejected {len(outcome.rejected)} demo events, e.g. {outcome.rejected[0]}"
                )
    except PublishError as error:
        hint = "; restart `passage up` to refresh the demo credentials" if error.status_code in (401, 403) else ""
        raise CommandError(
            f"publishing stopped: {error}{hint}. Rerunning with --seed {seed} is safe "
            "(the same events take effect once)"
        ) from None
    finally:
        progress.close()
        for client in clients.values():
            client.close()
    publish_s = time.monotonic() - began
    try:
        _wait_for_views(query, expected, args.timeout)
        caught_up_s = time.monotonic() - began - publish_s
        summary = {
            "seed": seed,
            "case_ids": f"*-{run_tag(seed)}-*",
            "migrants": args.migrants,
            "events": published,
            "publish_seconds": round(publish_s, 2),
            "catch_up_seconds": round(caught_up_s, 2),
            "events_per_second_published": round(published / publish_s, 1),
            "events_per_second_end_to_end": round(published / (publish_s + caught_up_s), 1),
            "cases_per_stage": dict(query.cases_per_stage()),
            "open_alerts_per_code": dict(query.open_alerts_per_code()),
            "watchlisted_employer": bad_actors.WATCHLISTED_EMPLOYER,
            "top_employers_by_abuse": query.top_employers_by_abuse(5, min_placements=TOP_MIN_PLACEMENTS),
            "top_agents_by_fees": query.top_agents_by_fees(5, min_placements=TOP_MIN_PLACEMENTS),
            "watchlisted_party_alerts": query.alert_statuses("WATCHLISTED_PARTY"),
        }
        summary["case_work"] = _case_work(query, creds, gateway_url, expected, seed, args.timeout, settings)
    except QueryError as error:
        raise CommandError(str(error)) from None
    except PublishError as error:
        raise CommandError(f"answering the demo referrals stopped: {error}") from None
    finally:
        query.close()
    print(json.dumps(summary, indent=2) if args.json else _render(summary, settings))
    return 0


def _case_work(
    query, creds, gateway_url: str, expected: dict[str, int], seed: int, stall_s: float, settings: Settings
) -> dict:
    """SPEC section 10 in the demo (services/demo/casework.py): assign, refer, answer; its summary.
    With short escalation limits (PASSAGE_ACK_HOURS of minutes, as for a live demo) it also waits,
    boundedly, for the sweep to escalate the alerts nobody acknowledged."""
    from events.client import PassageClient
    from services.demo import casework, credentials

    plans = casework.plan([a for a in query.open_alerts() if a["case_id"] in expected], seed)
    kinds = {item.kind for item in plans}
    clients = {kind: PassageClient(gateway_url, creds.agency_keys[kind], retries=6) for kind in kinds}
    try:
        casework.work(plans, query, clients, credentials.SUPERVISOR_ID, credentials.agency_id, stall_s)
    finally:
        for client in clients.values():
            client.close()
    limit_s = min(settings.ack_hours_by_severity.values()) * 3600
    if plans and limit_s + settings.sweep_interval_s <= 600:
        deadline = time.monotonic() + limit_s + 2 * settings.sweep_interval_s + 30
        while not query.count("/v1/alerts", {"escalated": "true"}) and time.monotonic() < deadline:
            time.sleep(1.0)
    return casework.summary(query, credentials.SUPERVISOR_ID, plans)


def _wait_for_views(query, expected: dict[str, int], stall_s: float) -> None:
    """Poll until every case holds its events; give up after `stall_s` without any progress (a
    large demo may take long, but a worker that is down makes no progress at all)."""
    from tqdm import tqdm

    pending, seen = set(expected), -1
    deadline = time.monotonic() + stall_s
    with tqdm(total=len(expected), unit="case", desc="views catching up", file=sys.stderr, disable=None) as bar:
        while True:
            polled = time.monotonic()
            counts = query.event_counts(pending)
            done = {case for case, count in counts.items() if count >= expected[case]}
            pending -= done
            bar.update(len(done))
            if not pending:
                return
            events_in = sum(counts.values())
            if done or events_in != seen:
                seen, deadline = events_in, time.monotonic() + stall_s
            elif time.monotonic() > deadline:
                raise CommandError(
                    f"the views made no progress for {stall_s:.0f}s with {len(pending)} of {len(expected)} cases "
                    f"behind (e.g. {min(pending)}); check that `passage worker` runs and see its log"
                )
            time.sleep(max(1.0, time.monotonic() - polled))  # a large demo's poll is itself work for the views


def _render(summary: dict, settings: Settings) -> str:
    from services.domain.alerts import RULES, TIME_RULES

    severity = {_text(rule.code): _text(rule.severity) for rule in RULES}
    stages, alerts = Counter(summary["cases_per_stage"]), Counter(summary["open_alerts_per_code"])
    lines = [
        f"Published {summary['events']:,} events for {summary['migrants']:,} migrants (seed {summary['seed']}, "
        f"case ids {summary['case_ids']}) in {summary['publish_seconds']:.1f}s: "
        f"{summary['events_per_second_published']:,.0f} events/s through the gateway.",
        f"The views caught up {summary['catch_up_seconds']:.1f}s later: "
        f"{summary['events_per_second_end_to_end']:,.0f} events/s end to end.",
        "",
        "Cases per stage (every case the views hold):",
    ]
    order = [s for s in STAGES if s in stages] + sorted(set(stages) - set(STAGES))
    lines += [f"  {stage:<12}{stages[stage]:>8,}" for stage in order]
    lines += [f"  {'total':<12}{sum(stages.values()):>8,}", "", "Open alerts per code:"]
    ranked = sorted(alerts, key=lambda code: (-SEVERITY_RANK.get(severity.get(code, ""), 0), -alerts[code], code))
    lines += [f"  {code:<28}{alerts[code]:>6,}  {severity.get(code, '')}" for code in ranked]
    lines += [f"  {'total':<28}{sum(alerts.values()):>6,}", ""]
    work = summary.get("case_work")
    if work is not None:
        referrals = ", ".join(f"{status} {count}" for status, count in work["referrals_by_status"].items()) or "none"
        lines += [
            "Case work (SPEC section 10):",
            f"  {'cases assigned to the demo supervisor':<40}{work['assigned_cases']:,}",
            f"  {'referrals of this run, by status':<40}{referrals}",
            f"  {'escalated alerts':<40}{work['escalated_alerts']:,}",
            f"  (an alert escalates when still open PASSAGE_ACK_HOURS after Passage recorded it: "
            f"{settings.ack_hours}; unanswered referrals raise REFERRAL_STALLED after "
            f"{settings.referral_accept_hours:g} h)",
            "",
        ]
    lines += _render_accountability(summary)
    lines.append(
        f"Time-rule alerts ({', '.join(_text(rule.code) for rule in TIME_RULES)}) are raised by the "
        f"worker's sweep every {settings.sweep_interval_s:g}s, so more may appear in a minute."
    )
    return "\n".join(lines)


def _render_accountability(summary: dict) -> list[str]:
    lines = [f"Top five employers by abuse alerts per 100 placements (at least {TOP_MIN_PLACEMENTS} placements):"]
    lines.append(f"  {'employer':<12}{'placements':>11}{'abuse':>8}{'wages':>8}{'fees':>8}{'paid %':>8}  watchlisted")
    for card in summary["top_employers_by_abuse"]:
        paid = "-" if card["median_wage_gap"] is None else f"{card['median_wage_gap']:.0f}"
        lines.append(
            f"  {card['employer_id']:<12}{card['placements']:>11,}{_rate(card['abuse_per_100']):>8}"
            f"{_rate(card['wages_per_100']):>8}{_rate(card['fees_per_100']):>8}{paid:>8}  "
            f"{'yes' if card['watchlisted'] else ''}"
        )
    lines += [
        "",
        f"Top five recruiting agents by fees charged to migrants per 100 placements "
        f"(at least {TOP_MIN_PLACEMENTS} placements):",
        f"  {'recruiting agent':<26}{'placements':>11}{'fees':>8}{'contract':>10}{'abuse':>8}",
    ]
    for card in summary.get("top_agents_by_fees", []):
        lines.append(
            f"  {card['recruiting_agent_id']:<26}{card['placements']:>11,}{_rate(card['fees_per_100']):>8}"
            f"{_rate(card['contract_per_100']):>10}{_rate(card['abuse_per_100']):>8}"
        )
    statuses = Counter(summary["watchlisted_party_alerts"])
    detail = ", ".join(f"{count:,} {status}" for status, count in sorted(statuses.items())) or "none"
    lines += [
        "",
        f"WATCHLISTED_PARTY alerts raised (the demo emigration authority watchlisted "
        f"{summary['watchlisted_employer']} before publishing): {sum(statuses.values()):,} ({detail})",
        "",
    ]
    return lines


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _text(value) -> str:
    return str(getattr(value, "value", value))


def _issue_credentials(settings: Settings, gateway_url: str, query_url: str):
    from sqlalchemy.exc import SQLAlchemyError

    from services.demo import credentials
    from services.storage.db import make_engine

    engine = make_engine(settings)
    try:
        creds, issued = credentials.ensure(settings, engine, gateway_url, query_url)
    except (SQLAlchemyError, credentials.CredentialsError) as error:
        raise CommandError(
            f"no (complete) demo credentials at {credentials.path(settings)} and they could not be issued "
            f"({str(error).splitlines()[0]}); start Passage with `passage up`, which issues them"
        ) from None
    finally:
        engine.dispose()
    print(f"issued demo credentials ({', '.join(issued)}), saved to {credentials.path(settings)}", file=sys.stderr)
    return creds


def _require_ready(url: str, what: str) -> None:
    import httpx

    try:
        status = httpx.get(f"{url}/readyz", timeout=10).status_code
    except httpx.TransportError:
        status = None
    if status != 200:
        state = "does not answer" if status is None else f"is not ready (/readyz answered {status})"
        raise CommandError(f"the {what} at {url} {state}; start Passage with `passage up` (or pass the right URL)")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number
