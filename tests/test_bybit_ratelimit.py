"""The token bucket on a driven virtual clock: burst, refill, fractional refill, the capacity cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmexec.engine.clock import VirtualClock
from mmexec.exchanges.bybit.ratelimit import TokenBucket


def bucket(capacity: int = 100, refill: str = "10") -> tuple[TokenBucket, VirtualClock]:
    clock = VirtualClock(1_000_000)
    return TokenBucket(capacity, Decimal(refill), clock.now_ms), clock


def test_defaults_are_100_tokens_and_10_per_second() -> None:
    b = TokenBucket(clock=VirtualClock(0).now_ms)
    assert (b.capacity, b.refill_per_s, b.tokens) == (100, Decimal(10), Decimal(100))


def test_burst_takes_the_whole_capacity_then_refuses() -> None:
    b, _ = bucket(capacity=5)
    assert [b.acquire() for _ in range(7)] == [True] * 5 + [False, False]
    assert (b.granted, b.denied, b.tokens) == (5, 2, 0)


def test_refill_on_the_clock() -> None:
    b, clock = bucket(capacity=3, refill="10")  # one token per 100 ms
    for _ in range(3):
        assert b.acquire()
    assert not b.acquire()
    clock.advance(99)
    assert not b.acquire()
    clock.advance(1)
    assert b.acquire()
    assert not b.acquire()


def test_fractional_refill_accumulates_exactly() -> None:
    b, clock = bucket(capacity=2, refill="1.5")  # 0.0015 tokens per ms
    assert b.acquire(2)
    clock.advance(333)
    assert b.tokens == Decimal("0.4995")
    assert not b.acquire()
    clock.advance(334)
    assert b.tokens == Decimal("1.0005")
    assert b.acquire()
    assert b.tokens == Decimal("0.0005")


def test_no_refill_beyond_capacity() -> None:
    b, clock = bucket(capacity=4, refill="10")
    assert b.acquire()
    clock.advance(3_600_000)
    assert b.tokens == 4
    assert [b.acquire() for _ in range(5)] == [True] * 4 + [False]


def test_idle_time_while_full_is_not_banked() -> None:
    b, clock = bucket(capacity=2, refill="1")
    clock.advance(10_000)  # full the whole time
    assert b.acquire(2)
    clock.advance(500)
    assert not b.acquire()  # only half a token since it was emptied


def test_acquire_n_is_all_or_nothing() -> None:
    b, clock = bucket(capacity=10, refill="1")
    assert b.acquire(7)
    assert not b.acquire(4)
    assert b.tokens == 3
    clock.advance(1000)
    assert b.acquire(4)
    assert not b.acquire(11)  # more than the capacity never succeeds


def test_zero_refill_never_recovers_and_ms_until() -> None:
    b, clock = bucket(capacity=1, refill="0")
    assert b.acquire()
    clock.advance(10**9)
    assert not b.acquire()
    assert b.ms_until() is None
    b2, clock2 = bucket(capacity=2, refill="3")
    assert b2.acquire(2)
    assert b2.ms_until() == 334  # ceil(1000 / 3)
    clock2.advance(334)
    assert b2.ms_until() == 0 and b2.acquire()
    assert b2.ms_until(3) is None


def test_a_clock_going_back_adds_nothing() -> None:
    now = [10_000]
    b = TokenBucket(1, 1000, lambda: now[0])
    assert b.acquire()
    now[0] = 5_000
    assert not b.acquire()
    now[0] = 10_000
    assert not b.acquire()  # the lost time is not counted twice
    now[0] = 10_001
    assert b.acquire()


@pytest.mark.parametrize(("capacity", "refill"), [(0, 1), (-1, 1), (1.5, 1), (True, 1), (1, -1), (1, "NaN")])
def test_invalid_parameters(capacity: object, refill: object) -> None:
    with pytest.raises(ValueError):
        TokenBucket(capacity, refill)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TokenBucket(1, 1).acquire(0)


@settings(max_examples=200, deadline=None)
@given(capacity=st.integers(1, 50), refill=st.decimals("0", "100", places=3),
       steps=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 60)), max_size=60))
def test_tokens_stay_within_zero_and_capacity(capacity: int, refill: Decimal,
                                              steps: list[tuple[int, int]]) -> None:
    """Over any schedule: 0 <= tokens <= capacity, and grants never exceed capacity + refill * time."""
    clock = VirtualClock(0)
    b = TokenBucket(capacity, refill, clock.now_ms)
    taken = 0
    for delta, n in steps:
        clock.advance(delta)
        if b.acquire(n):
            taken += n
        assert 0 <= b.tokens <= capacity
    assert taken <= capacity + refill * clock.now_ms() / 1000
