"""Demo village decisions, recorded through ``collective_economy.services.decisions`` step by step (dates in the
past, in order), as a village clerk records them:

- in every village, the project's construction (立项), through every step to its results published: the
  construction payment above the threshold cites it; in every third village the letting of the river flats
  too, to its results (the contract cites it);
- in one village of four a road project in progress (proposed and discussed so far), in another a small
  matter resolved and published in the last weeks;
- where the year's operating expenses include a payment above the threshold, the year's spending plan
  (经营项目年度支出计划), resolved the December before; last year's with its results published;
- one village (the demo's ``village_a``) decides in six steps (六议两公开): a motion first, and before the
  representatives vote every household of the village signs in the consultation (民议).

The county keeps the default rules (50,000 yuan; the Organic Law's quorums).
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from collective_economy.models import Step, VillageDecisionSetting
from collective_economy.services.decisions import (
    decision_create,
    decision_record_step,
    decision_sign,
    next_step,
    village_households,
)
from governance.demo.hooks import DemoContext
from governance.models import OrgUnit, User

# Who meets at each voting step: (expected, attended, for, against, abstaining).
MEETINGS = {
    Step.PROPOSAL: (7, 7, 7, 0, 0),
    Step.DISCUSSION: (11, 10, 10, 0, 0),
    Step.REVIEW: (46, 39, 37, 1, 1),
    Step.RESOLUTION: (35, 30, 28, 1, 1),
}
MINUTES = {
    Step.MOTION: "村党组织收到党员群众书面动议，经研究列入议事议程。",
    Step.PROPOSAL: "村党组织会议研究，提出初步方案。",
    Step.DISCUSSION: "村“两委”联席会议商议，完善方案。",
    Step.REVIEW: "党员大会审议，同意提交村民代表会议。",
    Step.CONSULTATION: "逐户征求意见，每户签字。",
    Step.RESOLUTION: "村民代表会议表决通过。",
    Step.PUBLICATION: "决议内容在村务公开栏公开七天，无异议。",
    Step.RESULT: "实施结果在村务公开栏公开。",
}
# Days before the matter's date (the payment, the signing) each step was held on.
DAYS_BEFORE = {Step.MOTION: 40, Step.PROPOSAL: 35, Step.DISCUSSION: 31, Step.REVIEW: 27, Step.CONSULTATION: 22,
               Step.RESOLUTION: 15, Step.PUBLICATION: 12}


class Recorder:
    """Registers the demo's decisions and records their steps; remembers each by its key for the rows that cite
    it (vouchers, contracts, projects)."""

    def __init__(self, ctx: DemoContext, users: dict[int, int], six_step_village: int | None):
        self.ctx = ctx
        self.ids: dict[tuple, int] = {}
        self.numbers: dict[int, int] = {}
        villages = ctx.query(OrgUnit.objects.filter(pk__in=list(users)))
        self.villages = {village.pk: village for village in villages}
        people = {user.pk: user for user in ctx.query(User.objects.filter(pk__in=set(users.values())))}
        self.users = {village: people[user] for village, user in users.items()}
        self.today = min(ctx.as_of, timezone.localdate())
        if six_step_village is not None:
            VillageDecisionSetting.objects.create(village=self.villages[six_step_village], six_step=True)

    def record(self, key: tuple, village: int, title: str, description: str, amount: Decimal | None,
               day: datetime.date, *, until: str = Step.RESULT, result: str = "", result_on=None) -> int | None:
        """A decision about a matter of ``day``: its steps before that day, up to ``until`` (the results
        published on ``result_on``). Steps that would fall after the demo's last day are left for later."""
        unit, user = self.villages[village], self.users[village]
        first = day - datetime.timedelta(days=DAYS_BEFORE[Step.MOTION])
        self.numbers[village] = self.numbers.get(village, 0) + 1
        decision = decision_create(village=unit, title=title, description=description, user=user, amount=amount,
                                   number=f"JC{first.year}-{self.numbers[village]:03d}")
        held = first
        while (step := next_step(decision)) is not None:
            if step == Step.RESULT and result_on is None:
                break
            held = max(held, result_on if step == Step.RESULT else day - datetime.timedelta(days=DAYS_BEFORE[step]))
            if held > self.today:
                break
            if step == Step.CONSULTATION:
                decision_sign(decision=decision, households=village_households(unit), signed_on=held, user=user)
            expected, attended, votes_for, against, abstaining = MEETINGS.get(step, (None,) * 5)
            decision_record_step(decision=decision, step=step, user=user, held_on=held, minutes=MINUTES[step],
                                 expected=expected, attended=attended, votes_for=votes_for,
                                 votes_against=against, abstentions=abstaining,
                                 result_summary=result if step == Step.RESULT else "")
            decision.state = step  # the demo's votes pass: the decision moved to the step
            if step == until:
                break
        self.ids[key] = decision.pk
        return decision.pk
