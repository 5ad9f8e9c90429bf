"""The tree check runs in a real Celery worker that reads the same database."""

from governance.models import OrgUnit
from governance.tasks import check_tree
from tests.helpers.markers import requires_postgres, requires_redis

pytestmark = [requires_redis, requires_postgres]


def test_the_worker_reports_a_corrupted_tree(county, celery_worker_process):
    assert check_tree.delay().get(timeout=60) == 0
    # Break one range behind MPTT's back, as a bad manual UPDATE would.
    OrgUnit.objects.filter(pk=county.grids[0].pk).update(rght=999)
    assert check_tree.delay().get(timeout=60) >= 1
