"""The feed's bounded queue under any interleaving of arrivals and consumption (hypothesis).

Drives the socket side through ``_offer`` (what the reader calls for each data push) so thousands of
interleavings run without a socket; the loopback tests cover the same path over a real connection.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from mmexec.marketdata.live.feed import BybitPublicFeed, FeedConfig


@given(size=st.integers(1, 8), ops=st.lists(st.booleans(), max_size=200))
def test_no_message_is_lost_silently_and_order_is_kept(size: int, ops: list[bool]) -> None:
    feed = BybitPublicFeed(FeedConfig(symbols=("BTCUSDT",), ws_url="ws://127.0.0.1:1", queue_size=size),
                           wall_ns=lambda: 0)
    sent = 0
    taken = []
    for arrive in ops:  # True: a message arrives; False: the consumer takes one (if any)
        if arrive:
            feed._offer(sent, f'{{"n":{sent}}}')
            sent += 1
        elif (message := feed.get_nowait()) is not None:
            taken.append(message)
        assert feed.queue_depth <= size
    while (message := feed.get_nowait()) is not None:
        taken.append(message)
    stats = feed.stats
    assert stats.delivered == len(taken) and stats.delivered + stats.drops == sent
    assert [m.recv_ns for m in taken] == sorted(m.recv_ns for m in taken)
    # every drop is announced by the next delivered message, except drops after the last delivery
    announced = sum(m.gap_before for m in taken)
    trailing = sent - 1 - taken[-1].recv_ns if taken else sent
    assert announced + trailing == stats.drops
    for before, after in itertools.pairwise(taken):
        assert after.recv_ns - before.recv_ns - 1 == after.gap_before
    if taken:
        assert taken[0].gap_before == taken[0].recv_ns
    assert stats.max_queue_depth <= size
    assert stats.lag_count == len(taken)
