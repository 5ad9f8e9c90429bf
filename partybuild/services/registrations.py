"""Double report (双报到): work units and in-service members registering with a community, posts claimed.

A registration has two states, active and ended, and two steps, declared in
``REGISTRATION_RULES`` like a wish's: registering (报到) and ending. Both take the acting
user and refuse, with the reason, a user whose role does not take the step or a community
(or registration) outside his area. The dates of both steps are on the row itself
(``registered_on``, ``ended_on``).

"One active registration per member" is a read-then-write check: the member's row is locked
first, so two clerks registering the same member one after the other see each other's row.
The partial unique constraint on active registrations is the last guard for writers that
bypass the lock (the Excel importer's bulk writes).
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit
from governance.validators import validate_phone
from partybuild.models import (
    MemberRegistration,
    PartyMember,
    PostClaim,
    RegistrationStatus,
    ServicePost,
    UnitOffer,
    UnitRegistration,
)
from partybuild.services.common import (
    COMMUNITY_STAFF,
    MEMBER_INACTIVE,
    NOT_A_COMMUNITY,
    StepRule,
    community_fresh,
    community_in_scope,
    invalid,
    save_guarded,
    set_fields,
)

# Messages (shared with the Excel importer).
MEMBER_NOT_IN_SERVICE = _(
    "%(member)s is not an in-service party member; only in-service members register with a community."
)
SECOND_ACTIVE_REGISTRATION = _("%(member)s already has an active registration with %(community)s; end it first.")
SECOND_ACTIVE_UNIT_REGISTRATION = _("%(unit)s already has an active registration with %(community)s.")
REGISTRATION_ENDED = _("This registration has already ended.")
REGISTRATION_OUT_OF_SCOPE = _("This registration is outside your area.")
ENDED_BEFORE_REGISTERED = _("The end date cannot be before the registration date (%(date)s).")
CLAIM_BEFORE_REGISTERED = _("A post cannot be claimed before the registration date (%(date)s).")
POST_ALREADY_CLAIMED = _("The post “%(post)s” is already claimed in this registration.")

REGISTER, END = "register", "end"
# Who registers a unit or a member with a community, and who ends a registration (always inside his area).
REGISTRATION_RULES = {
    REGISTER: StepRule((), RegistrationStatus.ACTIVE, COMMUNITY_STAFF, _("Register")),
    END: StepRule((RegistrationStatus.ACTIVE,), RegistrationStatus.ENDED, COMMUNITY_STAFF, _("End the registration")),
}


def _locked_active(model, registration, user):
    """The registration's row, locked and re-read inside the user's area; refused unless he may end it now."""
    rule = REGISTRATION_RULES[END]
    fresh = model.objects.visible_to(user).select_for_update(of=("self",)).filter(pk=registration.pk).first()
    if fresh is None:
        raise ValidationError(REGISTRATION_OUT_OF_SCOPE, code="out_of_scope")
    if fresh.status not in rule.states:
        raise ValidationError(REGISTRATION_ENDED, code="wrong_state")
    rule.check(user)
    return fresh


def _registering(community: OrgUnit, user) -> OrgUnit:
    """The community re-read; refused unless the user may register with it."""
    REGISTRATION_RULES[REGISTER].check(user)
    community = community_fresh(community)
    community_in_scope(community, user)
    return community


# --- Units ----------------------------------------------------------------------------------

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
    return invalid(
        "unit_name", SECOND_ACTIVE_UNIT_REGISTRATION, unit=registration.unit_name, community=registration.community
    )


def unit_registration_create(
    *,
    user,
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
            community=_registering(community, user),
            registered_on=registered_on,
            contact_name=contact_name,
            contact_phone=contact_phone.strip(),
        )
        unit_registration_check(registration=registration)
        registration.full_clean()
        save_guarded(registration, _second_unit_registration(registration))
        for kind, description in offers:
            unit_offer_add(registration=registration, kind=kind, description=description)
        return registration


def unit_registration_update(*, registration: UnitRegistration, **fields) -> UnitRegistration:
    with transaction.atomic():
        fresh = UnitRegistration.objects.select_for_update().get(pk=registration.pk)
        set_fields(fresh, fields, UNIT_REGISTRATION_FIELDS)
        if "community" in fields:
            fresh.community = community_fresh(fresh.community)
        unit_registration_check(registration=fresh)
        fresh.full_clean()
        save_guarded(fresh, _second_unit_registration(fresh))
        return fresh


def unit_registration_end(*, registration: UnitRegistration, user) -> UnitRegistration:
    """The unit's registration ends (it moved, or merged); its lists stay on record."""
    with transaction.atomic():
        fresh = _locked_active(UnitRegistration, registration, user)
        fresh.status = RegistrationStatus.ENDED
        fresh.save(update_fields=["status"])
        return fresh


def unit_offer_add(*, registration: UnitRegistration, kind: str, description: str) -> UnitOffer:
    with transaction.atomic():
        offer = UnitOffer(registration=registration, kind=kind, description=description.strip())
        offer.full_clean()
        offer.save()
        return offer


# --- In-service members ---------------------------------------------------------------------


def second_registration(member, community) -> ValidationError:
    return invalid("member", SECOND_ACTIVE_REGISTRATION, member=member, community=community)


def member_registration_check(*, member: PartyMember, community: OrgUnit) -> None:
    """The rules of a new registration: a village or community, an active in-service member, none active yet."""
    if community.level != Level.VILLAGE:
        raise ValidationError({"community": NOT_A_COMMUNITY})
    if not member.is_active:
        raise invalid("member", MEMBER_INACTIVE, member=member)
    if not member.in_service:
        raise invalid("member", MEMBER_NOT_IN_SERVICE, member=member)
    active = member.registrations.filter(status=RegistrationStatus.ACTIVE).select_related("community").first()
    if active is not None:
        raise second_registration(member, active.community)


def member_registration_create(
    *,
    user,
    member: PartyMember,
    community: OrgUnit,
    registered_on: datetime.date,
    posts: Iterable[str] = (),
) -> MemberRegistration:
    """An in-service member registers with the community where he lives (在职党员报到) and claims posts."""
    with transaction.atomic():
        # The member's row lock serialises registrations of one member (one active at a time).
        member = PartyMember.objects.select_for_update().select_related("resident").get(pk=member.pk)
        community = _registering(community, user)
        member_registration_check(member=member, community=community)
        registration = MemberRegistration(member=member, community=community, registered_on=registered_on)
        registration.full_clean()
        # Last guard: a writer that skipped the lock (a bulk load) meets the partial unique index.
        save_guarded(registration, second_registration(member, community))
        for post in dict.fromkeys(posts):
            _claim(registration, post, registered_on)
        return registration


def member_registration_end(
    *, registration: MemberRegistration, user, ended_on: datetime.date
) -> MemberRegistration:
    with transaction.atomic():
        fresh = _locked_active(MemberRegistration, registration, user)
        if ended_on < fresh.registered_on:
            raise invalid("ended_on", ENDED_BEFORE_REGISTERED, date=fresh.registered_on)
        fresh.status = RegistrationStatus.ENDED
        fresh.ended_on = ended_on
        fresh.full_clean()
        fresh.save(update_fields=["status", "ended_on"])
        return fresh


def _claim(registration: MemberRegistration, post: str, claimed_on: datetime.date) -> PostClaim:
    if claimed_on < registration.registered_on:
        raise invalid("claimed_on", CLAIM_BEFORE_REGISTERED, date=registration.registered_on)
    claim = PostClaim(registration=registration, post=post, claimed_on=claimed_on)
    claim.full_clean(validate_unique=False, validate_constraints=False)
    if registration.claims.filter(post=post).exists():
        raise invalid("post", POST_ALREADY_CLAIMED, post=ServicePost(post).label)
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
