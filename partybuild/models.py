"""Party organisations, party members, double report (双报到), micro-wishes and volunteer service."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import TreeForeignKey
from mptt.querysets import TreeQuerySet

from governance.models import Household, Level, OrgUnit, Resident, TreeNode
from governance.scope import ScopedQuerySet


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")
    GRID_BRANCH = "grid_branch", _("Grid party branch")
    GROUP = "group", _("Building/courtyard party group")


# Which kinds may sit directly under which (党委 → 党总支/党支部 → 网格党支部 → 楼栋/庭院党小组).
CHILD_KINDS = {
    OrgKind.COMMITTEE: {OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH, OrgKind.BRANCH},
    OrgKind.GENERAL_BRANCH: {OrgKind.BRANCH},
    OrgKind.BRANCH: {OrgKind.GRID_BRANCH, OrgKind.GROUP},
    OrgKind.GRID_BRANCH: {OrgKind.GROUP},
    OrgKind.GROUP: set(),
}


class PartyOrganizationQuerySet(TreeQuerySet, ScopedQuerySet):
    pass


class PartyOrganizationManager(TreeManager.from_queryset(PartyOrganizationQuerySet)):
    pass


class PartyOrganization(TreeNode):
    """A party organisation (党组织): committee, branch, grid branch or group, covering one OrgUnit."""

    org_scope_field = "org_unit"
    tree_lock_key = 7_254_002

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    parent = TreeForeignKey(
        "self", verbose_name=_("parent organisation"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="children",
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit covered"), on_delete=models.PROTECT, related_name="party_organizations"
    )
    work_unit = models.CharField(
        _("work unit"), max_length=100, blank=True,
        help_text=_("For the party organisation of a government agency or state unit."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = PartyOrganizationManager()

    class MPTTMeta:
        order_insertion_by = ["name"]
        level_attr = "mptt_level"

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id and self.kind and self.kind not in CHILD_KINDS[self.parent.kind]:
            raise ValidationError(
                {"kind": ValidationError(
                    _("A %(child)s cannot be placed under a %(parent)s."),
                    params={"child": OrgKind(self.kind).label, "parent": OrgKind(self.parent.kind).label},
                )}
            )
        if self.parent_id and self.org_unit_id and not self.org_unit.is_descendant_of(
            self.parent.org_unit, include_self=True
        ) and not self.work_unit:
            raise ValidationError(
                {"org_unit": _("The unit covered must lie inside the unit of the parent organisation.")}
            )


class MemberStatus(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class PartyMember(models.Model):
    """A party member (党员), always a registered resident, belonging to one organisation."""

    # Seen by his branch's unit (the workplace for an in-service member) and by the place he lives.
    org_scope_field = ("organization__org_unit", "resident__household__grid")

    resident = models.OneToOneField(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="party_member"
    )
    organization = models.ForeignKey(
        PartyOrganization, verbose_name=_("party organisation"), on_delete=models.PROTECT, related_name="members"
    )
    status = models.CharField(_("status"), max_length=16, choices=MemberStatus.choices, default=MemberStatus.FULL)
    joined_on = models.DateField(_("joined on"))
    in_service = models.BooleanField(
        _("in-service"), default=False, help_text=_("Works in a government or state unit.")
    )
    work_unit = models.CharField(_("work unit"), max_length=100, blank=True)
    is_mobile = models.BooleanField(_("mobile member"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["id"]

    def __str__(self):
        return self.resident.name

    def clean(self):
        if self.in_service and not self.work_unit:
            raise ValidationError({"work_unit": _("An in-service member needs a work unit.")})


class CentralHousehold(models.Model):
    """A party-member household (党员中心户) that neighbours turn to, and the member who runs it."""

    org_scope_field = "household__grid"

    household = models.OneToOneField(
        Household, verbose_name=_("household"), on_delete=models.CASCADE, related_name="central_household"
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="central_households"
    )
    since = models.DateField(_("since"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("party-member household")
        verbose_name_plural = _("party-member households")

    def __str__(self):
        return str(self.household)


class ServicePost(models.TextChoices):
    """The six kinds of service post an in-service member claims (认领岗位)."""

    POLICY = "policy", _("Policy talks")
    POVERTY = "poverty", _("Helping the poor")
    PUBLIC = "public", _("Public service")
    GREENING = "greening", _("Greening")
    ENVIRONMENT = "environment", _("Environment")
    PATROL = "patrol", _("Security patrols")


class RegistrationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


def community_q():
    return {"level": Level.VILLAGE}


class UnitRegistration(models.Model):
    """A work unit's party organisation registered with the community where it sits (单位报到)."""

    org_scope_field = "community"

    unit_name = models.CharField(_("work unit"), max_length=100)
    party_organization = models.CharField(_("unit party organisation"), max_length=100)
    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="unit_registrations",
        limit_choices_to=community_q,
    )
    registered_on = models.DateField(_("registered on"))
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.ACTIVE
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit registration")
        verbose_name_plural = _("unit registrations")
        ordering = ["-registered_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit_name", "community"],
                condition=Q(status="active"),
                name="one_active_unit_registration",
                violation_error_message=_("This work unit is already registered with this community."),
            )
        ]

    def __str__(self):
        return self.unit_name

    def clean(self):
        if self.community_id and self.community.level != Level.VILLAGE:
            raise ValidationError({"community": _("Register with a village or community.")})


class OfferKind(models.TextChoices):
    RESOURCE = "resource", _("Resource")
    NEED = "need", _("Need")
    PROJECT = "project", _("Project")


class UnitOffer(models.Model):
    """An entry of a registered unit's resource, need or project list (资源清单/需求清单/项目清单)."""

    org_scope_field = "registration__community"

    registration = models.ForeignKey(
        UnitRegistration, verbose_name=_("unit registration"), on_delete=models.CASCADE, related_name="offers"
    )
    kind = models.CharField(_("list"), max_length=10, choices=OfferKind.choices)
    description = models.CharField(_("description"), max_length=200)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        ordering = ["registration_id", "kind", "id"]

    def __str__(self):
        return self.description


class MemberRegistration(models.Model):
    """An in-service member registered with the community where he lives (在职党员报到)."""

    org_scope_field = ("community", "member__organization__org_unit")

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="registrations"
    )
    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="member_registrations",
        limit_choices_to=community_q,
    )
    registered_on = models.DateField(_("registered on"))
    status = models.CharField(
        _("status"), max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.ACTIVE
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("member registration")
        verbose_name_plural = _("member registrations")
        ordering = ["-registered_on", "id"]
        constraints = [
            # One member, at most one active registration: also holds under concurrent writes.
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status="active"),
                name="one_active_member_registration",
                violation_error_message=_("This member already has an active registration."),
            )
        ]

    def __str__(self):
        return f"{self.member} → {self.community}"


class PostClaim(models.Model):
    """A service post claimed by a registered member (认领岗位)."""

    org_scope_field = ("registration__community", "registration__member__organization__org_unit")

    registration = models.ForeignKey(
        MemberRegistration, verbose_name=_("member registration"), on_delete=models.CASCADE, related_name="claims"
    )
    post = models.CharField(_("service post"), max_length=16, choices=ServicePost.choices)
    claimed_on = models.DateField(_("claimed on"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("claimed post")
        verbose_name_plural = _("claimed posts")
        constraints = [models.UniqueConstraint(fields=["registration", "post"], name="one_claim_per_post")]

    def __str__(self):
        return self.get_post_display()


class WishState(models.TextChoices):
    """点单 → 派单 → 接单 → 消单 → 核单 → 晒单."""

    POSTED = "posted", _("Posted")
    DISPATCHED = "dispatched", _("Dispatched")
    TAKEN = "taken", _("Taken")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")
    PUBLISHED = "published", _("Published")


WISH_FLOW = [
    WishState.POSTED, WishState.DISPATCHED, WishState.TAKEN, WishState.DONE, WishState.VERIFIED, WishState.PUBLISHED
]


class WishCategory(models.TextChoices):
    DAILY_LIFE = "daily_life", _("Daily life")
    ELDERLY_CARE = "elderly_care", _("Elderly care")
    CHILDREN = "children", _("Children and study")
    HEALTH = "health", _("Health")
    HOUSING = "housing", _("Housing repairs")
    EMPLOYMENT = "employment", _("Employment")
    OTHER = "other", _("Other")


class Wish(models.Model):
    """A micro-wish (微心愿) of a household or resident, moved through six states by services only."""

    org_scope_field = "community"

    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="wishes",
        limit_choices_to=community_q,
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, null=True, blank=True, related_name="wishes"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, null=True, blank=True, related_name="wishes"
    )
    title = models.CharField(_("title"), max_length=100)
    content = models.TextField(_("content"), blank=True)
    category = models.CharField(_("category"), max_length=16, choices=WishCategory.choices, default=WishCategory.OTHER)
    state = models.CharField(
        _("state"), max_length=12, choices=WishState.choices, default=WishState.POSTED, editable=False
    )
    dispatched_to = models.ForeignKey(
        PartyMember, verbose_name=_("dispatched to"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="wishes_dispatched", editable=False,
    )
    taken_by = models.ForeignKey(
        PartyMember, verbose_name=_("taken by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="wishes_taken", editable=False,
    )
    result = models.TextField(_("result"), blank=True, editable=False)
    posted_at = models.DateTimeField(_("posted at"), editable=False)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True, editable=False)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["community", "state"])]

    def __str__(self):
        return self.title

    def clean(self):
        if not self.household_id and not self.resident_id:
            raise ValidationError(_("A wish belongs to a household or a resident."))
        if self.resident_id and self.household_id and self.resident.household_id != self.household_id:
            raise ValidationError({"resident": _("The resident does not live in this household.")})


class WishAction(models.TextChoices):
    """A step of a wish, named like the state it leads to (点单 … 晒单), and a correction while it is open."""

    POST = "post", _("Posted")
    DISPATCH = "dispatch", _("Dispatched")
    TAKE = "take", _("Taken")
    COMPLETE = "complete", _("Done")
    VERIFY = "verify", _("Verified")
    PUBLISH = "publish", _("Published")
    EDIT = "edit", _("Changed")


class WishEvent(models.Model):
    """One step of a micro-wish: who did it and when, from which state to which, for which member, what was done."""

    org_scope_field = "wish__community"

    wish = models.ForeignKey(Wish, verbose_name=_("micro-wish"), on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=WishAction.choices)
    from_state = models.CharField(_("from"), max_length=12, choices=WishState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=WishState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", help_text=_("The member it was dispatched to, or who took it."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-wish step")
        verbose_name_plural = _("micro-wish steps")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.wish_id} {self.action}"


class ServiceRecord(models.Model):
    """One volunteer service by a party member, with its hours and points (双积分)."""

    # The community where it was done and the member's own branch both see it.
    org_scope_field = ("community", "member__organization__org_unit")

    member = models.ForeignKey(
        PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT, related_name="services"
    )
    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="service_records",
        limit_choices_to=community_q,
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    hours = models.DecimalField(
        _("hours"), max_digits=4, decimal_places=1, editable=False, validators=[MinValueValidator(Decimal("0.1"))]
    )
    kind = models.CharField(_("service kind"), max_length=16, choices=ServicePost.choices)
    wish = models.ForeignKey(
        Wish, verbose_name=_("micro-wish"), on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    points = models.PositiveIntegerField(_("points"), default=0, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-date", "-start_time"]
        indexes = [models.Index(fields=["member", "date"])]

    def __str__(self):
        return f"{self.member} {self.date} {self.hours}h"
