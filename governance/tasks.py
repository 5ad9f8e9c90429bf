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
