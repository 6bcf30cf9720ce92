"""Every log line names its logger and level and carries the ids bound for the work in hand; the
output goes to the sys.stderr of the moment, so pytest's capture sees it."""

from __future__ import annotations

import json
import subprocess
import sys

from services.config import ROOT

PROGRAM = """
import logging, structlog
from services.logs import configure_logging, get_logger
log = get_logger("services.example")  # at import, before configuration, like every module
configure_logging("json", "INFO")
with structlog.contextvars.bound_contextvars(case_id="IN-1234", event_id="e-1", correlation_id="c-1"):
    log.info("folded an event", events=1)
    logging.getLogger("faust.example").warning("a library line")
"""


def test_json_lines_carry_logger_level_and_the_bound_ids():
    done = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60)
    ours, library = (json.loads(line) for line in done.stderr.splitlines())
    assert (ours["logger"], ours["level"], ours["event"]) == ("services.example", "info", "folded an event")
    assert (library["logger"], library["level"], library["event"]) == ("faust.example", "warning", "a library line")
    for line in (ours, library):
        assert (line["case_id"], line["event_id"], line["correlation_id"]) == ("IN-1234", "e-1", "c-1")


def test_lines_reach_the_stderr_of_the_moment(capsys):
    from services.logs import configure_logging, get_logger

    configure_logging()
    get_logger("services.example").warning("seen by this test's capture")
    assert "seen by this test's capture" in capsys.readouterr().err
