"""Store a batch so that the records the database refuses are set aside and the rest commit.

`isolating(attempt, delivered)` calls `attempt` (one transaction, or one savepoint) on the whole
batch; if it fails for a reason that is a record's fault (`refusals.is_record_fault`), it tries each half on its own, down to single records, and returns what committed plus
each refused record with its reason in `Applied.failed`. Halves keep log order, so a case's
events still fold in order. A batch with one bad record costs about 2 log2(n) extra attempts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.logs import get_logger
from services.worker import refusals
from services.worker.persist import Applied, Conflict
from services.worker.rows import Delivered

log = get_logger(__name__)


def isolating(attempt: Callable[[Sequence[Delivered]], Applied], delivered: Sequence[Delivered]) -> Applied:
    try:
        return attempt(delivered)
    except Exception as error:
        if isinstance(error, Conflict) or not refusals.is_record_fault(error):
            raise
        if len(delivered) == 1:
            [record] = delivered
            reason = refusals.reason(error)
            log.warning(
                "the database refused a record",
                case_id=record.event.case_id,
                event_id=str(record.event.event_id),
                event_type=record.event.event_type,
                partition=record.partition,
                offset=record.offset,
                reason=reason,
            )
            return Applied(failed=[(record, reason)])
        log.info(
            "the database refused a batch; storing it in halves to find the record",
            records=len(delivered),
            reason=refusals.reason(error),
        )
    middle = len(delivered) // 2
    return merged(isolating(attempt, delivered[:middle]), isolating(attempt, delivered[middle:]))


def merged(first: Applied, second: Applied) -> Applied:
    return Applied(
        applied=first.applied + second.applied,
        duplicates=first.duplicates + second.duplicates,
        changes=first.changes + second.changes,
        outbox_ids=first.outbox_ids + second.outbox_ids,
        failed=first.failed + second.failed,
        recorded_at=first.recorded_at + second.recorded_at,
    )
