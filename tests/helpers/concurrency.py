"""Jobs released at the same instant in threads, for the races PostgreSQL's locks must settle."""

import threading

from django.core.exceptions import ValidationError
from django.db import connections


def run_at_once(jobs) -> list:
    """Run the callables ``jobs`` in threads released together by a barrier; each one's result, or
    the ValidationError it raised (a refusal is an outcome). Any other error fails the test."""
    outcomes = [None] * len(jobs)
    failures = []
    barrier = threading.Barrier(len(jobs))

    def run(index, job):
        try:
            barrier.wait()
            outcomes[index] = job()
        except ValidationError as exc:
            outcomes[index] = exc
        except Exception as exc:  # re-raised in the test's thread below
            failures.append(exc)
        finally:
            # Each thread has its own connection; close it, or the test database cannot be dropped.
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads), "a job was still running after 120 s"
    return outcomes


def refusals(outcomes) -> list[ValidationError]:
    """The ValidationErrors among ``outcomes``."""
    return [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]


def successes(outcomes) -> list:
    """The results among ``outcomes`` (every outcome but the refusals)."""
    return [outcome for outcome in outcomes if not isinstance(outcome, ValidationError)]
