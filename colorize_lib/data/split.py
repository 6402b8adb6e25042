"""The split rules: which photo groups go to test, which training groups choose the checkpoint, and, for a
source with a split of its own, which training photos must leave because they are near-duplicates of a test
photo. Functions of the names, groups and seed only, so the listing order of the photos does not matter."""

import hashlib

# A validation split is carved from the training side only when that side has at least this many groups
# (the bundled photos have 6: they report the final epoch instead), and it holds between
# VALIDATION_MIN_GROUPS and VALIDATION_MAX_GROUPS groups: fewer cannot rank epochs, more add little
# precision to the choice and take photos away from training.
VALIDATION_MIN_TRAIN_GROUPS = 10
VALIDATION_MIN_GROUPS = 3
VALIDATION_MAX_GROUPS = 500


def _ranked(groups: list[str], salt: str) -> list[str]:
    unique = sorted(set(groups))
    score = {g: hashlib.sha256(f"{salt}:{g}".encode()).hexdigest() for g in unique}
    return sorted(unique, key=score.get)


def split_by_group(groups: list[str], seed: int, test_fraction: float) -> list[bool]:
    """True where a photo goes to test: the round(test_fraction * n_groups) groups (at least one, never
    all) with the smallest seeded hash of their name."""
    unique = sorted(set(groups))
    if len(unique) < 2:
        raise ValueError(f"need photos from at least 2 groups to split train/test, got {len(unique)}")
    k = min(max(1, round(test_fraction * len(unique))), len(unique) - 1)
    test = set(_ranked(groups, str(seed))[:k])
    return [g in test for g in groups]


def validation_groups(train_groups: list[str], seed: int, val_fraction: float) -> set[str]:
    """The training groups that choose the checkpoint, drawn with a hash of their own ('validation:seed'),
    so the test split is untouched: round(val_fraction * n) groups, clamped to [VALIDATION_MIN_GROUPS,
    VALIDATION_MAX_GROUPS]; none when the training side has fewer than VALIDATION_MIN_TRAIN_GROUPS groups
    or val_fraction is 0."""
    unique = sorted(set(train_groups))
    if val_fraction <= 0 or len(unique) < VALIDATION_MIN_TRAIN_GROUPS:
        return set()
    k = min(max(VALIDATION_MIN_GROUPS, round(val_fraction * len(unique))), VALIDATION_MAX_GROUPS)
    return set(_ranked(unique, f"validation:{seed}")[:k])


def duplicates_of_test(names: list[str], groups: list[str], sides: list[str]) -> dict[str, str]:
    """For a source's own split (`sides`: "train"/"test" per photo): each training photo that shares its
    group with a test photo -> that test photo (the first by name, when there are several). These leave
    training rather than join the test side: the test set stays the one the source published, so results
    remain comparable with everyone else's on it."""
    first_test: dict[str, str] = {}
    for name, group, side in zip(names, groups, sides):
        if side == "test" and (group not in first_test or name < first_test[group]):
            first_test[group] = name
    return {n: first_test[g] for n, g, side in zip(names, groups, sides) if side == "train" and g in first_test}
