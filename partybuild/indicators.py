"""Party building's monthly indicators: members, micro-wishes, volunteer service, with how the dashboard shows them."""

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from governance.indicators.registry import FLOW, HIGHER, STOCK, Indicator, register
from partybuild.models import (
    MemberRegistration,
    PartyMember,
    RegistrationStatus,
    ServiceRecord,
    UnitRegistration,
    Wish,
)


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
register(Indicator(key="partybuild.members", label=_("Party members"), unit=_("persons"), leaf=member_counts,
                   check=lambda start, end, units: PartyMember.objects.filter(
                       is_active=True, organization__org_unit__in=units).count(),
                   headline=110, league=110, over=STOCK))
register(Indicator(key="partybuild.wishes_posted", label=_("Micro-wishes posted"), unit=_("wishes"),
                   leaf=wish_counts, numerator="posted", check=lambda start, end, units: Wish.objects.filter(
                       community__in=units, posted_at__gte=start, posted_at__lt=end).count(), over=FLOW))
register(Indicator(key="partybuild.wishes_completed", label=_("Micro-wishes completed"), unit=_("wishes"),
                   leaf=wish_counts, numerator="completed", headline=120, league=120, better=HIGHER, over=FLOW))
register(Indicator(key="partybuild.volunteer_services", label=_("Volunteer services"), unit=_("services"),
                   leaf=service_hours, numerator="services", better=HIGHER, over=FLOW))
register(Indicator(key="partybuild.volunteer_hours", label=_("Volunteer hours"), unit=_("hours"),
                   leaf=service_hours, numerator="hours", headline=130, league=130, better=HIGHER, over=FLOW))
register(Indicator(key="partybuild.points", label=_("Service points awarded"), unit=_("points"),
                   leaf=service_hours, numerator="points", over=FLOW))
register(Indicator(key="partybuild.members_registered", label=_("In-service members registered"),
                   unit=_("persons"), leaf=member_registrations, over=STOCK))
register(Indicator(key="partybuild.units_registered", label=_("Work units registered"), unit=_("units"),
                   leaf=unit_registrations, over=STOCK))
