"""Month approval (月度数据审核锁定): who may compute and who may approve a month, approving and
re-opening it, and the nightly check that marks a late correction. A locked month is never recomputed.

Below ``runs`` (which refuses to start a locked month) and ``tasks`` (the nightly check);
it knows neither.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.indicators.engine import approval_changes
from governance.indicators.months import month_start
from governance.models import MonthApproval, Role, RollupRun, RollupStatus

APPROVAL_NOT_ALLOWED = _("Only an administrator or a county official may approve or re-open a month.")
APPROVAL_MONTH_NOT_OVER = _("%(month)s is not over yet: a month can be approved only after it ends.")
APPROVAL_NOT_COMPUTED = _("Compute %(month)s completely before approving it (the last run is %(status)s).")
APPROVAL_ALREADY = _("%(month)s is already approved.")
APPROVAL_NOT_LOCKED = _("%(month)s is not approved: there is nothing to re-open.")


def can_start_rollup(user) -> bool:
    """Administrators start a month's computation by hand.

    Here rather than in ``runs`` so that the dashboard (a sibling of ``runs``) shows the button.
    """
    return user.is_superuser or user.role == Role.ADMIN


def can_approve_months(user) -> bool:
    """Administrators and county officials approve and re-open months."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.COUNTY)


def _approver(user) -> None:
    if not can_approve_months(user):
        raise ValidationError(APPROVAL_NOT_ALLOWED, code="not_allowed")


def month_approve(*, period, user):
    """Lock a month's indicators after review: scheduled runs no longer recompute it."""
    _approver(user)
    period = month_start(period)
    month = f"{period:%Y-%m}"
    if period >= month_start(timezone.localdate()):
        raise ValidationError(APPROVAL_MONTH_NOT_OVER, code="month_not_over", params={"month": month})
    # The month's last run of the whole tree: every unit, or the top unit an administrator starts from.
    whole = Q(org_unit__isnull=True) | Q(org_unit__parent__isnull=True)
    last = RollupRun.objects.filter(whole, period=period).order_by("-started_at", "-id").first()
    if last is None or last.status != RollupStatus.COMPLETE:
        status = last.get_status_display() if last else gettext("missing")
        raise ValidationError(APPROVAL_NOT_COMPUTED, code="not_computed", params={"month": month, "status": status})
    with transaction.atomic():
        approval, _created = MonthApproval.objects.select_for_update().get_or_create(period=period,
                                                                                     defaults={"locked": False})
        if approval.locked:
            raise ValidationError(APPROVAL_ALREADY, code="already_approved", params={"month": month})
        approval.locked, approval.approved_by, approval.approved_at = True, user, timezone.now()
        approval.changed_at = approval.checked_at = None
        approval.full_clean()
        approval.save()
        return approval


def month_reopen(*, period, user):
    """Unlock an approved month so that it can be corrected and computed again."""
    _approver(user)
    period = month_start(period)
    with transaction.atomic():
        approval = MonthApproval.objects.select_for_update().filter(period=period, locked=True).first()
        if approval is None:
            raise ValidationError(APPROVAL_NOT_LOCKED, code="not_locked", params={"month": f"{period:%Y-%m}"})
        approval.locked, approval.reopened_by, approval.reopened_at = False, user, timezone.now()
        approval.save(update_fields=["locked", "reopened_by", "reopened_at"])
        return approval


def month_check_approval(*, period):
    """Record on the approval whether the month's values changed since it was approved (nightly)."""
    period = month_start(period)
    changed = approval_changes(period)
    now = timezone.now()
    with transaction.atomic():
        approval = MonthApproval.objects.select_for_update().get(period=period)
        approval.checked_at = now
        if not changed:
            approval.changed_at = None
        elif approval.changed_at is None:
            approval.changed_at = now
        approval.save(update_fields=["checked_at", "changed_at"])
        return approval


def period_is_locked(period: datetime.date) -> bool:
    """Whether the month is approved and locked against recomputation (see ``MonthApproval``)."""
    return MonthApproval.objects.filter(period=month_start(period), locked=True).exists()
