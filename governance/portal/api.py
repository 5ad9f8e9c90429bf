"""The API bases every app builds on, one copy each: the scoped viewset, the write permission,
related fields looked up inside the caller's scope, the write wrapper that turns a refused rule
into a 400, the pagination, and the one router every app registers its viewsets on.

Scope is applied in one place, ``ScopedViewSetMixin.get_queryset``: a row outside the
caller's subtree is not in the queryset, so its detail answers 404 like a row that does not
exist. A rule a service refuses becomes a 400 with the field's message, never a 500.
"""

import functools

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, permissions, routers, serializers
from rest_framework.settings import api_settings

from governance.audit.context import api_user_known
from governance.audit.reveal import full_view
from governance.masking import mask_id_number, mask_phone
from governance.portal.guard import NUL, nul_message, parse_id


def _suffix_as_query(view):
    """``view`` for a format-suffixed route: the suffix (``.json``) is handed to DRF as ``?format=json``.

    DRF passes the suffix to the handler as a ``format`` keyword, which the standard actions accept and an
    ``@action`` method written as ``def end(self, request, pk=None)`` does not (a TypeError, so a 500); the
    query parameter selects the renderer exactly as the suffix did, for every route at once.
    """

    @functools.wraps(view)
    def suffixed(request, *args, **kwargs):
        suffix = kwargs.pop(api_settings.FORMAT_SUFFIX_KWARG, None)
        if suffix:
            query = request.GET.copy()
            query[api_settings.URL_FORMAT_OVERRIDE] = suffix
            request.GET = query
        return view(request, *args, **kwargs)

    return suffixed


class Router(routers.DefaultRouter):
    """DRF's default router, whose ``.json`` routes reach every action (see ``_suffix_as_query``)."""

    def get_urls(self):
        urls = super().get_urls()
        for url in urls:
            if api_settings.FORMAT_SUFFIX_KWARG in url.pattern.regex.groupindex:
                url.callback = _suffix_as_query(url.callback)
        return urls


# Every app's api module registers its viewsets here (the root URLconf serves it at /api/v1/).
router = Router()


class Pagination(pagination.PageNumberPagination):
    """The API's one pagination: ``?page=`` and ``?page_size=`` (at most 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ScopedViewSetMixin:
    """Every API queryset is the caller's org subtree; what lies outside answers 404."""

    model = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A token's user is known only now (after the middleware): the database's audit triggers learn him.
        api_user_known(request)

    def get_queryset(self):
        return self.optimise(self.model.objects.visible_to(self.request.user))

    def optimise(self, queryset):
        """Joins and prefetches that keep a list page at a constant number of queries."""
        return queryset


class ModelWritePermission(permissions.DjangoModelPermissions):
    """Reading needs a login (scope limits what is read); writing needs the model permission."""


class ActionPermission(ModelWritePermission):
    """The model permissions of the standard actions, and those a viewset names for its own actions
    (``action_permissions``: action → the permissions it needs)."""

    def has_permission(self, request, view):
        needed = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if needed is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(needed))


class ModelChangePermission(ModelWritePermission):
    """For actions that POST a change to an existing row (a worker's end, a case's step): they need the
    change permission, whatever else the services' rules ask."""

    perms_map = {**ModelWritePermission.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def drf_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """The model's or service's ValidationError as DRF's, keyed by field."""
    if hasattr(exc, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return serializers.ValidationError(detail)


def run_write(write, *args, **kwargs):
    """Call a write; a broken rule, or a race lost on a unique column, becomes a 400."""
    try:
        return write(*args, **kwargs)
    except DjangoValidationError as exc:
        raise drf_validation_error(exc) from None
    except IntegrityError:
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [gettext("This conflicts with an existing record; reload and retry.")]}
        ) from None


@extend_schema_field(OpenApiTypes.STR)
class ScopedRelatedField(serializers.RelatedField):
    """A related row given by its natural key (or id), looked up only inside the caller's scope.

    An out-of-scope row gets the same answer as an unknown one, so nothing leaks.
    """

    default_error_messages = {
        "does_not_exist": _("{value} was not found or is outside your scope."),
        "incorrect_type": _("Give a code, a number or an id, not {data_type}."),
    }

    def __init__(self, *, model, key_field, **kwargs):
        self.model = model
        self.key_field = key_field
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.visible_to(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        value = str(data).strip()
        if NUL in value:  # PostgreSQL refuses it in any text: never sent to the database
            raise serializers.ValidationError(nul_message())
        queryset = self.get_queryset()
        row = queryset.filter(**{self.key_field: value}).first()
        # Ids are bigints; longer digit strings are keys only (and would overflow the column).
        if row is None and (pk := parse_id(value)) is not None:
            row = queryset.filter(pk=pk).first()
        if row is None:
            self.fail("does_not_exist", value=value)
        return row

    def to_representation(self, value):
        return getattr(value, self.key_field)


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(ScopedRelatedField):
    """A related row given by its id, looked up inside the caller's scope; shown as its id."""

    default_error_messages = {
        **ScopedRelatedField.default_error_messages,
        "incorrect_type": _("Give an id, not {data_type}."),
    }

    def __init__(self, *, model, **kwargs):
        super().__init__(model=model, key_field="pk", **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        value = str(data).strip()
        # Ids are bigints; anything else is simply not found (and never reaches the database).
        pk = parse_id(value)
        row = self.get_queryset().filter(pk=pk).first() if pk is not None else None
        if row is None:
            self.fail("does_not_exist", value=value)
        return row

    def use_pk_only_optimization(self):
        return True  # shown as the id: no need to load the row

    def to_representation(self, value):
        return value.pk


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
                      "example": "09:30:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of day (HH:MM[:SS], the portal's time zone), as DRF reads and writes it.

    OpenAPI's ``format: time`` is RFC 3339's full-time, which carries an offset; a time of day of a service
    record has none, so the schema gives its pattern instead.
    """


def _value_at(instance, path: str):
    for name in path.split("."):
        instance = getattr(instance, name)
    return instance


class PersonalDataSerializerMixin:
    """ID numbers and phones in the API: masked for callers whose role may not see them.

    ``personal_fields`` maps a field of the serializer to the path of the stored value on the
    instance and its mask (``mask_id_number`` or ``mask_phone``); ``hidden_when_masked`` fields
    (a birth date, which the ID number's hidden digits hold) are null for those callers. A masked
    caller who sends back what he was shown keeps the stored value, so he can save a row without
    knowing its personal data.
    """

    ID_NUMBER, PHONE = mask_id_number, mask_phone
    personal_fields: dict = {}  # field name -> (path on the instance, mask)
    hidden_when_masked: tuple[str, ...] = ()

    def full_view(self, instance=None) -> bool:
        """Whether the caller sees the values in full; each full view is audited (a list once per request)."""
        request = self.context.get("request")
        if request is None:
            return False
        listing = isinstance(self.parent, serializers.ListSerializer)
        return full_view(request, obj=None if listing else instance, detail=f"API {type(self).__name__}")

    def to_internal_value(self, data):
        echoed = {}
        if self.instance is not None and hasattr(data, "get"):
            for name, (path, mask) in self.personal_fields.items():
                value, stored = data.get(name), _value_at(self.instance, path)
                if isinstance(value, str) and value and stored and value == mask(stored):
                    echoed[name] = stored
        if echoed:
            data = data.copy()  # a QueryDict's copy is mutable; item assignment replaces its value
            for name, value in echoed.items():
                data[name] = value
        return super().to_internal_value(data)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.full_view(instance):
            for name, (path, mask) in self.personal_fields.items():
                if name in data:
                    data[name] = mask(_value_at(instance, path) or "")
            for name in self.hidden_when_masked:
                if name in data:
                    data[name] = None
        return data
