"""The grid's term lists a county may name its own way (``governance.terms``): grid-worker types
(Dechang's 优网格员) and case categories. Registered here, beside the rosters that accept them."""

from django.utils.translation import gettext_lazy as _

from governance.terms import Vocabulary, register_vocabulary
from grid.models import CaseCategory, WorkerType

WORKER_TYPES = "worker_type"
CASE_CATEGORIES = "case_category"


def _category_labels() -> dict[str, str]:
    return {category.code: str(category) for category in CaseCategory.objects.select_related("parent")}


register_vocabulary(Vocabulary(WORKER_TYPES, _("Grid-worker types"), choices=WorkerType))
register_vocabulary(Vocabulary(CASE_CATEGORIES, _("Case categories"), labels=_category_labels))
