"""A unit's median is taken over the samples inside its own range: the bottom-up merge gives the
same medians as sorting each unit's samples from scratch, for any tree and any samples."""

import random
import statistics
from decimal import Decimal

from governance.indicators.medians import medians_of


def naive(samples, ranges):
    medians = {}
    for unit_id, tree_id, lft, rght in ranges:
        inside = [v for t, left, v in samples if t == tree_id and lft <= left <= rght and v is not None]
        if inside:
            medians[unit_id] = (len(inside), Decimal(str(round(statistics.median(inside), 6))))
    return medians


def tree(rng, trees=2, depth=4):
    """Nested-set ranges of random trees: (id, tree_id, lft, rght) of every node."""
    ranges, counter = [], iter(range(1, 10**6))

    def node(tree_id, level, lft):
        unit_id, right = next(counter), lft + 1
        for _child in range(rng.randint(0, 3) if level < depth else 0):
            right = node(tree_id, level + 1, right) + 1
        ranges.append((unit_id, tree_id, lft, right))
        return right

    for tree_id in range(1, trees + 1):
        node(tree_id, 0, 1)
    return ranges


def test_the_merge_equals_sorting_each_unit_from_scratch():
    rng = random.Random(20261206)
    for _round in range(30):
        ranges = tree(rng)
        positions = [(tree_id, lft) for _id, tree_id, lft, _rght in ranges]
        samples = [(*rng.choice(positions), rng.choice([None, rng.random() * 100, float(rng.randint(1, 5))]))
                   for _n in range(rng.randint(0, 200))]
        # The units written may be a part of the tree (the levels above the townships): any subset.
        written = [r for r in ranges if rng.random() < 0.6]
        assert medians_of(samples, written) == naive(samples, written)


def test_a_unit_without_samples_has_no_median():
    assert medians_of([], [(1, 1, 1, 4)]) == {}
    assert medians_of([(1, 2, 3.0)], [(1, 1, 1, 4), (2, 1, 5, 6)]) == {1: (1, Decimal("3.0"))}
