"""The ledger's panel of the workbench: the bookkeeper's vouchers to finish, awaiting review and to
post; the township officer's vouchers awaiting his review and the months he could close now."""

import datetime

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from collective_economy.models import Period, Voucher, VoucherStatus
from governance.portal.workbench import Panel, register

P = "collective_economy."
# Months the panel lists (the book page has the rest).
MONTH_ROWS = 8


def _tiles(user, statuses) -> list[dict]:
    counts = dict(Voucher.objects.visible_to(user).filter(status__in=[s for s, _l, _i in statuses])
                  .values_list("status").annotate(n=Count("pk")).order_by())
    books = reverse("collective_economy:book-list")
    return [{"key": status, "title": label, "icon": icon, "count": counts.get(status, 0), "url": books}
            for status, label, icon in statuses]


def closable_months(user, today: datetime.date | None = None) -> list[Period]:
    """Each open year's first open month that has ended and has no voucher waiting: the next to close.

    Three queries, however many books: the first open months, those periods, their waiting vouchers.
    """
    today = today or timezone.localdate()
    first_open = (Period.objects.visible_to(user).filter(closed=False, book_year__closed=False)
                  .values("book_year").annotate(month=Min("month")).order_by())
    ended = [(row["book_year"], row["month"]) for row in first_open]
    if not ended:
        return []
    wanted = Q(pk__in=[])
    for book_year, month in ended:
        wanted |= Q(book_year=book_year, month=month)
    periods = [p for p in Period.objects.filter(wanted).select_related("book_year__book__village")
               .order_by("book_year__year", "month", "book_year__book__village__code")
               if (p.book_year.year, p.month) < (today.year, today.month)]
    if not periods:
        return []
    waiting = set(Voucher.objects.filter(book_year__in={p.book_year_id for p in periods})
                  .exclude(status=VoucherStatus.POSTED).values_list("book_year", "month").distinct())
    return [p for p in periods if (p.book_year_id, p.month) not in waiting]


@register("collective_economy.vouchers", order=20)
def vouchers(user):
    if not user.has_perm(P + "view_voucher"):
        return None
    if user.has_perm(P + "add_voucher"):
        tiles = _tiles(user, [
            (VoucherStatus.DRAFT, _("Vouchers to finish"), "bi-pencil-square"),
            (VoucherStatus.SUBMITTED, _("Awaiting review"), "bi-hourglass-split"),
            (VoucherStatus.REVIEWED, _("To post"), "bi-journal-check"),
        ])
        months = []
    elif user.has_perm(P + "review_voucher") or user.has_perm(P + "change_period"):
        tiles = _tiles(user, [(VoucherStatus.SUBMITTED, _("Awaiting my review"), "bi-hourglass-split")])
        months = closable_months(user)[:MONTH_ROWS] if user.has_perm(P + "change_period") else []
    else:
        return None
    return Panel(title=_("Collective economy"), template="collective_economy/_workbench_ledger.html",
                 context={"tiles": tiles, "months": months, "books_url": reverse("collective_economy:book-list")})


def _count_tile(key: str, title, icon: str, count: int, url: str, unit) -> dict:
    return {"key": key, "title": title, "icon": icon, "count": count, "url": url, "unit": unit}


@register("collective_economy.affairs", order=21)
def village_affairs(user):
    """What the village's affairs wait for: decisions under way and to publish, overdue contract payments
    and irregular contracts not yet cleaned up (three queries)."""
    from collective_economy.models import Contract, ContractInstalment, Decision, DecisionState
    from collective_economy.selectors.cleanup import overdue_instalments

    if not user.has_perm(P + "view_decision") and not user.has_perm(P + "view_contract"):
        return None
    tiles = []
    if user.has_perm(P + "view_decision"):
        decisions = Decision.objects.visible_to(user).aggregate(
            under_way=Count("pk", filter=~Q(state__in=[DecisionState.RESOLUTION, DecisionState.PUBLICATION,
                                                      DecisionState.RESULT, DecisionState.REJECTED])),
            to_publish=Count("pk", filter=Q(state__in=[DecisionState.RESOLUTION, DecisionState.PUBLICATION])))
        url = reverse("collective_economy:decision-list")
        tiles += [
            _count_tile("decisions_under_way", _("Decisions under way"), "bi-people", decisions["under_way"], url,
                        pgettext_lazy("measure word for matters", "matters")),
            _count_tile("decisions_to_publish", _("Resolutions or results to publish"), "bi-megaphone",
                        decisions["to_publish"], url, pgettext_lazy("measure word for matters", "matters")),
        ]
    if user.has_perm(P + "view_contract"):
        overdue = overdue_instalments(ContractInstalment.objects.visible_to(user)).count()
        irregular = Contract.objects.visible_to(user).filter(is_regular=False, cleaned_up_on__isnull=True).count()
        cleanup = reverse("collective_economy:cleanup")
        tiles += [
            _count_tile("overdue_payments", _("Overdue contract payments"), "bi-alarm", overdue, cleanup,
                        pgettext_lazy("measure word for payments", "payments")),
            _count_tile("irregular_contracts", _("Irregular contracts to clean up"), "bi-clipboard-x", irregular,
                        reverse("collective_economy:contract-list"),
                        pgettext_lazy("measure word for contracts", "contracts")),
        ]
    return Panel(title=_("Village affairs to do"), template="collective_economy/_workbench_affairs.html",
                 context={"tiles": tiles})
