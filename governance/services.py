"""Writes to the org chain that carry a business rule: units, households, residents.

Every change of the OrgUnit tree holds ``governance.tree.tree_write_lock`` (see there why).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from governance.models import ExportLog, Household, Level, OrgUnit, Resident
from governance.tree import tree_write_lock


def orgunit_create(
    *,
    code: str,
    name: str,
    level: str,
    kind: str,
    parent: OrgUnit | None = None,
    short_name: str = "",
    is_active: bool = True,
    latitude=None,
    longitude=None,
) -> OrgUnit:
    with tree_write_lock():
        if parent is not None:
            # The parent's lft/rght may have moved since the caller loaded it.
            parent = OrgUnit.objects.get(pk=parent.pk)
        unit = OrgUnit(
            code=code,
            name=name,
            short_name=short_name,
            level=level,
            kind=kind,
            parent=parent,
            is_active=is_active,
            latitude=latitude,
            longitude=longitude,
        )
        unit.full_clean()
        unit.save()
        return unit


def orgunit_update(*, unit: OrgUnit, **fields) -> OrgUnit:
    """Change a unit's fields, moving it when ``parent`` changes; validates like a create."""
    with tree_write_lock():
        fresh = OrgUnit.objects.select_for_update().get(pk=unit.pk)
        old_code = fresh.code
        for name, value in fields.items():
            setattr(fresh, name, value)
        if "parent" in fields and fields["parent"] is not None:
            fresh.parent = OrgUnit.objects.get(pk=fields["parent"].pk)
        fresh.full_clean()
        fresh.save()
        if fresh.code != old_code and fresh.level in (Level.GRID, Level.MICRO_GRID):
            _recode_descendants(fresh, old_code)
        return fresh


def _recode_descendants(unit: OrgUnit, old_code: str) -> None:
    """Micro-grid codes extend their grid's code, so they follow it when it is renumbered."""
    descendants = list(unit.get_descendants().filter(code__startswith=old_code))
    for child in descendants:
        child.code = unit.code + child.code[len(old_code) :]
    OrgUnit.objects.bulk_update(descendants, ["code"])


def orgunit_move(*, unit: OrgUnit, new_parent: OrgUnit, new_code: str | None = None) -> OrgUnit:
    fields = {"parent": new_parent}
    if new_code:
        fields["code"] = new_code
    return orgunit_update(unit=unit, **fields)


def orgunit_delete(*, unit: OrgUnit) -> None:
    with tree_write_lock():
        fresh = OrgUnit.objects.get(pk=unit.pk)
        if fresh.get_children().exists() or fresh.households.exists() or fresh.staff.exists():
            raise ValidationError(
                gettext("A unit with sub-units, households or users cannot be deleted.")
            )
        fresh.delete()


def household_create(*, number: str, address: str, grid: OrgUnit, tags=(), is_active: bool = True) -> Household:
    with transaction.atomic():
        household = Household(number=number, address=address, grid=grid, is_active=is_active)
        household.full_clean()
        household.save()
        if tags:
            household.tags.set(tags)
        return household


def household_update(*, household: Household, tags=None, **fields) -> Household:
    """Change a household's fields (and tags when given), validated like a create."""
    return _update_with_tags(household, tags, fields)


def resident_create(
    *,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    relation: str = "head",
    tags=(),
    is_active: bool = True,
) -> Resident:
    with transaction.atomic():
        resident = Resident(
            household=household, name=name, id_number=id_number, phone=phone, relation=relation, is_active=is_active
        )
        resident.full_clean()
        resident.save()
        if tags:
            resident.tags.set(tags)
        return resident


def resident_update(*, resident: Resident, tags=None, **fields) -> Resident:
    """Change a resident's fields (and tags when given); birth date and sex follow the ID number."""
    return _update_with_tags(resident, tags, fields)


def _update_with_tags(instance, tags, fields):
    with transaction.atomic():
        for name, value in fields.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        if tags is not None:
            instance.tags.set(tags)
        return instance


def record_unmasked_view(*, user, kind: str, reference: dict) -> None:
    """Log that ``user`` was shown personal data in full (one row of the export log, ``rows=1``).

    Every unmasked showing that a role needs for its work (the reporter's phone to the one who
    calls back for the rating) is recorded as an export is: who, what, when, for which record.
    """
    if getattr(user, "pk", None):
        ExportLog.objects.create(user=user, kind=kind, rows=1, with_personal_data=True, unmasked=True,
                                 filters=reference)


def invalid(field: str, message, **params) -> ValidationError:
    """``message`` (formatted with ``params``) as the error of ``field``: what every app's services raise."""
    return ValidationError({field: ValidationError(message, params=params or None)})
