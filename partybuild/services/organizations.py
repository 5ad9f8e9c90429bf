"""Party organisations (党组织), party members and party-member households (党员中心户).

The party-organisation tree is renumbered by MPTT with read-then-write: every tree write holds
the tree's advisory lock (``tree_write_lock(PartyOrganization.tree_lock_key)``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from governance.models import Household, OrgUnit
from governance.tree import tree_write_lock
from partybuild.models import (
    CentralHousehold,
    PartyMember,
    PartyOrganization,
    PartyOrganizationKind,
    RegistrationStatus,
)
from partybuild.services.common import MEMBER_INACTIVE, invalid, set_fields

# Messages (shared with the Excel importer).
ORG_UNDER_ITSELF = _("An organisation cannot be placed under itself or one of its own sub-organisations.")
ORG_CHILD_DOES_NOT_FIT = _("%(child)s is a %(child_kind)s and cannot stay under a %(kind)s; move it first.")
ORG_INACTIVE = _("The party organisation %(organization)s is inactive.")
MEMBER_STILL_REGISTERED = _("%(member)s has an active registration with %(community)s; end it first.")
CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE = _(
    "%(member)s does not live in household %(household)s; a party-member household is run by a member living in it."
)


# --- Party organisations --------------------------------------------------------------------

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
        rules = PartyOrganizationKind.rules()
        misfit = organization.children.exclude(kind__in=rules.children_of(organization.kind)).first()
        if misfit is not None:
            raise invalid(
                "kind",
                ORG_CHILD_DOES_NOT_FIT,
                child=misfit.name,
                child_kind=rules.name(misfit.kind),
                kind=rules.name(organization.kind),
            )


def party_organization_update(*, organization: PartyOrganization, **fields) -> PartyOrganization:
    """Change an organisation (moving it when ``parent`` changes); validated like a create."""
    with tree_write_lock(PartyOrganization.tree_lock_key):
        fresh = PartyOrganization.objects.select_for_update().get(pk=organization.pk)
        set_fields(fresh, fields, ORGANIZATION_FIELDS)
        if fresh.parent_id is not None:
            fresh.parent = PartyOrganization.objects.get(pk=fresh.parent_id)
        party_organization_check(organization=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh


# --- Party members and party-member households ----------------------------------------------

MEMBER_FIELDS = {"organization", "status", "joined_on", "in_service", "work_unit", "is_mobile", "is_active"}


def party_member_check(*, member: PartyMember) -> None:
    """The rules of a new or changed member beyond his own fields.

    A new organisation must be active (an existing member of a branch since closed keeps it
    until moved); a member leaving service, or the party, ends his registration first.
    """
    organization = member.organization
    moved = member.pk is None or not PartyMember.objects.filter(pk=member.pk, organization=organization).exists()
    if moved and not organization.is_active:
        raise invalid("organization", ORG_INACTIVE, organization=organization)
    if member.pk is not None and not (member.in_service and member.is_active):
        active = member.registrations.filter(status=RegistrationStatus.ACTIVE).select_related("community").first()
        if active is not None:
            field = "in_service" if not member.in_service else "is_active"
            raise invalid(field, MEMBER_STILL_REGISTERED, member=member, community=active.community)


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
        set_fields(fresh, fields, MEMBER_FIELDS)
        party_member_check(member=fresh)
        fresh.full_clean()
        fresh.save()
        return fresh


def central_household_check(*, household: Household, member: PartyMember) -> None:
    if not member.is_active:
        raise invalid("member", MEMBER_INACTIVE, member=member)
    if member.resident.household_id != household.pk:
        raise invalid("member", CENTRAL_HOUSEHOLD_MEMBER_ELSEWHERE, member=member, household=household)


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
