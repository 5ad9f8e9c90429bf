"""What the party-building API shares: the person field, fixed fields, the viewset base."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets

from governance.portal.api import ActionPermission, ScopedRelatedField, ScopedViewSetMixin


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "Id, or the whole ID number of the person."}
)
class ScopedPersonField(ScopedRelatedField):
    """A member or resident given by the person's whole ID number or by id; shown as its id."""

    def use_pk_only_optimization(self):
        return True  # shown as the id: no need to load the row

    def to_representation(self, value):
        return value.pk


def unchanged(instance, validated_data: dict, names) -> None:
    """Refuse a change of fields fixed after creation; drop them when sent back unchanged."""
    for name in names:
        if name in validated_data:
            if validated_data.pop(name) != getattr(instance, name):
                raise serializers.ValidationError({name: [_("This cannot be changed once created.")]})




class PartyViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    """A scoped viewset that lists, shows and creates; its own actions name the permissions they need."""

    permission_classes = [ActionPermission]
    action_permissions: dict[str, list[str]] = {}

    def payload(self, serializer_class) -> dict:
        """The request's data of an action, checked by ``serializer_class`` (a 400 with the field's message if not)."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def acting_user(serializer):
    """The user a serializer's write acts as (the request's)."""
    return serializer.context["request"].user
