"""The micro-wish pages: the board (点单 … 晒单), the list, posting a wish, a wish's page with its
history, and one step of a wish. Which step a user may take is the services' rule
(``WISH_RULES``): the pages offer only those, and the service checks again when it runs."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.generic import TemplateView

from governance.portal.views import (
    ExportMixin,
    RosterListMixin,
    ScopedDetailView,
    ScopedListView,
    is_htmx,
    require_perm,
    safe_next,
)
from partybuild import selectors
from partybuild.forms.wishes import (
    BoardFilterForm,
    WishFilterForm,
    WishMemberForm,
    WishPostForm,
    WishResultForm,
    WishStepForm,
)
from partybuild.models import ServiceRecord, Wish, WishState
from partybuild.services.wishes import (
    WISH_RULES,
    WISH_STEPS,
    wish_allowed_steps,
    wish_next_step,
    wish_post,
    wish_steps_by_state,
)
from partybuild.views.common import ScopedFormView

# The wishes each column of the board shows (the newest); "more" lists the rest.
BOARD_COLUMN_SIZE = 30
WISH_JOINS = ("community", "household", "resident", "dispatched_to__resident", "taken_by__resident")


def _steps_by_state(user) -> dict[str, str]:
    """The step the user may take from each state: his role's (the rules), if his role may change wishes at all."""
    return wish_steps_by_state(user=user) if user.has_perm("partybuild.change_wish") else {}


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
        # Every card of a column is in the user's area and in the column's state: one step for them all.
        steps = _steps_by_state(user)
        for column in columns:
            column["step"] = steps.get(column["state"])
        context.update(
            filter_form=form,
            columns=columns,
            total=sum(column["count"] for column in columns),
            board_query=request.GET.urlencode(),
            # Where each card's step goes back to; worked out once, not per card.
            next=request.get_full_path(),
            next_quoted=quote(request.get_full_path(), safe=""),
        )
        return context


class WishListView(RosterListMixin, ExportMixin, ScopedListView):
    """All wishes, filtered: where a board column's "more" link leads."""

    model = Wish
    personal_data = False  # its rows show no ID number or phone
    filter_form_class = WishFilterForm
    template_name = "partybuild/wish_list.html"
    export_kind = "wishes"
    sort_fields = {"posted_at": "posted_at", "title": "title", "community": "community__code", "state": "state"}
    default_sort = "-posted_at"

    def list_queryset(self, queryset):
        return queryset.select_related("community__parent", *WISH_JOINS[1:])


def _next_step(wish: Wish) -> dict | None:
    """The step that comes next and who takes it (for a user who may not take it himself)."""
    step = wish_next_step(wish.state)
    if step is None:
        return None
    rule = WISH_RULES[step]
    return {"label": rule.label, "roles": rule.roles_label()}


class WishDetailView(ScopedDetailView):
    """A wish: what, for whom, its six stamps, who did each step (the history), and the steps the user may take."""

    model = Wish
    template_name = "partybuild/wish_detail.html"
    context_object_name = "wish"

    def get_queryset(self):
        return super().get_queryset().select_related(*WISH_JOINS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wish = self.object
        user = self.request.user
        allowed = wish_allowed_steps(wish=wish, user=user) if user.has_perm("partybuild.change_wish") else []
        context["steps"] = [{"step": step, "form": _step_form(step, wish, user)} for step in allowed]
        context["next_step"] = _next_step(wish)
        context["events"] = wish.events.select_related("actor", "member__resident")
        context["services"] = (
            ServiceRecord.objects.visible_to(user).filter(wish=wish).select_related("member__resident")
        )
        context["timeline"] = [(state.label, getattr(wish, f"{state}_at")) for state in WishState]
        return context


class WishCreateView(ScopedFormView):
    permission_required = "partybuild.add_wish"
    form_class = WishPostForm
    service = staticmethod(wish_post)
    template_name = "partybuild/wish_form.html"

    def written(self, wish):
        messages.success(self.request, _("Micro-wish “%(title)s” posted.") % {"title": wish.title})
        return redirect("partybuild:wish-board")


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
    runs the service as the user and goes back where it came from with a message: the new
    state, or the service's reason for refusing (a stale board, a member who may not take
    it, a role that does not take this step).
    """
    if step not in WISH_STEPS:
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
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect(back)
    try:
        wish = WISH_STEPS[step](wish=wish, user=user, **form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _step_message(step, wish))
    return redirect(back)
