"""The split rule: which photo groups go to test. A function of the group names and the seed only."""

import hashlib


def split_by_group(groups: list[str], seed: int, test_fraction: float) -> list[bool]:
    """True where a photo goes to test: the round(test_fraction * n_groups) groups (at least one, never
    all) with the smallest seeded hash of their name. Depends only on the group names and the seed,
    so the listing order of the photos does not matter."""
    unique = sorted(set(groups))
    if len(unique) < 2:
        raise ValueError(f"need photos from at least 2 groups to split train/test, got {len(unique)}")
    score = {g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest() for g in unique}
    k = min(max(1, round(test_fraction * len(unique))), len(unique) - 1)
    test = set(sorted(unique, key=score.get)[:k])
    return [g in test for g in groups]
