"""Group lines of different lengths into model calls under a padded-token budget.

A batch is padded to its longest row, so its cost is rows x longest, whatever the short rows
hold. Sorting by length keeps rows of similar length together; the budget cuts a new group when
the next row would push rows x longest past it, so one long line does not make 31 short ones pay
for its padding. Pure: lengths in, groups of indices out.
"""

from __future__ import annotations

from collections.abc import Sequence


def group_by_length(lengths: Sequence[int], max_padded_tokens: int) -> list[list[int]]:
    """Indices into ``lengths``, grouped; each group's rows x longest fits the budget.

    A single row longer than the budget gets a group of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:
        # Sorted ascending, so the newest row is the longest of its group.
        if current and (len(current) + 1) * lengths[index] > max_padded_tokens:
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


def padding_waste(real_tokens: int, padded_tokens: int) -> float | None:
    """The share of padded positions that carry no token; None before any call."""
    if padded_tokens == 0:
        return None
    return 1 - real_tokens / padded_tokens
