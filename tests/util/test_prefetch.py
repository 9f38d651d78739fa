"""prefetch: order, errors, early stop and memory-bounded batches of the background producer."""

import threading

import pytest

from framesift.util.prefetch import prefetch


def test_items_arrive_in_order_and_were_produced_on_another_thread():
    producers = set()

    def numbers():
        for i in range(103):
            producers.add(threading.get_ident())
            yield i

    assert list(prefetch(numbers(), depth=2, batch=4)) == list(range(103))
    assert producers and threading.get_ident() not in producers


def test_producer_error_comes_after_the_items_before_it():
    def failing():
        yield from range(10)
        raise ValueError("broken at 10")

    got = []
    with pytest.raises(ValueError, match="broken at 10"):
        for item in prefetch(failing(), batch=3):
            got.append(item)
    assert got == list(range(10))


def test_closing_early_stops_the_producer_and_closes_the_source():
    produced, closed = [], threading.Event()

    def endless():
        try:
            i = 0
            while True:
                produced.append(i)
                yield i
                i += 1
        finally:
            closed.set()

    frames = prefetch(endless(), depth=2, batch=4)
    assert [next(frames) for _ in range(5)] == [0, 1, 2, 3, 4]
    frames.close()
    assert closed.wait(5)
    assert len(produced) <= 5 + (2 + 2) * 4  # never more than depth + 2 batches ahead
    assert not [t for t in threading.enumerate() if t.name == "framesift-prefetch"]


def test_large_items_travel_in_smaller_batches():
    sizes = []

    def big():
        for i in range(12):
            sizes.append(i)
            yield bytes(10)

    ahead = []
    iterator = prefetch(big(), depth=1, batch=8, item_bytes=len, batch_bytes=20)  # 2 items per batch
    next(iterator)
    threading.Event().wait(0.3)  # let the producer fill what it may
    ahead.append(len(sizes))
    iterator.close()
    assert ahead[0] <= 2 * (1 + 2)  # depth + 2 batches of 2, not of 8


def test_empty_input_yields_nothing():
    assert list(prefetch(iter(()))) == []
