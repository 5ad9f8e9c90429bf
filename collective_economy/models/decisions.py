"""Village decisions (四议两公开, and the 六议两公开 some villages use), and the county's rules for them.

Every major village matter goes 提议 (the branch proposes) → 商议 (the two committees) →
审议 (the party members' meeting) → 决议 (the villagers' representatives decide) → 决议公开 →
实施结果公开. A village that uses 六议 (``VillageDecisionSetting.six_step``) adds 动议 (a written
motion) before and 民议 (every household consulted, each with a signature) before the vote.
Steps are recorded only by ``collective_economy.services.decisions``, one after the other,
under a lock on the decision; a vote that fails ends the decision (``rejected``).

A payment voucher above the county's threshold (``DecisionRules.payment_threshold``, 50,000
yuan unless the county says otherwise) is posted only when it cites a decision that reached
决议: the services refuse it, and so does the database (``collective_economy.triggers``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.models import Household, Level, OrgUnit
from governance.scope import ScopedQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}
DEFAULT_PAYMENT_THRESHOLD = Decimal("50000.00")


class Step(models.TextChoices):
    MOTION = "motion", pgettext_lazy("decision step", "Motion (动议)")
    PROPOSAL = "proposal", pgettext_lazy("decision step", "Proposal by the party branch (提议)")
    DISCUSSION = "discussion", pgettext_lazy("decision step", "Discussion by the two committees (商议)")
    REVIEW = "review", pgettext_lazy("decision step", "Review by the party members' meeting (审议)")
    CONSULTATION = "consultation", pgettext_lazy("decision step", "Consultation of every household (民议)")
    RESOLUTION = "resolution", pgettext_lazy("decision step", "Resolution by the villagers' representatives (决议)")
    PUBLICATION = "publication", pgettext_lazy("decision step", "Resolution published (决议公开)")
    RESULT = "result", pgettext_lazy("decision step", "Results published (实施结果公开)")


FOUR_STEPS = [Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION, Step.PUBLICATION, Step.RESULT]
SIX_STEPS = [Step.MOTION, Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.CONSULTATION, Step.RESOLUTION,
             Step.PUBLICATION, Step.RESULT]
# Meetings that vote; the others are a motion, a consultation or a publication.
VOTING_STEPS = {Step.PROPOSAL, Step.DISCUSSION, Step.REVIEW, Step.RESOLUTION}
RESOLVED_STATES = {Step.RESOLUTION, Step.PUBLICATION, Step.RESULT}
PUBLISHED_STATES = {Step.PUBLICATION, Step.RESULT}


class Quorum(models.TextChoices):
    NONE = "none", _("No rule")
    MAJORITY = "majority", _("More than half")
    TWO_THIRDS = "two_thirds", _("At least two thirds")
    ALL = "all", _("Everyone")


# The rules of the Organic Law of Villagers' Committees and the party's meeting rules, unless the
# county sets its own (``StepQuorum``): (attendance, approval of those present).
DEFAULT_QUORUMS = {
    Step.PROPOSAL: (Quorum.MAJORITY, Quorum.MAJORITY),
    Step.DISCUSSION: (Quorum.MAJORITY, Quorum.MAJORITY),
    Step.REVIEW: (Quorum.MAJORITY, Quorum.MAJORITY),
    Step.RESOLUTION: (Quorum.TWO_THIRDS, Quorum.MAJORITY),
}


class DecisionRules(models.Model):
    """A county's rules for village decisions (村级重大事项决策规则): the payment threshold, and quorums."""

    org_scope_field = "county"

    county = models.OneToOneField(OrgUnit, verbose_name=_("county"), on_delete=models.PROTECT,
                                  related_name="decision_rules", limit_choices_to={"level": Level.COUNTY})
    payment_threshold = models.DecimalField(
        _("payment threshold (yuan)"), default=DEFAULT_PAYMENT_THRESHOLD, **MONEY,
        help_text=_("A payment voucher above this amount is posted only when it cites a village decision that "
                    "reached the resolution (决议)."))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("village decision rules")
        verbose_name_plural = _("village decision rules")
        ordering = ["county__tree_id"]
        constraints = [models.CheckConstraint(condition=Q(payment_threshold__gte=0), name="ce_rules_threshold")]

    def __str__(self):
        return str(self.county)


class StepQuorum(models.Model):
    """A county's quorum for one voting step: who must attend, and how many of them must vote for."""

    org_scope_field = "rules__county"

    rules = models.ForeignKey(DecisionRules, verbose_name=_("rules"), on_delete=models.CASCADE,
                              related_name="quorums")
    step = models.CharField(_("step"), max_length=14, choices=[(s.value, s.label) for s in Step
                                                               if s in VOTING_STEPS])
    attendance = models.CharField(_("attendance"), max_length=10, choices=Quorum.choices)
    approval = models.CharField(_("votes for, of those present"), max_length=10, choices=Quorum.choices)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("quorum")
        verbose_name_plural = _("quorums")
        ordering = ["rules", "step"]
        constraints = [models.UniqueConstraint(fields=["rules", "step"], name="ce_quorum_unique")]

    def __str__(self):
        return f"{self.rules} {self.get_step_display()}"


class VillageDecisionSetting(models.Model):
    """How a village decides: the four steps (四议两公开), or six (六议两公开: 动议 and 民议 added)."""

    org_scope_field = "village"

    village = models.OneToOneField(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT,
                                   related_name="decision_setting", limit_choices_to={"level": Level.VILLAGE})
    six_step = models.BooleanField(
        _("six steps (六议两公开)"), default=False,
        help_text=_("A written motion (动议) before the proposal, and every household consulted with a signature "
                    "(民议) before the vote."))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("village decision setting")
        verbose_name_plural = _("village decision settings")
        ordering = ["village__tree_id", "village__lft"]

    def __str__(self):
        return str(self.village)


class DecisionState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("decision state", "Registered")
    MOTION = Step.MOTION.value, pgettext_lazy("decision state", "Motion made")
    PROPOSAL = Step.PROPOSAL.value, pgettext_lazy("decision state", "Proposed")
    DISCUSSION = Step.DISCUSSION.value, pgettext_lazy("decision state", "Discussed")
    REVIEW = Step.REVIEW.value, pgettext_lazy("decision state", "Reviewed")
    CONSULTATION = Step.CONSULTATION.value, pgettext_lazy("decision state", "Households consulted")
    RESOLUTION = Step.RESOLUTION.value, pgettext_lazy("decision state", "Resolved")
    PUBLICATION = Step.PUBLICATION.value, pgettext_lazy("decision state", "Resolution published")
    RESULT = Step.RESULT.value, pgettext_lazy("decision state", "Results published")
    REJECTED = "rejected", pgettext_lazy("decision state", "Rejected")


class Decision(models.Model):
    """A major village matter (村级重大事项) and where its decision stands: the last step it passed."""

    org_scope_field = "village"

    village = models.ForeignKey(OrgUnit, verbose_name=_("village"), on_delete=models.PROTECT,
                                related_name="decisions", limit_choices_to={"level": Level.VILLAGE})
    number = models.CharField(pgettext_lazy("decision", "number"), max_length=40)
    title = models.CharField(_("matter"), max_length=100)
    description = models.TextField(_("description"), max_length=5000, validators=[MaxLengthValidator(5000)])
    amount = models.DecimalField(_("amount involved (yuan)"), null=True, blank=True, **MONEY)
    six_step = models.BooleanField(_("six steps (六议两公开)"), default=False,
                                   help_text=_("Taken from the village's setting when the matter is registered."))
    state = models.CharField(_("state"), max_length=14, choices=DecisionState.choices, default=DecisionState.DRAFT)
    result_summary = models.TextField(_("results"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)],
                                      help_text=_("What was done, published at the last step."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("registered by"),
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("village decision")
        verbose_name_plural = _("village decisions")
        ordering = ["village__tree_id", "village__lft", "-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["village", "number"], name="ce_decision_number_unique")]
        permissions = [("record_decision", _("Can record the steps of village decisions"))]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def steps(self) -> list[str]:
        return SIX_STEPS if self.six_step else FOUR_STEPS

    @property
    def is_resolved(self) -> bool:
        return self.state in RESOLVED_STATES

    @property
    def is_published(self) -> bool:
        return self.state in PUBLISHED_STATES


class DecisionRecord(models.Model):
    """One step of a decision as it was held: date, attendance, votes, minutes (and files)."""

    org_scope_field = "decision__village"

    decision = models.ForeignKey(Decision, verbose_name=_("decision"), on_delete=models.CASCADE,
                                 related_name="records")
    step = models.CharField(_("step"), max_length=14, choices=Step.choices)
    held_on = models.DateField(_("date"))
    expected = models.PositiveIntegerField(_("expected to attend"), null=True, blank=True)
    attended = models.PositiveIntegerField(_("attended"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True)
    abstentions = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), default=True)
    minutes = models.TextField(_("minutes"), max_length=20000, validators=[MaxLengthValidator(20000)],
                               help_text=_("What was said and decided; for a publication, what was "
                                           "published and where."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision step")
        verbose_name_plural = _("decision steps")
        ordering = ["decision", "held_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "step"], name="ce_decision_step_unique"),
            models.CheckConstraint(condition=Q(attended__isnull=True) | Q(expected__isnull=True)
                                   | Q(attended__lte=models.F("expected")), name="ce_decision_attendance"),
        ]

    def __str__(self):
        return f"{self.decision} {self.get_step_display()}"


def _decision_file_path(instance, filename: str) -> str:
    import uuid
    from pathlib import Path

    from django.utils import timezone

    return f"decisions/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


class DecisionFile(models.Model):
    """A file of a step (minutes signed, a notice photographed): served only to users in scope, never in public."""

    org_scope_field = "record__decision__village"

    record = models.ForeignKey(DecisionRecord, verbose_name=_("step"), on_delete=models.CASCADE,
                               related_name="files")
    file = models.FileField(_("file"), upload_to=_decision_file_path, storage=_private_storage, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision file")
        verbose_name_plural = _("decision files")
        ordering = ["record", "pk"]

    def __str__(self):
        return self.name


class DecisionSignature(models.Model):
    """A household's signature in the consultation (民议) of a six-step decision."""

    org_scope_field = "decision__village"

    decision = models.ForeignKey(Decision, verbose_name=_("decision"), on_delete=models.CASCADE,
                                 related_name="signatures")
    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT,
                                  related_name="+")
    signed_on = models.DateField(_("signed on"))
    agrees = models.BooleanField(_("agrees"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("household signature")
        verbose_name_plural = _("household signatures")
        ordering = ["decision", "household_id"]
        constraints = [models.UniqueConstraint(fields=["decision", "household"], name="ce_signature_unique")]

    def __str__(self):
        return f"{self.decision} {self.household}"
