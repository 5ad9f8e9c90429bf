"""Celery tasks of the grid app: the follow-up of a case's steps and the overdue scan."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def case_followup(event_id: int) -> int:
    """Notify the people a case's step concerns; returns how many notifications were written."""
    from grid.services.cases import case_event_notify

    return case_event_notify(event_id=event_id)


@shared_task(acks_late=True, ignore_result=True)
def cases_mark_overdue() -> int:
    """Flag the cases that passed their deadline since the last scan and notify (every 5 minutes)."""
    from grid.services.cases import cases_mark_overdue as mark

    return mark()
