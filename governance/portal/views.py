"""The view bases every app builds on, one copy each (NetBox's ``utilities`` idea).

Every scoped page reads through ``Model.objects.visible_to(request.user)``, applied once in
``ScopedMixin``; a list or detail view that inherits it cannot forget the scope, and an
object outside it is a 404 (its existence is not leaked).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import DetailView, ListView

from governance.audit.reveal import full_view
from governance.masking import can_view_personal_data
from governance.models import Level
from governance.rosters.export import export_response


def is_portal_url(request, url: str) -> bool:
    """Whether ``url`` points inside the portal (never to another host), so it may be followed."""
    return bool(url) and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                                         require_https=request.is_secure())


def safe_next(request, default: str) -> str:
    """The ``next`` parameter (POST, else GET) when it points inside the portal, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if is_portal_url(request, target) else default


def is_htmx(request) -> bool:
    """Whether htmx asked for the page (it then wants the fragment, not the whole page)."""
    return request.headers.get("HX-Request") == "true"


def sees_above_township(user) -> bool:
    """Users above the township level need to see which township a row is in."""
    home = user.home_unit
    return home is None or home.level in (Level.CITY, Level.COUNTY)


class ScopedMixin(LoginRequiredMixin):
    """Limit a class-based view's queryset to the user's org subtree (the one scope rule)."""

    model = None

    def get_queryset(self):
        return self.model._default_manager.visible_to(self.request.user)


class ScopedListView(ScopedMixin, ListView):
    """A scoped list with a filter bar, sorting by whitelisted columns and forgiving pagination.

    Subclasses set ``filter_form_class`` (a ``ScopedFilterForm``), ``sort_fields`` (URL key →
    ORM ordering) and ``default_sort``, and may decorate the queryset in ``list_queryset``
    with the joins a row needs, so a page costs the same queries whatever its length.
    """

    filter_form_class = None
    sort_fields: dict[str, str] = {}
    default_sort = ""
    paginate_by = 30

    def get_queryset(self):
        queryset = super().get_queryset()
        self.filter_form = self.filter_form_class(self.request.GET or None, user=self.request.user)
        queryset = self.filter_form.filter_queryset(queryset)
        return self.list_queryset(queryset).order_by(*self.get_ordering())

    def list_queryset(self, queryset):
        return queryset

    def get_sort(self) -> str:
        sort = self.request.GET.get("sort", "")
        return sort if sort.lstrip("-") in self.sort_fields else self.default_sort

    def get_ordering(self):
        sort = self.get_sort()
        descending = sort.startswith("-")
        field = self.sort_fields[sort.lstrip("-")]
        # The primary key breaks ties, so a row never shows up on two pages.
        return [f"-{field}" if descending else field, "-pk" if descending else "pk"]

    def paginate_queryset(self, queryset, page_size):
        # get_page() turns a bad or too large ?page= into the first or last page, never a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["sort"] = self.get_sort()
        page = context["page_obj"]
        context["page_range"] = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        return context


class ScopedDetailView(ScopedMixin, DetailView):
    pass


def require_perm(request, permission: str) -> None:
    """Writes need the model permission of the user's role, as in the API (reads need a login)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


class ExportMixin:
    """``?export=xlsx`` on a list answers the filtered list as an Excel file: the roster engine's export of
    ``export_kind`` by default, or the view's own ``export()`` (a workbook in the page's own columns)."""

    export_kind = ""

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            return self.export()
        return super().get(request, *args, **kwargs)

    def export(self):
        return export_response(request=self.request, kind=self.export_kind, queryset=self.export_queryset())

    def export_queryset(self):
        return self.get_queryset()


class RosterListMixin:
    """What every roster list shows besides its rows: the township column above it, masking.

    A list whose rows show ID numbers or phones (``personal_data``) records each full view in the audit trail.
    """

    personal_data = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["show_township"] = sees_above_township(self.request.user)
        if self.personal_data:
            context["full_view"] = full_view(self.request, detail=f"{self.model._meta.label} list")
        else:
            context["full_view"] = can_view_personal_data(self.request.user)
        return context
