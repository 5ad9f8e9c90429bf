"""Party building's monthly indicators: the party chain (organisations by kind, party-member households),
members, micro-wishes, volunteer service, with how the dashboard shows them.

The kinds of party organisation are data an administrator keeps, but an indicator's key is
declared here, once, and its monthly rows must keep their meaning. So the figures by kind are
one indicator per default kind (``KIND_FIGURES``: the kinds every portal starts with, the city
district's among them) plus one for every kind added later ("other kinds"), and their total:
a kind added in the admin is counted at once, in "other kinds" and the total, and a kind
that deserves a figure of its own gets one line in ``KIND_FIGURES``.
"""

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.indicators.registry import FLOW, HIGHER, STOCK, Breakdown, Indicator, register, register_breakdown
from partybuild.models import (
    CentralHousehold,
    MemberRegistration,
    OrgKind,
    PartyMember,
    PartyOrganization,
    RegistrationStatus,
    ServiceRecord,
    UnitRegistration,
    Wish,
)

# The kinds with a figure of their own (codes of partybuild.kinds.DEFAULT_KINDS), in the chain's order.
KIND_FIGURES = {
    OrgKind.COMMITTEE: _("Party committees"),
    OrgKind.STREET_COMMITTEE: _("Street party working committees"),
    OrgKind.COMMUNITY_COMMITTEE: _("Community party committees"),
    OrgKind.GENERAL_BRANCH: _("General party branches"),
    OrgKind.BRANCH: _("Party branches"),
    OrgKind.GRID_BRANCH: _("Grid party branches"),
    OrgKind.GROUP: _("Party groups"),
}


def _kind_column(code: str) -> str:
    return f"k_{code}"


def organization_counts(start, end, units):
    """Active party organisations at the unit each covers (where it hangs): all, by kind, of the other kinds."""
    by_kind = {_kind_column(code): Count("pk", filter=Q(kind=code)) for code in KIND_FIGURES}
    return (PartyOrganization.objects.filter(is_active=True, org_unit__in=units)
            .values(node=F("org_unit"))
            .annotate(n=Count("pk"), other=Count("pk", filter=~Q(kind__in=list(KIND_FIGURES))), **by_kind))


def _organizations_check(codes=None, *, other=False):
    """A plain count of the active organisations in the units (of ``codes``; or of the kinds without a figure)."""

    def check(start, end, units):
        organizations = PartyOrganization.objects.filter(is_active=True, org_unit__in=units)
        if other:
            organizations = organizations.exclude(kind__in=list(KIND_FIGURES))
        elif codes is not None:
            organizations = organizations.filter(kind__in=codes)
        return organizations.count()

    return check


def _central_households(end):
    """Party-member households of active households at the month's end (since before it, or since unknown)."""
    return CentralHousehold.objects.filter(Q(since__isnull=True) | Q(since__lt=end.date()), household__is_active=True)


def central_household_counts(start, end, units):
    """Party-member households (党员中心户) at their household's grid."""
    return (_central_households(end).filter(household__grid__in=units)
            .values(node=F("household__grid")).annotate(n=Count("pk")))


def member_counts(start, end, units):
    """Active members at the unit of their party organisation (the workplace for in-service members)."""
    return (PartyMember.objects.filter(is_active=True, organization__org_unit__in=units)
            .values(node=F("organization__org_unit")).annotate(n=Count("pk")))


def wish_counts(start, end, units):
    """Wishes posted in the month, and wishes done (消单) in the month, at their community."""
    done = Q(done_at__gte=start, done_at__lt=end)
    return (Wish.objects.filter(community__in=units, posted_at__lt=end)
            .filter(Q(posted_at__gte=start) | Q(done_at__gte=start, done_at__lt=end))
            .values(node=F("community"))
            .annotate(posted=Count("pk", filter=Q(posted_at__gte=start)), completed=Count("pk", filter=done)))


def service_hours(start, end, units):
    """Volunteer hours served in the month, at the community where they were served."""
    return (ServiceRecord.objects.filter(community__in=units, date__gte=start.date(), date__lt=end.date())
            .values(node=F("community")).annotate(hours=Sum("hours"), services=Count("pk"), points=Sum("points")))


def member_registrations(start, end, units):
    """In-service members registered (在职党员报到) with a community at the month's end."""
    day = end.date()
    active = Q(ended_on__isnull=True, status=RegistrationStatus.ACTIVE) | Q(ended_on__gte=day)
    return (MemberRegistration.objects.filter(active, community__in=units, registered_on__lt=day)
            .values(node=F("community")).annotate(n=Count("pk")))


def unit_registrations(start, end, units):
    """Work units registered (单位报到) with a community at the month's end."""
    return (UnitRegistration.objects.filter(status=RegistrationStatus.ACTIVE, community__in=units,
                                            registered_on__lt=end.date())
            .values(node=F("community")).annotate(n=Count("pk")))


# The dashboard's places (headline, league) follow the grid's (30-100).
ORGANIZATIONS = pgettext_lazy("measure word for party organisations", "organisations")
HOUSEHOLDS = pgettext_lazy("measure word for households", "households")
PERSONS = pgettext_lazy("measure word for persons", "persons")
WISHES = pgettext_lazy("measure word for wishes", "wishes")
register(Indicator(key="partybuild.organizations", label=_("Party organisations"), unit=ORGANIZATIONS,
                   leaf=organization_counts, check=_organizations_check(), league=140, over=STOCK,
                   definition=_("Active party organisations of every kind at the units of the area.")))
register(Indicator(key="partybuild.central_households", label=_("Party-member households"), unit=HOUSEHOLDS,
                   leaf=central_household_counts, check=lambda start, end, units: _central_households(end).filter(
                       household__grid__in=units).count(), headline=140, league=150, over=STOCK,
                   definition=_("Active households of the area marked as party-member households at the end of "
                                "the month.")))
register(Indicator(key="partybuild.members", label=_("Party members"), unit=PERSONS, leaf=member_counts,
                   check=lambda start, end, units: PartyMember.objects.filter(
                       is_active=True, organization__org_unit__in=units).count(),
                   headline=110, league=110, over=STOCK,
                   definition=_("Active members of the party organisations of the area (an in-service member "
                                "counts at his workplace's organisation).")))
register(Indicator(key="partybuild.wishes_posted", label=_("Micro-wishes posted"), unit=WISHES,
                   leaf=wish_counts, numerator="posted", check=lambda start, end, units: Wish.objects.filter(
                       community__in=units, posted_at__gte=start, posted_at__lt=end).count(), over=FLOW,
                   definition=_("Micro-wishes posted in the month at the communities of the area.")))
register(Indicator(key="partybuild.wishes_completed", label=_("Micro-wishes completed"), unit=WISHES,
                   leaf=wish_counts, numerator="completed", headline=120, league=120, better=HIGHER, over=FLOW,
                   definition=_("Micro-wishes marked done in the month, whenever they were posted.")))
register(Indicator(key="partybuild.volunteer_services", label=_("Volunteer services"),
                   unit=pgettext_lazy("measure word for services", "times"),
                   leaf=service_hours, numerator="services", better=HIGHER, over=FLOW,
                   definition=_("Volunteer service records dated in the month, at the community where the "
                                "service was done.")))
register(Indicator(key="partybuild.volunteer_hours", label=_("Volunteer hours"),
                   unit=pgettext_lazy("measure word for hours", "hours"),
                   leaf=service_hours, numerator="hours", headline=130, league=130, better=HIGHER, over=FLOW,
                   definition=_("The hours of the volunteer services dated in the month.")))
register(Indicator(key="partybuild.points", label=_("Service points awarded"),
                   unit=pgettext_lazy("measure word for points", "points"),
                   leaf=service_hours, numerator="points", over=FLOW,
                   definition=_("The points awarded for the volunteer services dated in the month.")))
register(Indicator(key="partybuild.members_registered", label=_("In-service members registered"),
                   unit=PERSONS, leaf=member_registrations, over=STOCK,
                   definition=_("In-service party members registered with a community of the area at the end "
                                "of the month.")))
register(Indicator(key="partybuild.units_registered", label=_("Work units registered"),
                   unit=pgettext_lazy("measure word for org units", "units"), leaf=unit_registrations, over=STOCK,
                   definition=_("Work units registered with a community of the area at the end of the month.")))


# The dashboard's "party organisations by kind": one bar per kind with a figure, and the others together.
ORGANIZATIONS_BY_KIND = register_breakdown(Breakdown(
    key="partybuild.organizations_by_kind", title=_("Party organisations by kind"), label_heading=_("Kind"),
    value_heading=pgettext_lazy("count of party organisations", "Organisations"),
    empty=_("Party organisation counts by kind are not computed yet."), order=20,
    definition=_("Active party organisations by kind; a kind added in the admin counts among the other kinds.")))
for _code, _label in KIND_FIGURES.items():
    register(Indicator(key=f"partybuild.organizations_kind.{_code}", label=_label, unit=ORGANIZATIONS,
                       leaf=organization_counts, numerator=_kind_column(_code), check=_organizations_check([_code]),
                       breakdown=ORGANIZATIONS_BY_KIND.key, over=STOCK))
register(Indicator(key="partybuild.organizations_kind.other", label=_("Party organisations of other kinds"),
                   unit=ORGANIZATIONS, leaf=organization_counts, numerator="other",
                   check=_organizations_check(other=True), breakdown=ORGANIZATIONS_BY_KIND.key, over=STOCK))
