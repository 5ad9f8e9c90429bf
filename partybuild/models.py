"""Party organisations and their kinds, party members, double report (双报到), micro-wishes and volunteer service."""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import TreeForeignKey
from mptt.querysets import TreeQuerySet

from governance.crypto import EncryptedCharField
from governance.models import Household, Level, OrgUnit, Resident, TreeNode
from governance.scope import ScopedQuerySet


class OrgKind:
    """The codes of the kinds every portal starts with (``partybuild.kinds.DEFAULT_KINDS``).

    Which kinds exist and which may sit under which are rows of ``PartyOrganizationKind`` that an
    administrator edits; these constants only name the seeded ones for code that builds a tree
    (the demo, the indicators by kind).
    """

    COMMITTEE = "committee"
    STREET_COMMITTEE = "street_committee"
    COMMUNITY_COMMITTEE = "community_committee"
    GENERAL_BRANCH = "general_branch"
    BRANCH = "branch"
    GRID_BRANCH = "grid_branch"
    GROUP = "group"


KIND_UNKNOWN = _("There is no kind of party organisation “%(kind)s”.")
KIND_DOES_NOT_FIT = _("A %(child)s cannot be placed under a %(parent)s: a %(child)s sits under %(allowed)s.")
KIND_ONLY_AT_THE_TOP = _("A %(child)s cannot be placed under a %(parent)s: a %(child)s is only a top organisation.")


class PartyOrganizationKind(models.Model):
    """A kind of party organisation (党委, 街道党工委, 党支部 …) and the kinds it may sit under.

    Configuration an administrator keeps for the whole portal, not county data (not scoped).
    An organisation stores its kind's ``code``, which therefore never changes once used.
    """

    code = models.SlugField(
        _("code"), max_length=20, unique=True,
        help_text=_("Letters, digits, - and _; stored with every organisation of this kind, fixed once used."),
    )
    name = models.CharField(_("name"), max_length=40, unique=True)
    aliases = models.CharField(
        _("other names"), max_length=200, blank=True,
        help_text=_("Other names an Excel import accepts for this kind, separated by 、 (e.g. 楼栋党小组、庭院党小组)"),
    )
    parents = models.ManyToManyField(
        "self", verbose_name=_("may sit under"), symmetrical=False, blank=True, related_name="allowed_children",
        help_text=_("The kinds an organisation of this kind may be placed under; any kind may be a top organisation."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("kind of party organisation")
        verbose_name_plural = _("kinds of party organisation")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name

    def alias_list(self) -> list[str]:
        return [alias for alias in re.split(r"[、,，;；\s]+", self.aliases) if alias]

    @classmethod
    def rules(cls) -> "KindRules":
        """Every kind's name and the kinds it may sit under, read in two queries."""
        names = dict(cls.objects.order_by("sort_order", "code").values_list("code", "name"))
        parents: dict[str, set[str]] = {code: set() for code in names}
        pairs = cls.parents.through.objects.values_list(
            "from_partyorganizationkind__code", "to_partyorganizationkind__code"
        )
        for child, parent in pairs:
            parents[child].add(parent)
        return KindRules(names, {code: frozenset(found) for code, found in parents.items()})


def kind_choices() -> list[tuple[str, str]]:
    """(code, name) of every kind, in their order: the choices of a form or filter, read when it is used."""
    return list(PartyOrganizationKind.objects.order_by("sort_order", "code").values_list("code", "name"))


@dataclass(frozen=True)
class KindRules:
    """The kinds as read once (``PartyOrganizationKind.rules()``): code → name, code → codes it may sit under."""

    names: dict[str, str]
    parents: dict[str, frozenset[str]]

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def fits(self, child: str, parent: str) -> bool:
        return parent in self.parents.get(child, ())

    def children_of(self, parent: str) -> set[str]:
        return {child for child, parents in self.parents.items() if parent in parents}

    def unknown(self, code: str) -> ValidationError | None:
        if code in self.names:
            return None
        return ValidationError(KIND_UNKNOWN, code="unknown_kind", params={"kind": code})

    def misfit(self, child: str, parent: str) -> ValidationError | None:
        """Why an organisation of kind ``child`` cannot sit under one of kind ``parent`` (None: it can)."""
        if self.fits(child, parent):
            return None
        allowed = [self.names[code] for code in self.names if code in self.parents.get(child, ())]
        params = {"child": self.name(child), "parent": self.name(parent), "allowed": "、".join(allowed)}
        return ValidationError(KIND_DOES_NOT_FIT if allowed else KIND_ONLY_AT_THE_TOP, code="kind_misfit",
                               params=params)


class PartyOrganizationQuerySet(TreeQuerySet, ScopedQuerySet):
    pass


class PartyOrganizationManager(TreeManager.from_queryset(PartyOrganizationQuerySet)):
    pass


class PartyOrganization(TreeNode):
    """A party organisation (党组织) of one kind (党委, 党支部, 网格党支部 …), covering one OrgUnit."""

    org_scope_field = "org_unit"
    tree_lock_key = 7_254_002

    name = models.CharField(_("name"), max_length=100)
    # The code of a PartyOrganizationKind: a code, not a foreign key, so that every stored row, export,
    # API filter (?kind=committee) and caller that names a kind by its code keeps working; the
    # kind's existence and nesting are checked by clean() and the services (a rule across rows).
    kind = models.CharField(_("kind"), max_length=20)
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
        constraints = [models.CheckConstraint(condition=~Q(kind=""), name="party_organization_has_kind")]

    def __str__(self):
        return self.name

    def clean(self):
        self.clean_with(PartyOrganizationKind.rules() if self.kind else None)

    def clean_with(self, rules: KindRules | None) -> None:
        """``clean()`` with the kinds already read (an import reads them once, not for every row)."""
        if self.kind and rules is not None:
            error = rules.unknown(self.kind)
            if error is None and self.parent_id:
                error = rules.misfit(self.kind, self.parent.kind)
            if error is not None:
                raise ValidationError({"kind": error})
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
    contact_phone = EncryptedCharField(_("contact phone"), max_length=20, blank=True, kind="phone")
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
    content = models.TextField(_("content"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)])
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
    result = models.TextField(_("result"), max_length=2000, blank=True, editable=False,
                              validators=[MaxLengthValidator(2000)])
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
    comment = models.TextField(_("comment"), max_length=2000, blank=True, validators=[MaxLengthValidator(2000)])

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
