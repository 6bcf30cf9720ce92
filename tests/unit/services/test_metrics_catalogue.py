"""The dashboard and the scrape config speak of the series Passage declares, and no other."""

from __future__ import annotations

import json
import re

import yaml
from prometheus_client import REGISTRY

import services.metrics  # noqa: F401 - declares the series
from services.config import ROOT

SPEC_SERIES = {  # SPEC section 14, in its order
    "passage_events_accepted",
    "passage_events_refused",
    "passage_http_request_duration_seconds",
    "passage_consumer_lag",
    "passage_worker_batch_size",
    "passage_publish_to_view_seconds",
    "passage_open_alerts",
    "passage_dead_lettered",
    "passage_sweep_duration_seconds",
    "passage_webhook_deliveries",
}


def declared() -> set[str]:
    return {family.name for family in REGISTRY.collect() if family.name.startswith("passage_")}


def test_every_series_of_the_spec_is_declared():
    assert declared() == SPEC_SERIES


def test_the_dashboard_charts_every_series_and_only_declared_ones():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "passage.json").read_text())
    used = {
        re.sub(r"_(bucket|sum|count|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"passage_[a-z_]+", target["expr"])
    }
    assert used == SPEC_SERIES


def test_the_scrape_config_has_the_three_processes():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {
        "passage-gateway": ["gateway:8080"],
        "passage-query": ["query:8081"],
        "passage-worker": ["worker:9464"],
    }
