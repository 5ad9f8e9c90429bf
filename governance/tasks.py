"""Celery tasks of the core app."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def check_tree() -> int:
    """Nightly integrity check of the org tree; returns the number of violations found."""
    from governance.tree_check import tree_violations

    violations = tree_violations()
    for violation in violations:
        logger.error("org tree violation %s", violation)
    return len(violations)


@shared_task(acks_late=True, ignore_result=True)
def flush_outbox() -> int:
    """Send the follow-up work left pending while the broker was down (every minute, from beat)."""
    from governance.outbox import flush

    return flush()
