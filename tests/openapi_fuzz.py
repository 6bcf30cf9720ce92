"""Fuzz an ASGI app from its own /openapi.json with schemathesis: no answer may be a 5xx.

Driven through Hypothesis directly, one operation at a time (schemathesis' pytest fixture loader
does not run under pytest 9). Bounded: `max_examples` valid inputs per operation and half as
many invalid ones (invalid inputs mostly stop at validation and find less).
"""

from __future__ import annotations

from collections.abc import Mapping

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error


def assert_no_server_errors(app, headers: Mapping[str, str], max_examples: int = 30) -> int:
    """Run every operation of `app`; returns how many operations there were."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    budget = {GenerationMode.POSITIVE: max_examples, GenerationMode.NEGATIVE: max(1, max_examples // 2)}
    for operation in operations:
        for mode, examples in budget.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def call(case) -> None:
                case.call_and_validate(headers=dict(headers), checks=[not_a_server_error])

            try:
                call()
            except Unsatisfiable:
                continue  # nothing to make invalid (an operation without parameters or body)
            except Exception as error:
                raise AssertionError(f"{operation.label} ({mode.value} data): {error}") from error
    return len(operations)
