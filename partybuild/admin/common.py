"""What the party-building admins share: list filters over a second scope path, actions run row by
row through a service, and the write-through-services base."""

from django.utils.translation import gettext_lazy as _

from governance.portal.admin import ServiceWriteAdminMixin, TownshipFilter, VillageFilter, run_each  # noqa: F401


class PartyWriteAdminMixin(ServiceWriteAdminMixin):
    # Bulk deletion would skip the rules (and, for the tree, its lock): rows are deleted one at a time.
    bulk_delete = False
    #: action name → the step rule (services' ``StepRule``) of the role that may run it
    step_actions: dict = {}

    def get_actions(self, request):
        # Only the steps the user's role takes (the services' rules); the service checks again.
        actions = super().get_actions(request)
        for name, rule in self.step_actions.items():
            if not rule.permits(request.user):
                actions.pop(name, None)
        return actions


def changed_fields(obj, form, names) -> dict:
    """The fields of ``names`` the admin's form changed, with their new values (for an update service)."""
    return {name: getattr(obj, name) for name in form.changed_data if name in names}


class _ScopePathMixin:
    """A unit list filter over another path than the model's (whose scope has two paths)."""

    scope_path = ""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.path = self.scope_path


class BranchTownshipFilter(_ScopePathMixin, TownshipFilter):
    title = _("township of the organisation")
    scope_path = "organization__org_unit"


class BranchVillageFilter(_ScopePathMixin, VillageFilter):
    title = _("village/community of the organisation")
    scope_path = "organization__org_unit"


class ServiceBranchTownshipFilter(_ScopePathMixin, TownshipFilter):
    """Services of the members whose organisation lies in a township (the branch's side of 双积分)."""

    title = _("township of the member's organisation")
    parameter_name = "branch_in_township"
    child_parameters = ()
    scope_path = "member__organization__org_unit"


class CommunityTownshipFilter(_ScopePathMixin, TownshipFilter):
    scope_path = "community"


class CommunityVillageFilter(_ScopePathMixin, VillageFilter):
    scope_path = "community"


