from deployments.batching.lengths import group_by_length, padding_waste


def padded(groups, lengths):
    return [len(g) * max(lengths[i] for i in g) for g in groups]


def test_every_index_lands_in_exactly_one_group():
    lengths = [5, 80, 7, 6, 300, 9, 12]
    groups = group_by_length(lengths, 100)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))


def test_groups_stay_under_the_padded_token_budget():
    lengths = [5, 80, 7, 6, 30, 9, 12, 40, 41, 3]
    for budget in (50, 100, 200, 1000):
        groups = group_by_length(lengths, budget)
        for group, cost in zip(groups, padded(groups, lengths), strict=True):
            assert cost <= budget or len(group) == 1


def test_one_long_line_does_not_pad_the_short_ones():
    lengths = [10] * 31 + [500]
    groups = group_by_length(lengths, 1024)
    assert [len(g) for g in groups] == [31, 1]
    assert sum(padded(groups, lengths)) == 31 * 10 + 500  # not 32 x 500


def test_a_generous_budget_keeps_one_group():
    assert group_by_length([3, 9, 4], 10_000) == [[0, 2, 1]]


def test_padding_waste():
    assert padding_waste(0, 0) is None
    assert padding_waste(75, 100) == 0.25
