"""Staff web pages of party building: members, the double report, the micro-wish board, service records.

Every page reads through ``visible_to(request.user)``; a member, wish or registration outside
the user's subtree is a 404. Writes call ``partybuild.services``; the ValidationError a service
raises is shown next to the form (or, on the board, as a message), never as a 500.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import CharField, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import FormView, TemplateView

from governance.masking import can_view_personal_data
from governance.models import Household, OrgUnit, Relation, Resident
from governance.portal.views import (
    ExportMixin,
    RosterListMixin,
    ScopedDetailView,
    ScopedListView,
    require_perm,
    safe_next,
)
from governance.selectors import subtree_q
from partybuild import selectors, services
from partybuild.forms import (
    BoardFilterForm,
    MemberFilterForm,
    MemberRegistrationFilterForm,
    MemberRegistrationForm,
    ServiceRecordFilterForm,
    ServiceRecordForm,
    UnitRegistrationFilterForm,
    UnitRegistrationForm,
    WishFilterForm,
    WishMemberForm,
    WishPostForm,
    WishResultForm,
    WishStepForm,
    household_label,
    member_label,
    scoped_members,
    search_members,
)
from partybuild.models import (
    MemberRegistration,
    PartyMember,
    RegistrationStatus,
    ServiceRecord,
    UnitRegistration,
    Wish,
    WishState,
)

# The wishes each column of the board shows (the newest); "more" lists the rest.
BOARD_COLUMN_SIZE = 30
# The services the member page lists (the newest); the service list has them all.
MEMBER_PAGE_SERVICES = 20
# Options a picker answers with: a search narrows them, it does not page them.
PICKER_SIZE = 20


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _display_name(prefix: str):
    return Coalesce(NullIf(f"{prefix}short_name", Value("")), f"{prefix}name", output_field=CharField())


# --- Party members -------------------------------------------------------------------------


class MemberListView(ExportMixin, RosterListMixin, ScopedListView):
    model = PartyMember
    filter_form_class = MemberFilterForm
    template_name = "partybuild/member_list.html"
    export_kind = "party_members"
    sort_fields = {
        "name": "resident__name",
        "organization": "organization__name",
        "joined_on": "joined_on",
        "status": "status",
        "hours": "total_hours",
    }
    default_sort = "organization"

    def list_queryset(self, queryset):
        user = self.request.user
        registered = MemberRegistration.objects.filter(member=OuterRef("pk"), status=RegistrationStatus.ACTIVE)
        # Only the services this user may see count (the community where served, or the member's branch).
        hours = (
            ServiceRecord.objects.visible_to(user)
            .filter(member=OuterRef("pk"))
            .order_by()
            .values("member")
            .annotate(total=Sum("hours"))
            .values("total")
        )
        return queryset.select_related(
            "resident", "resident__household", "resident__household__grid", "organization"
        ).annotate(
            registered_with=Subquery(registered.values(name=_display_name("community__"))[:1]),
            total_hours=Coalesce(Subquery(hours), Value(0), output_field=DecimalField(max_digits=10, decimal_places=1)),
        )


class MemberDetailView(ScopedDetailView):
    """The member's page: registrations, services, hours and points, and the form to log a service."""

    model = PartyMember
    template_name = "partybuild/member_detail.html"
    context_object_name = "member"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = selectors.member_summary(member=self.object, fetched_by=user)
        context.update(summary)
        context["member"] = summary["member"]
        context["services"] = summary["services"][:MEMBER_PAGE_SERVICES]
        context["wishes_taken"] = summary["wishes_taken"][:MEMBER_PAGE_SERVICES]
        context["full_view"] = can_view_personal_data(user)
        if "service_form" not in context:
            active = summary["active_registration"]
            initial = {"community": active.community_id} if active else {}
            context["service_form"] = ServiceRecordForm(user=user, member=self.object, initial=initial)
        return context

    def post(self, request, *args, **kwargs):
        """登记志愿服务: the form re-renders with the service's message next to the field it names."""
        self.object = member = self.get_object()
        require_perm(request, "partybuild.add_servicerecord")
        form = ServiceRecordForm(request.POST, user=request.user, member=member)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = services.service_record_create(
                    member=member,
                    community=data["community"],
                    date=data["date"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    kind=data["kind"],
                    wish=data["wish"],
                    description=data["description"],
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("Recorded %(hours)s hours of service on %(date)s (%(points)s points).")
                    % {"hours": record.hours, "date": record.date.isoformat(), "points": record.points},
                )
                return redirect("partybuild:member-detail", pk=member.pk)
        return self.render_to_response(self.get_context_data(service_form=form))


# --- Double report -------------------------------------------------------------------------


class MemberRegistrationListView(ExportMixin, RosterListMixin, ScopedListView):
    model = MemberRegistration
    filter_form_class = MemberRegistrationFilterForm
    template_name = "partybuild/registration_list.html"
    export_kind = "member_registrations"
    sort_fields = {
        "registered_on": "registered_on",
        "name": "member__resident__name",
        "community": "community__code",
        "status": "status",
    }
    default_sort = "-registered_on"

    def list_queryset(self, queryset):
        return (
            queryset.distinct()
            .select_related("member__resident", "member__organization", "community", "community__parent")
            .prefetch_related("claims")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "members"
        return context


class UnitRegistrationListView(ExportMixin, RosterListMixin, ScopedListView):
    model = UnitRegistration
    filter_form_class = UnitRegistrationFilterForm
    template_name = "partybuild/unit_registration_list.html"
    export_kind = "unit_registrations"
    sort_fields = {
        "registered_on": "registered_on",
        "unit_name": "unit_name",
        "community": "community__code",
        "status": "status",
    }
    default_sort = "-registered_on"

    def list_queryset(self, queryset):
        return queryset.select_related("community", "community__parent").prefetch_related("offers")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tab"] = "units"
        return context


class ScopedFormView(PermissionRequiredMixin, FormView):
    """A form page whose choices are limited to the user's scope, for users whose role may write."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class MemberRegistrationCreateView(ScopedFormView):
    permission_required = "partybuild.add_memberregistration"
    form_class = MemberRegistrationForm
    template_name = "partybuild/registration_form.html"

    def get_initial(self):
        # "Register" from a member's page brings the member along.
        member = self.request.GET.get("member", "")
        return {"member": member} if member.isdigit() else {}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            registration = services.member_registration_create(
                member=data["member"], community=data["community"], registered_on=data["registered_on"],
                posts=data["posts"],
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(member)s is registered with %(community)s.")
            % {"member": registration.member, "community": registration.community.display_name},
        )
        return redirect("partybuild:member-detail", pk=registration.member_id)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "members"}


class UnitRegistrationCreateView(ScopedFormView):
    permission_required = "partybuild.add_unitregistration"
    form_class = UnitRegistrationForm
    template_name = "partybuild/unit_registration_form.html"

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            registration = services.unit_registration_create(
                unit_name=data["unit_name"],
                party_organization=data["party_organization"],
                community=data["community"],
                registered_on=data["registered_on"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                offers=form.offers(),
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(unit)s is registered with %(community)s.")
            % {"unit": registration.unit_name, "community": registration.community.display_name},
        )
        return redirect("partybuild:unit-registration-list")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "tab": "units"}


# --- Volunteer service records -------------------------------------------------------------


class ServiceRecordListView(ExportMixin, RosterListMixin, ScopedListView):
    model = ServiceRecord
    filter_form_class = ServiceRecordFilterForm
    template_name = "partybuild/service_list.html"
    export_kind = "service_records"
    sort_fields = {
        "date": "date",
        "name": "member__resident__name",
        "community": "community__code",
        "hours": "hours",
        "points": "points",
        "kind": "kind",
    }
    default_sort = "-date"

    def get_queryset(self):
        queryset = super().get_queryset()
        self.member = None
        member = self.request.GET.get("member", "")
        if member.isdigit():
            # The member page's "all services" link; a member out of scope simply matches nothing.
            self.member = PartyMember.objects.visible_to(self.request.user).select_related("resident").filter(
                pk=member
            ).first()
            queryset = queryset.filter(member_id=self.member.pk if self.member else 0)
        return queryset

    def list_queryset(self, queryset):
        return queryset.select_related("member__resident", "community", "community__parent", "wish")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["member"] = self.member
        context["totals"] = self.object_list.order_by().aggregate(hours=Sum("hours"), points=Sum("points"))
        return context


# --- Micro-wishes --------------------------------------------------------------------------


class WishBoardView(LoginRequiredMixin, TemplateView):
    """The six columns 点单 / 派单 / 接单 / 消单 / 核单 / 晒单, newest first, a fixed number of cards each."""

    template_name = "partybuild/wish_board.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        form = BoardFilterForm(request.GET or None, user=user)
        form.is_valid()
        # Scoped in the selector; two queries whatever the number of wishes.
        columns = selectors.wish_board(fetched_by=user, community=form.selected_unit, column_size=BOARD_COLUMN_SIZE)
        context.update(
            filter_form=form,
            columns=columns,
            total=sum(column["count"] for column in columns),
            board_query=request.GET.urlencode(),
            # Where each card's step goes back to; worked out once, not per card.
            next=request.get_full_path(),
            next_quoted=quote(request.get_full_path(), safe=""),
            may_act=user.has_perm("partybuild.change_wish"),
        )
        return context


class WishListView(RosterListMixin, ExportMixin, ScopedListView):
    """All wishes, filtered: where a board column's "more" link leads."""

    model = Wish
    filter_form_class = WishFilterForm
    template_name = "partybuild/wish_list.html"
    export_kind = "wishes"
    sort_fields = {"posted_at": "posted_at", "title": "title", "community": "community__code", "state": "state"}
    default_sort = "-posted_at"

    def list_queryset(self, queryset):
        return queryset.select_related(
            "community", "community__parent", "household", "dispatched_to__resident", "taken_by__resident"
        )


class WishDetailView(ScopedDetailView):
    model = Wish
    template_name = "partybuild/wish_detail.html"
    context_object_name = "wish"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("community", "household", "resident", "dispatched_to__resident", "taken_by__resident")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wish = self.object
        user = self.request.user
        step = NEXT_STEP.get(wish.state)
        context["step"] = step
        context["step_form"] = _step_form(step, wish, user) if step else None
        context["services"] = (
            ServiceRecord.objects.visible_to(user).filter(wish=wish).select_related("member__resident")
        )
        context["timeline"] = [
            (WishState(state).label, getattr(wish, f"{state}_at"))
            for state in (s.value for s in WishState)
        ]
        return context


class WishCreateView(ScopedFormView):
    permission_required = "partybuild.add_wish"
    form_class = WishPostForm
    template_name = "partybuild/wish_form.html"

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            wish = services.wish_post(
                community=data["community"],
                household=data["household"],
                title=data["title"],
                category=data["category"],
                content=data["content"],
            )
        except ValidationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, _("Micro-wish “%(title)s” posted.") % {"title": wish.title})
        return redirect("partybuild:wish-board")


# The one step a wish in each state may take next, by the names of ``services.WISH_STEPS``.
NEXT_STEP = {
    WishState.POSTED: "dispatch",
    WishState.DISPATCHED: "take",
    WishState.TAKEN: "complete",
    WishState.DONE: "verify",
    WishState.VERIFIED: "publish",
}
def _step_form(step: str, wish: Wish, user, data=None):
    if step == "dispatch":
        # Dispatching to nobody in particular lets any eligible member take it.
        return WishMemberForm(data, user=user, wish=wish, required=False)
    if step == "take":
        initial = {"member": wish.dispatched_to_id} if wish.dispatched_to_id else {}
        return WishMemberForm(data, user=user, wish=wish, initial=initial)
    if step == "complete":
        return WishResultForm(data)
    return WishStepForm(data)


def _step_message(step: str, wish: Wish) -> str:
    values = {"title": wish.title}
    if step == "dispatch":
        if wish.dispatched_to_id:
            return _("“%(title)s” dispatched to %(member)s.") % {**values, "member": wish.dispatched_to}
        return _("“%(title)s” dispatched to every eligible member.") % values
    if step == "take":
        return _("“%(title)s” taken by %(member)s.") % {**values, "member": wish.taken_by}
    if step == "complete":
        return _("“%(title)s” is done.") % values
    if step == "verify":
        return _("“%(title)s” is verified.") % values
    return _("“%(title)s” is published.") % values


@login_required
@require_http_methods(["GET", "POST"])
def wish_step(request, pk: int, step: str):
    """One step of a wish (派单, 接单, 消单, 核单, 晒单) through its service.

    GET answers the step's small form (the board loads it into the card with htmx); POST
    runs the service and goes back where it came from with a message: the new state, or
    the service's reason for refusing (a stale board, a member who may not take it).
    """
    if step not in services.WISH_STEPS:
        raise Http404
    user = request.user
    wish = get_object_or_404(
        Wish.objects.visible_to(user).select_related("community", "dispatched_to__resident"), pk=pk
    )
    back = safe_next(request, reverse("partybuild:wish-board"))
    if request.method == "GET":
        if not is_htmx(request):
            return redirect("partybuild:wish-detail", pk=wish.pk)
        form = _step_form(step, wish, user)
        return render(request, "partybuild/_wish_step_form.html", {"wish": wish, "step": step, "form": form,
                                                                    "next": back})
    require_perm(request, "partybuild.change_wish")
    form = _step_form(step, wish, user, request.POST)
    if form.is_valid():
        function, _state = services.WISH_STEPS[step]
        arguments = {"wish": wish}
        if step in ("dispatch", "take"):
            arguments["member"] = form.cleaned_data["member"]
        elif step == "complete":
            arguments["result"] = form.cleaned_data["result"]
        try:
            wish = function(**arguments)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _step_message(step, wish))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(back)


# --- Pickers (htmx): options of a SearchSelect, limited to the user's scope -------------------


def _options(rows, label) -> HttpResponse:
    if not rows:
        return HttpResponse(format_html('<option value="">{}</option>', _("Nothing found")))
    head = format_html('<option value="">{}</option>', _("%(count)s found, choose one") % {"count": len(rows)})
    return HttpResponse(head + format_html_join("", '<option value="{}">{}</option>', ((r.pk, label(r)) for r in rows)))


@login_required
@require_GET
def member_picker(request):
    """Members the user sees; ``wish`` keeps those who may serve that wish, ``in_service`` the in-service ones."""
    user = request.user
    members = scoped_members(user)
    wish_id = request.GET.get("wish", "")
    if wish_id.isdigit():
        wish = Wish.objects.visible_to(user).select_related("community").filter(pk=wish_id).first()
        if wish is None:
            return _options([], member_label)
        members = members.filter(pk__in=selectors.wish_eligible_members(community=wish.community).values("pk"))
    if request.GET.get("in_service") == "1":
        members = members.filter(in_service=True)
    text = request.GET.get("q", "").strip()[:50]
    if text:
        members = search_members(members, text)
    return _options(list(members.order_by("resident__name", "pk")[:PICKER_SIZE]), member_label)


@login_required
@require_GET
def household_picker(request):
    """Active households the user sees, by number, address or the head's name; ``community`` narrows them."""
    user = request.user
    households = Household.objects.visible_to(user).filter(is_active=True)
    community = request.GET.get("community", "")
    if community.isdigit():
        unit = OrgUnit.objects.visible_to(user).filter(pk=community).first()
        if unit is None:
            return _options([], household_label)
        households = households.filter(subtree_q(unit, "grid"))
    text = request.GET.get("q", "").strip()[:50]
    if text:
        heads = Resident.objects.filter(name__icontains=text, relation=Relation.HEAD).values("household_id")
        households = households.filter(
            Q(number__startswith=text) | Q(address__icontains=text) | Q(pk__in=heads)
        )
    head_name = Resident.objects.filter(household=OuterRef("pk"), relation=Relation.HEAD).values("name")[:1]
    rows = list(households.annotate(head_name=Subquery(head_name)).order_by("number")[:PICKER_SIZE])
    return _options(rows, household_label)
