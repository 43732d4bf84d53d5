"""VirtualClock: virtual milliseconds that move only when told to, never backwards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.engine.clock import ClockError, VirtualClock


def test_starts_where_told_and_stands_still() -> None:
    clock = VirtualClock(1_735_689_600_000)
    assert clock.now_ms() == 1_735_689_600_000
    assert clock.now_ms() == 1_735_689_600_000  # reading time does not move it
    assert VirtualClock().now_ms() == 0


def test_advance_returns_the_new_time() -> None:
    clock = VirtualClock(10)
    assert clock.advance(5) == 15
    assert clock.advance(0) == 15
    assert clock.now_ms() == 15


def test_advance_to_moves_forward_or_stays() -> None:
    clock = VirtualClock(100)
    assert clock.advance_to(100) == 100
    assert clock.advance_to(250) == 250
    assert clock.now_ms() == 250


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (lambda c: c.advance(-1), "negative"),
        (lambda c: c.advance_to(99), "back"),
    ],
)
def test_time_never_goes_backwards(action, match) -> None:  # type: ignore[no-untyped-def]
    clock = VirtualClock(100)
    with pytest.raises(ClockError, match=match):
        action(clock)
    assert clock.now_ms() == 100  # a refused move leaves the clock where it was


def test_negative_start_is_refused() -> None:
    with pytest.raises(ClockError):
        VirtualClock(-1)
    assert issubclass(ClockError, ValueError)


def test_repr_shows_the_time() -> None:
    assert "42" in repr(VirtualClock(42))


@settings(max_examples=50, deadline=None)
@given(start=st.integers(0, 10**13), deltas=st.lists(st.integers(0, 10**6), max_size=30))
def test_now_is_start_plus_sum_of_advances(start: int, deltas: list[int]) -> None:
    clock = VirtualClock(start)
    seen = [clock.now_ms()]
    for d in deltas:
        seen.append(clock.advance(d))
    assert clock.now_ms() == start + sum(deltas)
    assert seen == sorted(seen)
