"""What the demo reads back from the query API (SPEC section 7) with the supervisor's token."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

import httpx


class QueryError(RuntimeError):
    """The query API refused or failed; the message says what to do."""


class QueryApi:
    def __init__(
        self, base_url: str, token: str, timeout_s: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout_s, transport=transport, headers={"Authorization": f"Bearer {token}"}
        )

    def close(self) -> None:
        self._http.close()

    def ready(self) -> bool:
        try:
            return self._http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def cases_per_stage(self) -> Counter[str]:
        """Every case in scope per stage (summed over destinations); a case with no stage yet
        counts under "none"."""
        counts: Counter[str] = Counter()
        for item in self._get("/v1/stats/stages")["items"]:
            counts[item["stage"] or "none"] += item["count"]
        return counts

    def open_alerts_per_code(self) -> Counter[str]:
        return Counter(alert["code"] for alert in self._pages("/v1/alerts", {"status": "open"}))

    def top_employers_by_abuse(self, count: int, min_placements: int) -> list[dict]:
        """The `count` employer scorecards with the most abuse alerts per 100 placements."""
        cards = self._get("/v1/stats/employers", {"min_placements": str(min_placements)})["items"]
        return sorted(cards, key=lambda c: (-(c["abuse_per_100"] or 0), -c["placements"], c["employer_id"]))[:count]

    def top_agents_by_fees(self, count: int, min_placements: int) -> list[dict]:
        """The `count` recruiting-agent scorecards with the most fee alerts per 100 placements
        (then abuse alerts per 100)."""
        cards = self._get("/v1/stats/agents", {"min_placements": str(min_placements)})["items"]
        return sorted(
            cards,
            key=lambda c: (
                -(c["fees_per_100"] or 0),
                -(c["abuse_per_100"] or 0),
                -c["placements"],
                c["recruiting_agent_id"],
            ),
        )[:count]

    def alert_statuses(self, code: str) -> list[str]:
        """The status of every alert of `code`, whatever its status."""
        return [alert["status"] for alert in self._pages("/v1/alerts", {"code": code})]

    def event_counts(self, case_ids: set[str]) -> dict[str, int]:
        """event_count of each of `case_ids` the welfare view holds (absent: not projected yet)."""
        return {
            case["case_id"]: case["event_count"] for case in self._pages("/v1/cases", {}) if case["case_id"] in case_ids
        }

    def open_alerts(self) -> list[dict]:
        return list(self._pages("/v1/alerts", {"status": "open"}))

    def case(self, case_id: str) -> dict:
        return self._get(f"/v1/cases/{case_id}")

    def count(self, path: str, params: Mapping[str, str]) -> int:
        return sum(1 for _ in self._pages(path, params))

    def post(self, path: str, body: dict) -> dict:
        """An officer action (SPEC sections 7, 10): 202 `{"event_id"}`."""
        try:
            response = self._http.post(path, json=body)
        except httpx.TransportError as error:
            raise QueryError(
                f"the query API at {self.base_url} does not answer ({type(error).__name__}); is `passage up` running?"
            ) from None
        if response.status_code != 202:
            raise QueryError(f"POST {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def _pages(self, path: str, params: Mapping[str, str]) -> Iterator[dict]:
        cursor = None
        while True:
            page = self._get(path, {**params, "limit": "500", **({"cursor": cursor} if cursor else {})})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> dict:
        try:
            response = self._http.get(path, params=params)
        except httpx.TransportError as error:
            raise QueryError(
                f"the query API at {self.base_url} does not answer ({type(error).__name__}); is `passage up` running?"
            ) from None
        if response.status_code == 401:
            raise QueryError(
                f"the query API at {self.base_url} refused the demo supervisor's token; "
                "restart `passage up` to issue fresh demo credentials"
            )
        if response.status_code != 200:
            raise QueryError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()
