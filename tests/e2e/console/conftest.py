"""The console in a real browser: Debian's headless Chromium driven by Selenium through Debian's
chromium-driver, against `create_app` served by uvicorn on loopback, PostgreSQL, the real broker and
a `passage worker` process, so officer actions land in the views as they do in production.

Nothing is downloaded at run time: the browser and driver come from `deploy/install.sh` (apt), and
axe-core is a vendored file. Without them the tests fail saying what to install; they never skip.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.query.app import create_app
from services.query.officers import add_officer
from services.query.sql import alerts
from services.storage.db import make_engine
from services.storage.migrate import migrate
from tests.factories import make, money
from tests.isolation import own_settings, worker_settings_on
from tests.live import WorkerProcess, event_records, publish
from tests.polling import wait_until
from tests.servers import serving

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
IN_SCOPE, OTHER_IN_SCOPE, OUT_OF_SCOPE = "IN-CONSOLE-0001", "IN-CONSOLE-0003", "IN-CONSOLE-0002"
OFFICER = "console-sa"  # an officer with scope dest:SA


def journeys(now: datetime) -> list:
    """Three recent journeys: a deployed SA case in distress, an SA case charged a fee, an AE case charged a fee."""

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    offer = {
        "offer_id": "O-1",
        "employer_id": "EMP-ALNOOR",
        "employer_name": "Al Noor Contracting",
        "destination_country": "SA",
        "occupation_code": "7112",
        "monthly_wage": money("1500.00"),
        "contract_months": 24,
        "recruiting_agent_id": "RA-12",
    }
    deployed = [
        make("migrant.registered", ago(40), case_id=IN_SCOPE),
        make("skilling.certified", ago(35), case_id=IN_SCOPE, occupation_code="7112"),
        make("recruitment.job_offer_made", ago(30), case_id=IN_SCOPE, **offer),
        make("recruitment.contract_signed", ago(28), case_id=IN_SCOPE, offer_id="O-1", employer_id="EMP-ALNOOR"),
        make("recruitment.emigration_clearance_granted", ago(20), case_id=IN_SCOPE),
        make("deployment.departed", ago(10), case_id=IN_SCOPE),
        make("deployment.arrived", ago(9.5), case_id=IN_SCOPE),
        make("deployment.employment_started", ago(9), case_id=IN_SCOPE, employer_id="EMP-ALNOOR"),
        make("deployment.welfare_check_completed", ago(8), case_id=IN_SCOPE),
        make("deployment.distress_reported", ago(2), case_id=IN_SCOPE, description="employer keeps her locked in"),
    ]
    charged = [
        *[make("migrant.registered", ago(20), case_id=case_id) for case_id in (OTHER_IN_SCOPE, OUT_OF_SCOPE)],
        make("recruitment.job_offer_made", ago(15), case_id=OTHER_IN_SCOPE, **{**offer, "offer_id": "O-3"}),
        make(
            "recruitment.job_offer_made",
            ago(15),
            case_id=OUT_OF_SCOPE,
            **{**offer, "offer_id": "O-2", "destination_country": "AE", "monthly_wage": money("2000.00", "AED")},
        ),
        *[
            make("recruitment.fee_paid", ago(12), case_id=case_id, paid_by="migrant", amount=money("90000.00", "INR"))
            for case_id in (OTHER_IN_SCOPE, OUT_OF_SCOPE)
        ],
    ]
    return deployed + charged


@dataclass
class ConsoleWorld:
    base_url: str
    token: str
    screenshots: Path
    engine: object


@pytest.fixture(scope="module")
def console_world(kafka_bootstrap: str, pg_admin_url: str, tmp_path_factory) -> Iterator[ConsoleWorld]:
    var_dir = tmp_path_factory.mktemp("console-var")
    base = worker_settings_on(kafka_bootstrap, var_dir, partitions=2)
    with own_settings(base, pg_admin_url, "console") as settings:
        engine = make_engine(settings)
        migrate(engine)
        token = add_officer(engine, settings.secret_key, OFFICER, "officer", ["dest:SA"]).token
        publish(settings, event_records(settings, journeys(datetime.now(UTC))))
        worker = WorkerProcess(settings, var_dir / "worker.log").start()
        try:

            def projected() -> bool:
                with engine.connect() as conn:
                    return conn.execute(select(func.count()).select_from(alerts)).scalar_one() == 3

            wait_until(projected, timeout_s=120, what="the three seeded alerts in the views")
            with serving(create_app(settings)) as base_url:
                yield ConsoleWorld(base_url, token, tmp_path_factory.mktemp("console-screenshots"), engine)
        finally:
            worker.stop()
            engine.dispose()


def chromium_options(user_data_dir: Path):
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(argument)
    return options


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the console's browser tests need Debian's chromium and "
            "chromium-driver; run `bash deploy/install.sh` (or `apt-get install -y chromium chromium-driver`)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: run `pip install -e '.[dev]'` in the virtualenv")
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER),
        options=chromium_options(tmp_path_factory.mktemp("chromium-profile")),
    )
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@dataclass
class Pages:
    """The browser on the console: page checks shared by the scenario."""

    driver: object
    world: ConsoleWorld
    shots: list[Path] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.driver.get(self.world.base_url + path)

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def screenshot(self, name: str) -> None:
        """The whole page at 1280 px and at 360 px wide, as PNG files."""
        for width in (1280, 360):
            metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(height, 200)})
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
            path = self.world.screenshots / f"{name}-{width}.png"
            path.write_bytes(base64.b64decode(shot["data"]))
            self.shots.append(path)
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def axe_problems(self) -> list[str]:
        """Serious and critical axe-core violations on the current page (and at 360 px)."""
        problems = []
        for width in (1280, 360):
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
            )
            self.driver.execute_script(AXE.read_text(encoding="utf-8"))
            violations = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {resultTypes: ['violations']})"
                ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))))"
                ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
            )
            problems += [
                f"{width}px {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
                for v in violations
                if v["impact"] in ("serious", "critical")
            ]
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return problems

    def check(self, name: str) -> None:
        """Every page the scenario visits: no serious or critical accessibility problem; screenshots."""
        assert self.axe_problems() == [], f"accessibility problems on the {name} page"
        self.screenshot(name)
