"""Registers and decisions for the cast: one of each row in a village (the scope walk needs them)."""

import datetime
from decimal import Decimal

from django.core.files.base import ContentFile

from collective_economy.models import (
    Asset,
    Contract,
    ContractInstalment,
    ContractPayment,
    DebtRecord,
    DebtSettlement,
    Decision,
    DecisionFile,
    DecisionRecord,
    DecisionRules,
    DecisionSignature,
    Project,
    ProjectCategory,
    Resource,
    Step,
    StepQuorum,
    VillageDecisionSetting,
)
from governance.models import Household

DAY = datetime.date(2026, 3, 1)


def add_registers(villages, user) -> None:
    """A contract (with a scheduled payment and a payment), a receivable with a collection, an asset, a
    resource, a project, a decision with a step, a file and a signature, and a decision setting, per village."""
    for n, village in enumerate(villages):
        code = f"T{village.pk}"
        resource = Resource.objects.create(village=village, code=code, name="东沟耕地", kind="arable",
                                           area=Decimal("35.50"))
        Asset.objects.create(village=village, code=code, name="村集体厂房", kind="building", value=Decimal("200000"))
        contract = Contract.objects.create(
            village=village, number=code, title="东沟耕地发包", kind="letting", subject_kind="land",
            counterparty_name="德昌绿源农业有限公司", amount=Decimal("30000"), signed_on=DAY, starts_on=DAY,
            ends_on=DAY.replace(year=2030), resource=resource)
        instalment = ContractInstalment.objects.create(contract=contract, due_on=DAY, amount=Decimal("6000"))
        ContractPayment.objects.create(contract=contract, instalment=instalment, received_on=DAY,
                                       amount=Decimal("1000"), recorded_by=user)
        record = DebtRecord.objects.create(village=village, kind="receivable", number=code, origin="历年欠缴承包费",
                                           counterparty_name="德昌绿源农业有限公司", opening_amount=Decimal("5000"),
                                           registered_on=DAY)
        DebtSettlement.objects.create(record=record, settled_on=DAY, amount=Decimal("2000"), recorded_by=user)
        category = ProjectCategory.objects.get(code="specialty-agriculture")
        project = Project.objects.create(village=village, category=category, name=f"花椒基地{n}",
                                         investment=Decimal("500000"))
        project.villages.set([village])
        VillageDecisionSetting.objects.create(village=village, six_step=False)
        decision = Decision.objects.create(village=village, number=code, title="东沟耕地发包", description="发包",
                                           created_by=user, state=Step.PROPOSAL)
        record = DecisionRecord.objects.create(decision=decision, step=Step.PROPOSAL, held_on=DAY, expected=5,
                                               attended=5, votes_for=5, minutes="同意", recorded_by=user)
        DecisionFile.objects.create(record=record, file=ContentFile(b"%PDF-1.4\n", name="minutes.pdf"),
                                    name="minutes.pdf", content_type="application/pdf", size=9, uploaded_by=user)
        village.refresh_from_db()  # the cast's objects predate the tree's later inserts (lft/rght moved)
        household = Household.objects.filter(grid__tree_id=village.tree_id, grid__lft__gt=village.lft,
                                             grid__rght__lt=village.rght).first()
        DecisionSignature.objects.create(decision=decision, household=household, signed_on=DAY, recorded_by=user)


def add_county_rules(counties) -> None:
    """A county's decision rules (a quorum of its own) and a local project category."""
    for county in counties:
        rules = DecisionRules.objects.create(county=county, payment_threshold=Decimal("50000"))
        StepQuorum.objects.create(rules=rules, step=Step.RESOLUTION, attendance="two_thirds", approval="majority")
        ProjectCategory.objects.create(county=county, code=f"local-{county.pk}", name="本地特色产业")
