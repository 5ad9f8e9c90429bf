"""Celery tasks of the org chain: the nightly tree check, and the outbox's flush.

The monthly rollup's tasks are in ``governance.indicators.tasks``.
"""

import logging

from celery import shared_task

from governance.outbox import flush
from governance.tree_check import tree_violations

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def check_tree() -> int:
    """Nightly integrity check of the org tree; returns the number of violations found."""
    violations = tree_violations()
    for violation in violations:
        logger.error("org tree violation %s", violation)
    return len(violations)


@shared_task(acks_late=True, ignore_result=True)
def flush_outbox() -> int:
    """Send the follow-up work left pending while the broker was down (every minute, from beat)."""
    return flush()
