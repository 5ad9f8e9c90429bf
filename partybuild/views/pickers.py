"""The pickers (htmx): options of a SearchSelect, limited to the user's scope."""

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from governance.models import Household, OrgUnit, Relation, Resident
from governance.portal.guard import parse_id
from governance.selectors import subtree_q
from partybuild.forms.common import household_label, member_label, scoped_members, search_members
from partybuild.models import Wish
from partybuild.selectors import wish_eligible_members

# Options a picker answers with: a search narrows them, it does not page them.
PICKER_SIZE = 20


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
    wish_id = parse_id(request.GET.get("wish"))
    if wish_id is not None:
        wish = Wish.objects.visible_to(user).select_related("community").filter(pk=wish_id).first()
        if wish is None:
            return _options([], member_label)
        members = members.filter(pk__in=wish_eligible_members(community=wish.community).values("pk"))
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
    community = parse_id(request.GET.get("community"))
    if community is not None:
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
