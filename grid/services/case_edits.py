"""An administrator's correction of a case's report, outside the closed loop.

Where a case stands (state, unit, assignee, deadlines) is the loop's alone (``grid.services.cases``);
what the report says (title, description, category, place, reporter) an administrator may correct
in the admin. Every correction is a step on the case's timeline (``CaseAction.EDIT``) whose comment
lists each field as "old → new", so the people who work the case see what changed and who changed it.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from governance.masking import mask_phone
from governance.models import Role, User
from grid.models import Case, CaseAction, CaseEvent

# The report's fields; everything else on a case is moved by the loop's steps.
ADMIN_EDITABLE_FIELDS = (
    "title", "description", "category", "address", "latitude", "longitude", "reporter_name", "reporter_phone",
)

NOT_AN_ADMINISTRATOR = gettext_lazy("Only administrators may edit a case outside its steps.")
OUT_OF_SCOPE = gettext_lazy("This case is outside your area.")
NOT_EDITABLE = gettext_lazy("%(fields)s cannot be edited here: the case's steps change it.")


def may_edit_cases(user) -> bool:
    """Administrators (the role, or a superuser) correct cases in the admin; nobody else does."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and (user.is_superuser or getattr(user, "role", None) == Role.ADMIN))


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if name == "reporter_phone":
        # The timeline is read by roles that may not see phones.
        return mask_phone(str(value))
    return str(value)


def case_edit_by_admin(*, case: Case, user: User, changes: dict) -> CaseEvent | None:
    """Apply ``changes`` ({field name: new value}) to ``case`` and record them on its timeline.

    The row is locked and re-read, so the "old" values are the ones the change replaced even when
    another step wrote the case since the form was loaded; fields whose value does not change are
    left out, and an edit that changes nothing writes no event (returns None).
    """
    if not may_edit_cases(user):
        raise ValidationError(NOT_AN_ADMINISTRATOR, code="not_allowed")
    refused = sorted(set(changes) - set(ADMIN_EDITABLE_FIELDS))
    if refused:
        raise ValidationError(NOT_EDITABLE, code="not_editable", params={"fields": "、".join(refused)})
    with transaction.atomic():
        fresh = Case.objects.visible_to(user).select_for_update(of=("self",)).filter(pk=case.pk).first()
        if fresh is None:
            raise ValidationError(OUT_OF_SCOPE, code="out_of_scope")
        lines = []
        for name in ADMIN_EDITABLE_FIELDS:
            if name not in changes:
                continue
            field = Case._meta.get_field(name)
            old = getattr(fresh, name)
            new = changes[name]
            if field.is_relation:
                if getattr(new, "pk", new) == getattr(fresh, field.attname):
                    continue
            elif old == new:
                continue
            setattr(fresh, name, new)
            lines.append(gettext("%(field)s: %(old)s → %(new)s") % {
                "field": field.verbose_name, "old": _shown(name, old), "new": _shown(name, getattr(fresh, name)),
            })
        if not lines:
            return None
        fresh.full_clean()
        fresh.save()
        return CaseEvent.objects.create(
            case=fresh, action=CaseAction.EDIT, from_state=fresh.state, to_state=fresh.state, actor=user,
            comment="\n".join(lines),
        )
