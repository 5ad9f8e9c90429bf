"""Deleting old events: the only delete the trail allows, of events past the retention period."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from governance.audit.triggers import retention_days
from governance.models import AuditEvent


def audit_purge(*, before: datetime.date) -> int:
    """Delete the events older than ``before`` (a local day, not included); refuses a day younger than the
    retention period (ValidationError). Returns how many were deleted."""
    days = retention_days()
    limit = timezone.localdate() - datetime.timedelta(days=days)
    if before > limit:
        raise ValidationError(
            gettext("Audit events are kept %(days)s days: the date must be %(limit)s or earlier.")
            % {"days": days, "limit": limit.isoformat()}, code="too_young")
    cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time()))
    # One DELETE statement (the signal receivers of the trail have nothing to say about its own rows).
    with transaction.atomic():
        return AuditEvent.objects.filter(at__lt=cutoff)._raw_delete(using=AuditEvent.objects.db)
