"""Writes of the party-building app that carry a business rule.

Every function validates (``full_clean`` plus the rules below), runs in one transaction and
raises django's ``ValidationError`` with a message the web, the API, the admin and the Excel
importer all show as is. The messages are module constants so that the importer's bulk checks
say exactly what the services say.

Races and the locks that settle them:

- The party-organisation tree is renumbered by MPTT with read-then-write: every tree write
  holds the tree's advisory lock (``tree_write_lock(PartyOrganization.tree_lock_key)``).
- "One active registration per member" and "no overlapping services per member and day" are
  read-then-write checks: the member's row is locked first, so two clerks registering (or
  recording hours for) the same member one after the other see each other's row. The partial
  unique constraint on active registrations is the last guard for writers that bypass the lock.
- A wish moves through its six states only here. Each step locks the wish's row and re-reads
  its state, so of two members taking the same wish at once exactly one wins; the other is
  told the wish is already taken.

Rules decided here (the domain leaves them open):

- Dispatch (派单) goes to an active party member who is either registered (active) with the
  wish's community or a member of a party organisation covering a unit inside it. A wish may
  also be dispatched to nobody in particular (``member=None``): then any such member may take
  it (接单); a wish dispatched to a member can be taken by that member only.
- Hours are the time between start and end on one day, to the tenth of an hour (6 minutes,
  half up); a service past midnight is recorded as two services. Points: ``POINTS_PER_HOUR``
  per hour, i.e. one point per 6 minutes, so points are exact whole numbers (双积分: the
  record is seen by the community where it was done and by the member's own branch).
"""

import datetime
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit
from governance.selectors import subtree_q
from governance.tree import tree_write_lock
from governance.validators import validate_phone
from partybuild.models import (
    CHILD_KINDS,
    CentralHousehold,
    MemberRegistration,
    OrgKind,
    PartyMember,
    PartyOrganization,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    ServiceRecord,
    UnitOffer,
    UnitRegistration,
    Wish,
    WishState,
)
from partybuild.selectors import wish_eligible_members

# --- Messages (shared with the Excel importer) ---------------------------------------------

NOT_A_COMMUNITY = _("Choose a village or community.")
ORG_UNDER_ITSELF = _("An organisation cannot be placed under itself or one of its own sub-organisations.")
ORG_CHILD_DOES_NOT_FIT = _("%(child)s is a %(child_kind)s and cannot stay under a %(kind)s; move it first.")
ORG_INACTIVE = _("The party organisation %(organization)s is inactive.")
MEMBER_INACTIVE = _("%(member)s is not an active party member.")
MEMBER_NOT_IN_SERVICE = _(
    "%(member)s is not an in-service party member; only in-service members register with a community."
)
MEMBER_STILL_REGISTERED = _("%(member)s has an active registration with %(community)s; end it first.")
SECOND_ACTIVE_REGISTRATION = _("%(member)s already has an active registration with %(community)s; end it first.")
SECOND_ACTIVE_UNIT_REGISTRATION = _("%(unit)s already has an active registration with %(community)s.")
REGISTRATION_ENDED = _("This registration has already ended.")
ENDED_BEFORE_REGISTERED = _("The end date cannot be before the registration date (%(date)s).")
CLAIM_BEFORE_REGISTERED = _("A post cannot be claimed before the registration date (%(date)s).")
POST_ALREADY_CLAIMED = _("The post “%(post)s” is already claimed in this registration.")
CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE = _(
    "%(member)s does not live in household %(household)s; a party-member household is run by a member living in it."
)
HOUSEHOLD_OUTSIDE_COMMUNITY = _("Household %(household)s does not belong to %(community)s.")
WISH_WRONG_STATE = _("This wish is “%(current)s”; this step needs a wish that is “%(expected)s”.")
WISH_MEMBER_NOT_ELIGIBLE = _(
    "%(member)s is neither registered with %(community)s nor a member of one of its party organisations."
)
WISH_DISPATCHED_TO_OTHER = _("This wish was dispatched to %(member)s; only that member can take it.")
WISH_RESULT_REQUIRED = _("Describe what was done.")
WISH_CLOSED = _("A wish that is done can no longer be edited.")
SERVICE_END_NOT_AFTER_START = _(
    "The end time must be after the start time (record a service past midnight as two services, one per day)."
)
SERVICE_TOO_SHORT = _("A service lasts at least 0.1 hour (6 minutes).")
SERVICE_DAY_OVER_24 = _("%(member)s would serve %(hours)s hours on %(date)s; a day has at most 24.")
SERVICE_OVERLAP = _(
    "%(start)s–%(end)s overlaps the service of %(member)s from %(other_start)s to %(other_end)s on %(date)s."
)
SERVICE_IN_FUTURE = _("A service cannot be recorded for a date in the future.")
SERVICE_WISH_NOT_TAKEN_BY_MEMBER = _("The micro-wish “%(wish)s” was not taken by %(member)s.")
SERVICE_WISH_OTHER_COMMUNITY = _("A service for a micro-wish is recorded in the wish's community (%(community)s).")

# --- Hours and points (shared with the Excel importer) -------------------------------------

HOURS_STEP = Decimal("0.1")
MAX_HOURS_PER_DAY = Decimal(24)
# One point per 6 minutes (0.1 hour): hours have one decimal, so points are whole numbers.
POINTS_PER_HOUR = 10


def service_hours(start_time: datetime.time, end_time: datetime.time) -> Decimal:
    """Hours from ``start_time`` to ``end_time`` on one day, to the tenth (half up); ≤ 0 if end ≤ start."""

    def seconds(t: datetime.time) -> int:
        return t.hour * 3600 + t.minute * 60 + t.second

    return (Decimal(seconds(end_time) - seconds(start_time)) / 3600).quantize(HOURS_STEP, ROUND_HALF_UP)


def service_points(hours: Decimal) -> int:
    """The points a service of ``hours`` earns (``POINTS_PER_HOUR`` per hour)."""
    return int((Decimal(hours) * POINTS_PER_HOUR).to_integral_value(ROUND_HALF_UP))


def overlaps(a: Sequence, b: Sequence) -> bool:
    """Whether two ``(start, end)`` intervals overlap; touching ones (one ends as the other starts) do not."""
    return a[0] < b[1] and b[0] < a[1]


def overlapping(intervals: Iterable[Sequence]) -> list[tuple]:
    """Overlapping pairs among ``intervals``, each a ``(start, end, ...)`` tuple (extra items are kept).

    Intervals that only touch (one ends when the next starts) do not overlap. Sorted sweep,
    O(n log n): every interval that overlaps an earlier one is reported once, paired with the
    earlier interval that reaches furthest — enough to name the conflict of every bad row.
    """
    pairs = []
    furthest = None
    for item in sorted(intervals, key=lambda item: (item[0], item[1])):
        if furthest is not None and item[0] < furthest[1]:
            pairs.append((furthest, item))
        if furthest is None or item[1] > furthest[1]:
            furthest = item
    return pairs


def day_total_exceeded(hours: Iterable[Decimal]) -> bool:
    """True when the hours one member served on one day add up to more than 24."""
    return sum((Decimal(h) for h in hours), Decimal(0)) > MAX_HOURS_PER_DAY


# --- Helpers -------------------------------------------------------------------------------


def _community(unit: OrgUnit, field: str = "community") -> OrgUnit:
    """The unit re-read (its tree range may have moved), refused unless it is a village or community."""
    fresh = OrgUnit.objects.get(pk=unit.pk)
    if fresh.level != Level.VILLAGE:
        raise ValidationError({field: NOT_A_COMMUNITY})
    return fresh


def _save_guarded(instance, error: ValidationError) -> None:
    """Save; a unique constraint broken by a concurrent writer becomes ``error``, not a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise error from None


def _invalid(field: str, message, **params) -> ValidationError:
    """``message`` (formatted with ``params``) as the error of ``field``."""
    return ValidationError({field: ValidationError(message, params=params or None)})


def _set_fields(instance, fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{type(instance).__name__} fields that cannot be set here: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)


# --- Party organisations -------------------------------------------------------------------

ORGANIZATION_FIELDS = {"name", "kind", "parent", "org_unit", "work_unit", "is_active"}


def party_organization_create(
    *,
    name: str,
    kind: str,
    org_unit: OrgUnit,
    parent: PartyOrganization | None = None,
    work_unit: str = "",
    is_active: bool = True,
) -> PartyOrganization:
    with tree_write_lock(PartyOrganization.tree_lock_key):
        if parent is not None:
            # The parent's lft/rght may have moved since the caller loaded it.
            parent = PartyOrganization.objects.get(pk=parent.pk)
        organization = PartyOrganization(
            name=name, kind=kind, org_unit=org_unit, parent=parent, work_unit=work_unit, is_active=is_active
        )
        organization.full_clean()
        organization.save()
        return organization


def party_organization_check(*, organization: PartyOrganization) -> None:
    """The rules of a changed organisation beyond its own fields: where it moves, and its children's kinds."""
    if organization.pk is None:
        return
    parent = organization.parent
    if parent is not None and (parent.pk == organization.pk or parent.is_descendant_of(organization)):
        raise ValidationError({"parent": ORG_UNDER_ITSELF})
    if organization.kind:
        misfit = organization.children.exclude(kind__in=CHILD_KINDS[organization.kind]).first()
        if misfit is not None:
            raise _invalid(
                "kind",
                ORG_CHILD_DOES_NOT_FIT,
                child=misfit.name,
                child_kind=OrgKind(misfit.kind).label,
                kind=OrgKind(organization.kind).label,
            )


def party_organization_update(*, organization: PartyOrganization, **fields) -> PartyOrganization:
    """Change an organisation (moving it when ``parent`` changes); validated like a create."""
    with tree_write_lock(PartyOrganization.tree_lock_key):
        fresh = PartyOrganization.objects.select_for_update().get(pk=organization.pk)
        _set_fields(fresh, fields, ORGANIZATION_FIELDS)
        if fresh.parent_id is not None:
            fresh.parent = PartyOrganization.objects.get(pk=fresh.parent_id)
        party_organization_check(organization=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh


# --- Party members and party-member households ---------------------------------------------

MEMBER_FIELDS = {"organization", "status", "joined_on", "in_service", "work_unit", "is_mobile", "is_active"}


def party_member_check(*, member: PartyMember) -> None:
    """The rules of a new or changed member beyond his own fields.

    A new organisation must be active (an existing member of a branch since closed keeps it
    until moved); a member leaving service, or the party, ends his registration first.
    """
    organization = member.organization
    moved = member.pk is None or not PartyMember.objects.filter(pk=member.pk, organization=organization).exists()
    if moved and not organization.is_active:
        raise _invalid("organization", ORG_INACTIVE, organization=organization)
    if member.pk is not None and not (member.in_service and member.is_active):
        active = member.registrations.filter(status=RegistrationStatus.ACTIVE).select_related("community").first()
        if active is not None:
            field = "in_service" if not member.in_service else "is_active"
            raise _invalid(field, MEMBER_STILL_REGISTERED, member=member, community=active.community)


def party_member_create(
    *,
    resident,
    organization: PartyOrganization,
    joined_on: datetime.date,
    status: str = "full",
    in_service: bool = False,
    work_unit: str = "",
    is_mobile: bool = False,
) -> PartyMember:
    with transaction.atomic():
        member = PartyMember(
            resident=resident,
            organization=organization,
            joined_on=joined_on,
            status=status,
            in_service=in_service,
            work_unit=work_unit.strip(),
            is_mobile=is_mobile,
        )
        party_member_check(member=member)
        member.full_clean()
        member.save()
        return member


def party_member_update(*, member: PartyMember, **fields) -> PartyMember:
    """Change a member's fields. Leaving service (or the party) needs his registration ended first."""
    with transaction.atomic():
        fresh = PartyMember.objects.select_for_update().get(pk=member.pk)
        _set_fields(fresh, fields, MEMBER_FIELDS)
        party_member_check(member=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh


def central_household_check(*, household: Household, member: PartyMember) -> None:
    if not member.is_active:
        raise _invalid("member", MEMBER_INACTIVE, member=member)
    if member.resident.household_id != household.pk:
        raise _invalid("member", CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE, member=member, household=household)


def central_household_set(
    *, household: Household, member: PartyMember, since: datetime.date | None = None
) -> CentralHousehold:
    """Make ``household`` a party-member household (党员中心户) run by ``member``, or change who runs it."""
    with transaction.atomic():
        # Locks the household: two clerks setting it at once apply one after the other.
        household = Household.objects.select_for_update().get(pk=household.pk)
        member = PartyMember.objects.select_related("resident").get(pk=member.pk)
        central_household_check(household=household, member=member)
        central = CentralHousehold.objects.filter(household=household).first() or CentralHousehold(
            household=household
        )
        central.member = member
        central.since = since
        central.full_clean()
        central.save()
        return central


def central_household_clear(*, household: Household) -> None:
    """The household is no longer a party-member household."""
    CentralHousehold.objects.filter(household=household).delete()


# --- Double report: units ------------------------------------------------------------------

UNIT_REGISTRATION_FIELDS = {
    "unit_name", "party_organization", "community", "registered_on", "contact_name", "contact_phone"
}


def unit_registration_check(*, registration: UnitRegistration) -> None:
    """The rules of a new or changed unit registration beyond its own fields (one active per unit and community)."""
    registration.unit_name = registration.unit_name.strip()
    if registration.contact_phone:
        try:
            validate_phone(registration.contact_phone)
        except ValidationError as exc:
            raise ValidationError({"contact_phone": exc.messages}) from None
    if registration.status == RegistrationStatus.ACTIVE:
        others = UnitRegistration.objects.filter(
            unit_name=registration.unit_name, community=registration.community, status=RegistrationStatus.ACTIVE
        ).exclude(pk=registration.pk)
        if others.exists():
            raise _second_unit_registration(registration)


def _second_unit_registration(registration: UnitRegistration) -> ValidationError:
    return _invalid(
        "unit_name", SECOND_ACTIVE_UNIT_REGISTRATION, unit=registration.unit_name, community=registration.community
    )


def unit_registration_create(
    *,
    unit_name: str,
    party_organization: str,
    community: OrgUnit,
    registered_on: datetime.date,
    contact_name: str = "",
    contact_phone: str = "",
    offers: Iterable[tuple[str, str]] = (),
) -> UnitRegistration:
    """A work unit's party organisation registers with a community (单位报到), with its lists.

    ``offers`` are ``(kind, description)`` entries of its resource, need and project lists.
    """
    with transaction.atomic():
        registration = UnitRegistration(
            unit_name=unit_name,
            party_organization=party_organization,
            community=_community(community),
            registered_on=registered_on,
            contact_name=contact_name,
            contact_phone=contact_phone.strip(),
        )
        unit_registration_check(registration=registration)
        registration.full_clean()
        _save_guarded(registration, _second_unit_registration(registration))
        for kind, description in offers:
            unit_offer_add(registration=registration, kind=kind, description=description)
        return registration


def unit_registration_update(*, registration: UnitRegistration, **fields) -> UnitRegistration:
    with transaction.atomic():
        fresh = UnitRegistration.objects.select_for_update().get(pk=registration.pk)
        _set_fields(fresh, fields, UNIT_REGISTRATION_FIELDS)
        if "community" in fields:
            fresh.community = _community(fresh.community)
        unit_registration_check(registration=fresh)
        fresh.full_clean()
        _save_guarded(fresh, _second_unit_registration(fresh))
        return fresh


def unit_registration_end(*, registration: UnitRegistration) -> UnitRegistration:
    """The unit's registration ends (it moved, or merged); its lists stay on record."""
    with transaction.atomic():
        fresh = UnitRegistration.objects.select_for_update().get(pk=registration.pk)
        if fresh.status != RegistrationStatus.ACTIVE:
            raise ValidationError(REGISTRATION_ENDED)
        fresh.status = RegistrationStatus.ENDED
        fresh.save(update_fields=["status"])
        return fresh


def unit_offer_add(*, registration: UnitRegistration, kind: str, description: str) -> UnitOffer:
    with transaction.atomic():
        offer = UnitOffer(registration=registration, kind=kind, description=description.strip())
        offer.full_clean()
        offer.save()
        return offer


# --- Double report: in-service members -----------------------------------------------------


def _second_registration(member, community) -> ValidationError:
    return _invalid("member", SECOND_ACTIVE_REGISTRATION, member=member, community=community)


def member_registration_check(*, member: PartyMember, community: OrgUnit) -> None:
    """The rules of a new registration: a village or community, an active in-service member, none active yet."""
    if community.level != Level.VILLAGE:
        raise ValidationError({"community": NOT_A_COMMUNITY})
    if not member.is_active:
        raise _invalid("member", MEMBER_INACTIVE, member=member)
    if not member.in_service:
        raise _invalid("member", MEMBER_NOT_IN_SERVICE, member=member)
    active = member.registrations.filter(status=RegistrationStatus.ACTIVE).select_related("community").first()
    if active is not None:
        raise _second_registration(member, active.community)


def member_registration_create(
    *,
    member: PartyMember,
    community: OrgUnit,
    registered_on: datetime.date,
    posts: Iterable[str] = (),
) -> MemberRegistration:
    """An in-service member registers with the community where he lives (在职党员报到) and claims posts."""
    with transaction.atomic():
        # The member's row lock serialises registrations of one member (one active at a time).
        member = PartyMember.objects.select_for_update().select_related("resident").get(pk=member.pk)
        community = _community(community)
        member_registration_check(member=member, community=community)
        registration = MemberRegistration(member=member, community=community, registered_on=registered_on)
        registration.full_clean()
        # Last guard: a writer that skipped the lock (a bulk load) meets the partial unique index.
        _save_guarded(registration, _second_registration(member, community))
        for post in dict.fromkeys(posts):
            _claim(registration, post, registered_on)
        return registration


def member_registration_end(*, registration: MemberRegistration, ended_on: datetime.date) -> MemberRegistration:
    with transaction.atomic():
        fresh = MemberRegistration.objects.select_for_update().get(pk=registration.pk)
        if fresh.status != RegistrationStatus.ACTIVE:
            raise ValidationError(REGISTRATION_ENDED)
        if ended_on < fresh.registered_on:
            raise _invalid("ended_on", ENDED_BEFORE_REGISTERED, date=fresh.registered_on)
        fresh.status = RegistrationStatus.ENDED
        fresh.ended_on = ended_on
        fresh.full_clean()
        fresh.save(update_fields=["status", "ended_on"])
        return fresh


def _claim(registration: MemberRegistration, post: str, claimed_on: datetime.date) -> PostClaim:
    if claimed_on < registration.registered_on:
        raise _invalid("claimed_on", CLAIM_BEFORE_REGISTERED, date=registration.registered_on)
    claim = PostClaim(registration=registration, post=post, claimed_on=claimed_on)
    claim.full_clean(validate_unique=False, validate_constraints=False)
    if registration.claims.filter(post=post).exists():
        raise _invalid("post", POST_ALREADY_CLAIMED, post=ServicePost(post).label)
    claim.save()
    return claim


def post_claim_add(*, registration: MemberRegistration, post: str, claimed_on: datetime.date) -> PostClaim:
    """A registered member claims one more service post (认领岗位)."""
    with transaction.atomic():
        # The registration's lock orders concurrent claims, so the "already claimed" check holds.
        fresh = MemberRegistration.objects.select_for_update().get(pk=registration.pk)
        if fresh.status != RegistrationStatus.ACTIVE:
            raise ValidationError(REGISTRATION_ENDED)
        return _claim(fresh, post, claimed_on)


def post_claim_remove(*, claim: PostClaim) -> None:
    PostClaim.objects.filter(pk=claim.pk).delete()


# --- Micro-wishes: 点单 → 派单 → 接单 → 消单 → 核单 → 晒单 -------------------------------------

WISH_FIELDS = {"title", "content", "category"}
_OPEN_WISH_STATES = {WishState.POSTED, WishState.DISPATCHED, WishState.TAKEN}


def wish_check(*, wish: Wish) -> None:
    """The rules of a new wish beyond its own fields: a community, and a household that lives there."""
    community = OrgUnit.objects.get(pk=wish.community_id)
    if community.level != Level.VILLAGE:
        raise ValidationError({"community": NOT_A_COMMUNITY})
    household_id = wish.household_id or (wish.resident.household_id if wish.resident_id else None)
    if household_id is None:
        return
    if not Household.objects.filter(subtree_q(community, "grid"), pk=household_id).exists():
        household = Household.objects.get(pk=household_id)
        raise _invalid("household", HOUSEHOLD_OUTSIDE_COMMUNITY, household=household, community=community)


def wish_post(
    *,
    community: OrgUnit,
    title: str,
    content: str = "",
    category: str,
    household: Household | None = None,
    resident=None,
) -> Wish:
    """A household or resident orders a micro-wish (点单). The household follows from the resident."""
    with transaction.atomic():
        community = _community(community)
        if household is None and resident is not None:
            household = resident.household
        wish = Wish(
            community=community,
            household=household,
            resident=resident,
            title=title.strip(),
            content=content.strip(),
            category=category,
            state=WishState.POSTED,
            posted_at=timezone.now(),
        )
        wish_check(wish=wish)
        wish.full_clean()
        wish.save()
        return wish


def wish_update(*, wish: Wish, **fields) -> Wish:
    """Correct a wish's title, content or category while it is still open."""
    with transaction.atomic():
        fresh = Wish.objects.select_for_update().get(pk=wish.pk)
        if fresh.state not in _OPEN_WISH_STATES:
            raise ValidationError(WISH_CLOSED)
        _set_fields(fresh, fields, WISH_FIELDS)
        fresh.full_clean()
        fresh.save()
        return fresh


def _locked_wish(wish: Wish, expected: str) -> Wish:
    """The wish's row, locked and re-read; refused unless it is in state ``expected``."""
    fresh = Wish.objects.select_for_update().get(pk=wish.pk)
    if fresh.state != expected:
        raise ValidationError(
            WISH_WRONG_STATE,
            code="wrong_state",
            params={"current": WishState(fresh.state).label, "expected": WishState(expected).label},
        )
    return fresh


def _advance(wish: Wish, state: str, **changes) -> Wish:
    wish.state = state
    stamp = f"{state}_at"
    setattr(wish, stamp, timezone.now())
    for name, value in changes.items():
        setattr(wish, name, value)
    wish.save(update_fields=["state", stamp, *changes])
    return wish


def member_may_serve(member: PartyMember, community: OrgUnit) -> bool:
    """Whether ``member`` may be dispatched or take a wish of ``community`` (see the module docstring)."""
    return wish_eligible_members(community=community).filter(pk=member.pk).exists()


def _check_member_may_serve(member: PartyMember, community: OrgUnit) -> None:
    if not member_may_serve(member, community):
        raise _invalid("member", WISH_MEMBER_NOT_ELIGIBLE, member=member, community=community)


def wish_dispatch(*, wish: Wish, member: PartyMember | None) -> Wish:
    """The community dispatches the wish (派单) to one member, or to every eligible member (``None``)."""
    with transaction.atomic():
        fresh = _locked_wish(wish, WishState.POSTED)
        if member is not None:
            _check_member_may_serve(member, fresh.community)
        return _advance(fresh, WishState.DISPATCHED, dispatched_to=member)


def wish_take(*, wish: Wish, member: PartyMember) -> Wish:
    """A member takes the wish (接单): the one it was dispatched to, or any eligible one if nobody."""
    with transaction.atomic():
        # Of two members taking at once, the second waits here and then finds it taken.
        fresh = _locked_wish(wish, WishState.DISPATCHED)
        if fresh.dispatched_to_id is not None and fresh.dispatched_to_id != member.pk:
            raise _invalid("member", WISH_DISPATCHED_TO_OTHER, member=fresh.dispatched_to)
        if fresh.dispatched_to_id is None:
            _check_member_may_serve(member, fresh.community)
        return _advance(fresh, WishState.TAKEN, taken_by=member)


def wish_complete(*, wish: Wish, result: str) -> Wish:
    """The wish is fulfilled (消单); ``result`` says what was done."""
    result = (result or "").strip()
    with transaction.atomic():
        fresh = _locked_wish(wish, WishState.TAKEN)
        if not result:
            raise ValidationError({"result": WISH_RESULT_REQUIRED})
        return _advance(fresh, WishState.DONE, result=result)


def wish_verify(*, wish: Wish) -> Wish:
    """The community checks the result with the household (核单)."""
    with transaction.atomic():
        return _advance(_locked_wish(wish, WishState.DONE), WishState.VERIFIED)


def wish_publish(*, wish: Wish) -> Wish:
    """The organisation shows the fulfilled wish (晒单)."""
    with transaction.atomic():
        return _advance(_locked_wish(wish, WishState.VERIFIED), WishState.PUBLISHED)


# (function, state it needs) of each step after posting, by the name the web and API use.
WISH_STEPS = {
    "dispatch": (wish_dispatch, WishState.POSTED),
    "take": (wish_take, WishState.DISPATCHED),
    "complete": (wish_complete, WishState.TAKEN),
    "verify": (wish_verify, WishState.DONE),
    "publish": (wish_publish, WishState.VERIFIED),
}


# --- Volunteer service records -------------------------------------------------------------

SERVICE_RECORD_FIELDS = {"community", "date", "start_time", "end_time", "kind", "wish", "description"}


def _time(value: datetime.time) -> str:
    return value.strftime("%H:%M")


def service_record_check(*, record: ServiceRecord) -> None:
    """Compute the hours and points of ``record`` and check its rules against the member's other services that day.

    The services call it holding the member's row lock, so no other service of his is
    written meanwhile; forms call it first to show a broken rule on its field.
    """
    if record.end_time <= record.start_time:
        raise ValidationError({"end_time": SERVICE_END_NOT_AFTER_START})
    record.hours = service_hours(record.start_time, record.end_time)
    if record.hours <= 0:
        raise ValidationError({"end_time": SERVICE_TOO_SHORT})
    record.points = service_points(record.hours)
    if record.date > timezone.localdate():
        raise ValidationError({"date": SERVICE_IN_FUTURE})
    if record.wish_id is not None:
        wish = Wish.objects.select_related("community").get(pk=record.wish_id)
        if wish.taken_by_id != record.member_id:
            raise _invalid("wish", SERVICE_WISH_NOT_TAKEN_BY_MEMBER, wish=wish, member=record.member)
        if wish.community_id != record.community_id:
            raise _invalid("community", SERVICE_WISH_OTHER_COMMUNITY, community=wish.community)
    same_day = list(
        ServiceRecord.objects.filter(member_id=record.member_id, date=record.date)
        .exclude(pk=record.pk)
        .values_list("start_time", "end_time", "hours")
    )
    clashes = [other for other in same_day if overlaps(other[:2], (record.start_time, record.end_time))]
    if clashes:
        other_start, other_end, _hours = clashes[0]
        raise ValidationError(
            {
                "start_time": ValidationError(
                    SERVICE_OVERLAP,
                    params={
                        "start": _time(record.start_time),
                        "end": _time(record.end_time),
                        "member": record.member,
                        "other_start": _time(other_start),
                        "other_end": _time(other_end),
                        "date": record.date.isoformat(),
                    },
                )
            }
        )
    day_hours = [hours for _start, _end, hours in same_day] + [record.hours]
    if day_total_exceeded(day_hours):
        raise ValidationError(
            {
                "end_time": ValidationError(
                    SERVICE_DAY_OVER_24,
                    params={"member": record.member, "hours": sum(day_hours), "date": record.date.isoformat()},
                )
            }
        )


def service_record_create(
    *,
    member: PartyMember,
    community: OrgUnit,
    date: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    kind: str,
    wish: Wish | None = None,
    description: str = "",
) -> ServiceRecord:
    """Record one volunteer service; hours and points are computed, never typed."""
    with transaction.atomic():
        # The member's row lock serialises his services: the overlap check sees every other one.
        member = PartyMember.objects.select_for_update().select_related("resident").get(pk=member.pk)
        record = ServiceRecord(
            member=member,
            community=_community(community),
            date=date,
            start_time=start_time,
            end_time=end_time,
            kind=kind,
            wish=wish,
            description=description.strip(),
        )
        service_record_check(record=record)
        record.full_clean()
        record.save()
        return record


def service_record_update(*, record: ServiceRecord, **fields) -> ServiceRecord:
    """Correct a service; hours, points and the day's rules are checked again."""
    with transaction.atomic():
        PartyMember.objects.select_for_update().filter(pk=record.member_id).first()
        fresh = ServiceRecord.objects.select_related("member__resident").get(pk=record.pk)
        _set_fields(fresh, fields, SERVICE_RECORD_FIELDS)
        if "community" in fields:
            fresh.community = _community(fresh.community)
        service_record_check(record=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh
