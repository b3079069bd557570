"""The gap guard: which offset jumps count as skipped messages."""

from __future__ import annotations

from streams.gaps import Gap, OffsetGaps


def test_contiguous_offsets_have_no_gap() -> None:
    gaps = OffsetGaps()
    assert [gaps.seen("raw", 0, offset) for offset in range(5, 10)] == [None] * 5


def test_a_jump_reports_the_skipped_offsets_once() -> None:
    gaps = OffsetGaps()
    gaps.seen("raw", 2, 1061)
    gap = gaps.seen("raw", 2, 1076)
    assert gap == Gap("raw", 2, 1062, 1076)
    assert str(gap) == "raw[2]@1062..1075"
    assert gaps.seen("raw", 2, 1077) is None


def test_redelivered_offsets_are_not_gaps_and_do_not_move_back() -> None:
    gaps = OffsetGaps()
    for offset in (10, 11, 12):
        gaps.seen("raw", 0, offset)
    assert gaps.seen("raw", 0, 11) is None  # redelivery after a restart
    assert gaps.seen("raw", 0, 13) is None
    assert gaps.seen("raw", 0, 15) == Gap("raw", 0, 14, 15)


def test_partitions_are_independent() -> None:
    gaps = OffsetGaps()
    gaps.seen("raw", 0, 5)
    gaps.seen("raw", 1, 100)
    assert gaps.seen("raw", 0, 6) is None
    assert gaps.seen("raw", 1, 102) == Gap("raw", 1, 101, 102)


def test_a_partition_given_away_and_back_starts_fresh() -> None:
    gaps = OffsetGaps()
    gaps.seen("raw", 0, 5)
    gaps.seen("raw", 1, 5)
    gaps.keep({("raw", 1)})  # partition 0 went to another worker, which went on with it
    assert gaps.seen("raw", 0, 900) is None
    assert gaps.seen("raw", 1, 7) == Gap("raw", 1, 6, 7)  # kept: a jump is still a gap
