"""Micro-wishes (微心愿): 点单 → 派单 → 接单 → 消单 → 核单 → 晒单, one function a step.

Like a case's closed loop, the rule of who may take each step is declared once, in
``WISH_RULES``: the services check it, and the board, the wish's page, the API and the admin
read it (``wish_allowed_steps``) to offer only the steps a user may take. A step takes the
acting user, locks the wish's row and re-reads it inside the user's area, checks the state
and the user's role, and writes the wish and one ``WishEvent`` (who, when, from which state
to which, the member, what was done) in the same transaction. Of two members taking the same
wish at once exactly one wins; the other is told the wish is already taken. A step that is
not allowed raises a ValidationError that says why and changes nothing.

Who takes which step (the user's role; always inside his area):

- any staff, grid workers too, posts a wish for a household he looks after (点单);
- staff of the community or above (village, township, county, administrator) dispatch it
  (派单), record that a member took it (接单: party members are not users of the portal),
  close it with what was done (消单), check it with the household (核单) and publish it (晒单).
  These are the rights the roles had before the rules moved into the service; whether 组织晒单
  should be left to the organisation above the community is a product decision, made here
  in one place when it is taken.

Rules for the members (the domain leaves them open): a wish is dispatched to an active party
member who is either registered (active) with the wish's community or a member of a party
organisation covering a unit inside it, or to nobody in particular (``member=None``): then
any such member may take it; a wish dispatched to a member can be taken by that member only.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import Household, Level, OrgUnit
from governance.selectors import subtree_q
from partybuild.models import PartyMember, Wish, WishAction, WishCategory, WishEvent, WishState
from partybuild.selectors import wish_eligible_members
from partybuild.services.common import (
    ALL_STAFF,
    COMMUNITY_STAFF,
    NOT_A_COMMUNITY,
    StepRule,
    community_fresh,
    invalid,
    set_fields,
)

HOUSEHOLD_OUTSIDE_COMMUNITY = _("Household %(household)s does not belong to %(community)s.")
HOUSEHOLD_OUT_OF_SCOPE = _("Household %(household)s is outside your area.")
WISH_OUT_OF_SCOPE = _("This micro-wish is outside your area.")
WISH_WRONG_STATE = _("This wish is “%(current)s”; this step needs a wish that is “%(expected)s”.")
WISH_MEMBER_NOT_ELIGIBLE = _(
    "%(member)s is neither registered with %(community)s nor a member of one of its party organisations."
)
WISH_DISPATCHED_TO_OTHER = _("This wish was dispatched to %(member)s; only that member can take it.")
WISH_RESULT_REQUIRED = _("Describe what was done.")
WISH_CLOSED = _("A wish that is done can no longer be edited.")

OPEN_STATES = (WishState.POSTED, WishState.DISPATCHED, WishState.TAKEN)

# Every step: the state it starts from, the state it leads to, the roles that take it.
WISH_RULES: dict[str, StepRule] = {
    WishAction.POST: StepRule((), WishState.POSTED, ALL_STAFF, _("Posted")),
    WishAction.DISPATCH: StepRule((WishState.POSTED,), WishState.DISPATCHED, COMMUNITY_STAFF, _("Dispatch")),
    WishAction.TAKE: StepRule((WishState.DISPATCHED,), WishState.TAKEN, COMMUNITY_STAFF, _("Take")),
    WishAction.COMPLETE: StepRule((WishState.TAKEN,), WishState.DONE, COMMUNITY_STAFF, _("Complete")),
    WishAction.VERIFY: StepRule((WishState.DONE,), WishState.VERIFIED, COMMUNITY_STAFF, _("Verify")),
    WishAction.PUBLISH: StepRule((WishState.VERIFIED,), WishState.PUBLISHED, COMMUNITY_STAFF, _("Publish")),
    # Not a step: correcting the title, content or category while the wish is open.
    WishAction.EDIT: StepRule(OPEN_STATES, None, ALL_STAFF, _("Changed")),
}
# The steps after posting, in the order of the flow: what the pages, the API and the admin offer.
WISH_STEP_ACTIONS = (WishAction.DISPATCH, WishAction.TAKE, WishAction.COMPLETE, WishAction.VERIFY,
                     WishAction.PUBLISH)


def wish_next_step(state: str) -> str | None:
    """The step that follows ``state`` in the flow, whoever takes it; None once the wish is published."""
    return next((action.value for action in WISH_STEP_ACTIONS if state in WISH_RULES[action].states), None)


def wish_steps_by_state(*, user) -> dict[str, str]:
    """{state: the step ``user``'s role may take from it}, for wishes already known to be in his area (the board)."""
    steps = {}
    for action in WISH_STEP_ACTIONS:
        rule = WISH_RULES[action]
        if rule.permits(user):
            steps.update((state, action.value) for state in rule.states)
    return steps


def wish_allowed_steps(*, wish: Wish, user) -> list[str]:
    """The steps ``user`` may take on ``wish`` now (none outside his area), in the order of the flow."""
    step = wish_steps_by_state(user=user).get(wish.state)
    if step is None or not Wish.objects.visible_to(user).filter(pk=wish.pk).exists():
        return []
    return [step]


def _locked(wish: Wish, user, action: str) -> Wish:
    """The wish's row, locked and re-read inside the user's area; refused unless he may take ``action`` now."""
    rule = WISH_RULES[action]
    fresh = Wish.objects.visible_to(user).select_for_update(of=("self",)).filter(pk=wish.pk).first()
    if fresh is None:
        raise ValidationError(WISH_OUT_OF_SCOPE, code="out_of_scope")
    if fresh.state not in rule.states:
        if action == WishAction.EDIT:
            raise ValidationError(WISH_CLOSED, code="wrong_state")
        raise ValidationError(
            WISH_WRONG_STATE,
            code="wrong_state",
            params={"current": WishState(fresh.state).label, "expected": WishState(rule.states[0]).label},
        )
    rule.check(user)
    return fresh


def _step(wish: Wish, user, action: str, *, member: PartyMember | None = None, comment: str = "",
          **changes) -> Wish:
    """Move the (locked) wish on by ``action``, stamp the time, and record the step."""
    to_state = WISH_RULES[action].to_state
    now = timezone.now()
    event = WishEvent(wish=wish, action=action, from_state=wish.state, to_state=to_state, actor=user, member=member,
                      at=now, comment=comment)
    stamp = f"{to_state}_at"
    wish.state = to_state
    setattr(wish, stamp, now)
    for name, value in changes.items():
        setattr(wish, name, value)
    wish.save(update_fields=["state", stamp, *changes])
    event.save()
    return wish


# --- Posting and correcting -----------------------------------------------------------------

WISH_FIELDS = {"title", "content", "category"}


def wish_check(*, wish: Wish) -> None:
    """The rules of a new wish beyond its own fields: a community, and a household that lives there."""
    community = OrgUnit.objects.get(pk=wish.community_id)
    if community.level != Level.VILLAGE:
        raise ValidationError({"community": NOT_A_COMMUNITY})
    household_id = wish.household_id or (wish.resident.household_id if wish.resident_id else None)
    if household_id is None:
        return
    if not Household.objects.filter(subtree_q(community, "grid"), pk=household_id).exists():
        household = Household.objects.get(pk=household_id)
        raise invalid("household", HOUSEHOLD_OUTSIDE_COMMUNITY, household=household, community=community)


def wish_post(
    *,
    user,
    community: OrgUnit,
    title: str,
    content: str = "",
    category: str = WishCategory.OTHER,
    household: Household | None = None,
    resident=None,
) -> Wish:
    """A household or resident orders a micro-wish (点单), posted by staff who look after the household.

    The household follows from the resident.
    """
    WISH_RULES[WishAction.POST].check(user)
    with transaction.atomic():
        community = community_fresh(community)
        if household is None and resident is not None:
            household = resident.household
        wish = Wish(
            community=community,
            household=household,
            resident=resident,
            title=title.strip(),
            content=content.strip(),
            category=category,
            state=WishState.POSTED,
            posted_at=timezone.now(),
        )
        wish_check(wish=wish)
        wish.full_clean()
        if not Household.objects.visible_to(user).filter(pk=wish.household_id).exists():
            raise invalid("household", HOUSEHOLD_OUT_OF_SCOPE, household=household)
        wish.save()
        WishEvent.objects.create(wish=wish, action=WishAction.POST, to_state=WishState.POSTED, actor=user,
                                 at=wish.posted_at)
        return wish


def wish_update(*, wish: Wish, user, **fields) -> Wish:
    """Correct a wish's title, content or category while it is still open; the change is recorded."""
    with transaction.atomic():
        fresh = _locked(wish, user, WishAction.EDIT)
        before = {name: getattr(fresh, name) for name in fields}
        set_fields(fresh, fields, WISH_FIELDS)
        fresh.full_clean()
        changed = [name for name in fields if getattr(fresh, name) != before[name]]
        if changed:
            fresh.save(update_fields=changed)
            WishEvent.objects.create(
                wish=fresh, action=WishAction.EDIT, from_state=fresh.state, to_state=fresh.state, actor=user,
                comment="、".join(str(Wish._meta.get_field(name).verbose_name) for name in changed),
            )
        return fresh


# --- The steps ------------------------------------------------------------------------------


def member_may_serve(member: PartyMember, community: OrgUnit) -> bool:
    """Whether ``member`` may be dispatched or take a wish of ``community`` (see the module docstring)."""
    return wish_eligible_members(community=community).filter(pk=member.pk).exists()


def _check_member_may_serve(member: PartyMember, community: OrgUnit) -> None:
    if not member_may_serve(member, community):
        raise invalid("member", WISH_MEMBER_NOT_ELIGIBLE, member=member, community=community)


def wish_dispatch(*, wish: Wish, user, member: PartyMember | None) -> Wish:
    """The community dispatches the wish (派单) to one member, or to every eligible member (``None``)."""
    with transaction.atomic():
        fresh = _locked(wish, user, WishAction.DISPATCH)
        if member is not None:
            _check_member_may_serve(member, fresh.community)
        return _step(fresh, user, WishAction.DISPATCH, member=member, dispatched_to=member)


def wish_take(*, wish: Wish, user, member: PartyMember) -> Wish:
    """A member takes the wish (接单): the one it was dispatched to, or any eligible one if nobody."""
    with transaction.atomic():
        # Of two members taking at once, the second waits here and then finds it taken.
        fresh = _locked(wish, user, WishAction.TAKE)
        if fresh.dispatched_to_id is not None and fresh.dispatched_to_id != member.pk:
            raise invalid("member", WISH_DISPATCHED_TO_OTHER, member=fresh.dispatched_to)
        if fresh.dispatched_to_id is None:
            _check_member_may_serve(member, fresh.community)
        return _step(fresh, user, WishAction.TAKE, member=member, taken_by=member)


def wish_complete(*, wish: Wish, user, result: str) -> Wish:
    """The wish is fulfilled (消单); ``result`` says what was done."""
    result = (result or "").strip()
    with transaction.atomic():
        fresh = _locked(wish, user, WishAction.COMPLETE)
        if not result:
            raise ValidationError({"result": WISH_RESULT_REQUIRED})
        return _step(fresh, user, WishAction.COMPLETE, comment=result, result=result)


def wish_verify(*, wish: Wish, user) -> Wish:
    """The community checks the result with the household (核单)."""
    with transaction.atomic():
        return _step(_locked(wish, user, WishAction.VERIFY), user, WishAction.VERIFY)


def wish_publish(*, wish: Wish, user) -> Wish:
    """The fulfilled wish is shown to the villagers (晒单), by the community's staff or those above it."""
    with transaction.atomic():
        return _step(_locked(wish, user, WishAction.PUBLISH), user, WishAction.PUBLISH)


# Each step after posting by the name the web, the API and the admin use (the action's value).
WISH_STEPS = {
    WishAction.DISPATCH.value: wish_dispatch,
    WishAction.TAKE.value: wish_take,
    WishAction.COMPLETE.value: wish_complete,
    WishAction.VERIFY.value: wish_verify,
    WishAction.PUBLISH.value: wish_publish,
}
