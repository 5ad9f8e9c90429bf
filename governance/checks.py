"""System checks that keep the scope rule from being forgotten by a new model."""

from django.apps import apps
from django.core import checks


@checks.register()
def every_model_with_an_org_unit_is_scoped(app_configs, **kwargs):
    from governance.models import OrgUnit

    errors = []
    for model in apps.get_models():
        if model._meta.app_label not in {"governance", "grid", "partybuild", "collective_economy"}:
            continue
        references_unit = any(
            getattr(field, "related_model", None) is OrgUnit and field.many_to_one
            for field in model._meta.get_fields()
        )
        scoped = hasattr(model, "org_scope_field") and hasattr(model._default_manager, "visible_to")
        if references_unit and not scoped:
            errors.append(
                checks.Error(
                    f"{model._meta.label} references OrgUnit but is not org-scoped.",
                    hint="Give it org_scope_field and a ScopedQuerySet manager.",
                    obj=model,
                    id="governance.E001",
                )
            )
    return errors
