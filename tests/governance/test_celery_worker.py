"""The tree check runs in a real Celery worker that reads the same database."""

from governance.models import OrgUnit
from governance.tasks import check_tree
from tests.markers import requires_postgres, requires_redis
from tests.worker import celery_worker_process  # noqa: F401  (fixture)

pytestmark = [requires_redis, requires_postgres]


def test_the_worker_reports_a_corrupted_tree(county, celery_worker_process):  # noqa: F811
    assert check_tree.delay().get(timeout=60) == 0
    # Break one range behind MPTT's back, as a bad manual UPDATE would.
    OrgUnit.objects.filter(pk=county.grids[0].pk).update(rght=999)
    assert check_tree.delay().get(timeout=60) >= 1
