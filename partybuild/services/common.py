"""What the party-building services share: messages of more than one subdomain, the helpers
every write uses, and the rule of who may take a step of a state machine (wishes, registrations)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit, Role
from governance.services import invalid  # noqa: F401  (the services of this app import it from here)

NOT_A_COMMUNITY = _("Choose a village or community.")
MEMBER_INACTIVE = _("%(member)s is not an active party member.")
STEP_NOT_ALLOWED = _("“%(step)s” is done by %(roles)s, not by your role (%(role)s).")
COMMUNITY_OUT_OF_SCOPE = _("%(community)s is outside your area.")

# Who works a community's party matters: its own staff and every level above it (administrator,
# county, township, village). Grid workers only post wishes for their households.
COMMUNITY_STAFF = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP, Role.VILLAGE)
ALL_STAFF = (*COMMUNITY_STAFF, Role.GRID)


@dataclass(frozen=True)
class StepRule:
    """Who may take one step of a state machine, inside his scope.

    ``states``: the states the step starts from (none for the step that creates the row);
    ``to_state``: where it leads (None: the state stays); ``roles``: the roles that take it;
    ``label``: the step as the user knows it (派单, 报到 …).
    """

    states: tuple[str, ...]
    to_state: str | None
    roles: tuple[str, ...]
    label: str

    def permits(self, user) -> bool:
        """Whether ``user``'s role takes this step (the system operator takes every step)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        return (user.is_superuser and user.home_unit_id is None) or user.role in self.roles

    def check(self, user) -> None:
        """Refuse, with the reason, a user whose role does not take this step."""
        if not self.permits(user):
            role = Role(user.role).label if getattr(user, "role", "") in Role.values else "—"
            raise ValidationError(
                STEP_NOT_ALLOWED, code="not_allowed",
                params={"step": self.label, "roles": self.roles_label(), "role": role},
            )

    def roles_label(self):
        """The roles that take the step, as the user reads them (lazy: in the language of the page)."""
        return format_lazy("、".join(["{}"] * len(self.roles)), *(Role(role).label for role in self.roles))


def community_fresh(unit: OrgUnit, field: str = "community") -> OrgUnit:
    """The unit re-read (its tree range may have moved), refused unless it is a village or community."""
    fresh = OrgUnit.objects.get(pk=unit.pk)
    if fresh.level != Level.VILLAGE:
        raise ValidationError({field: NOT_A_COMMUNITY})
    return fresh


def community_in_scope(community: OrgUnit, user, field: str = "community") -> None:
    """Refuse a community outside the user's subtree (the one scope rule, ``visible_to``)."""
    if not OrgUnit.objects.visible_to(user).filter(pk=community.pk).exists():
        raise invalid(field, COMMUNITY_OUT_OF_SCOPE, community=community.display_name)


def save_guarded(instance, error: ValidationError) -> None:
    """Save; a unique constraint broken by a concurrent writer becomes ``error``, not a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise error from None


def set_fields(instance, fields: dict, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{type(instance).__name__} fields that cannot be set here: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)
