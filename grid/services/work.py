"""Writes of the dispute mediation pages (矛盾纠纷): a mediation record of a dispute case."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models import User
from grid.models import Case, Mediation

MEDIATION_FUTURE = _("A mediation cannot be recorded before it is held.")
MEDIATION_BEFORE_CASE = _("The case was reported on %(day)s: the mediation cannot be earlier.")


def mediation_record(*, case: Case, user: User, held_on: datetime.date, mediator: str, room: str, outcome: str,
                     notes: str = "") -> Mediation:
    """Record a mediation session (调解) of a dispute case (矛盾纠纷).

    Not held in the future, nor before the case was reported; the model refuses a case that is
    not a dispute and an unknown outcome.
    """
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": MEDIATION_FUTURE})
    reported = timezone.localdate(case.reported_at)
    if held_on < reported:
        error = ValidationError(MEDIATION_BEFORE_CASE, params={"day": f"{reported:%Y-%m-%d}"})
        raise ValidationError({"held_on": error})
    mediation = Mediation(case=case, held_on=held_on, mediator=(mediator or "").strip(), room=(room or "").strip(),
                          outcome=outcome, notes=(notes or "").strip(), recorded_by=user)
    mediation.full_clean()
    with transaction.atomic():
        mediation.save()
    return mediation
