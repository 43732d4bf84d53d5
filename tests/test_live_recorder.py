"""CaptureRecorder: ``<recv_ns> <raw json>`` lines, gzip by name, atomic at the end; fed by the live feed."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from pathlib import Path

import pytest
from bybit_ws_server import BybitWsServer, make_feed, run, until

from mmexec.errors import ConfigError
from mmexec.marketdata.live.feed import BybitPublicFeed
from mmexec.marketdata.live.recorder import CaptureRecorder, check_output_path, one_line


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode().splitlines()


@pytest.mark.parametrize("name", ["cap.jsonl", "cap.jsonl.gz"])
def test_lines_appear_atomically_on_close(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    recorder = CaptureRecorder(target)
    recorder.write(1_700_000_000_000_000_001, '{"topic":"a","data":{}}')
    recorder.write(1_700_000_000_000_000_002, '{"topic":"b",\n"data":[]}')
    assert not target.exists()
    assert recorder.part_path.exists()
    assert recorder.close() == target
    assert not recorder.part_path.exists()
    assert read_lines(target) == ['1700000000000000001 {"topic":"a","data":{}}',
                                  '1700000000000000002 {"topic":"b", "data":[]}']
    assert (recorder.lines, recorder.bytes) == (2, sum(len(line) + 1 for line in read_lines(target)))


def test_gzip_is_deterministic_and_flushed_part_is_readable_before_close(tmp_path: Path) -> None:
    recorder = CaptureRecorder(tmp_path / "cap.gz", flush_every_ms=1_000)
    recorder.write(0, '{"n":0}')
    recorder.write(1_000_000_000, '{"n":1}')  # one second of receive time later: flushed
    partial = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(recorder.part_path.read_bytes())
    assert partial == b'0 {"n":0}\n1000000000 {"n":1}\n'
    recorder.close()
    again = CaptureRecorder(tmp_path / "again.gz")
    again.write(0, '{"n":0}')
    again.write(1_000_000_000, '{"n":1}')
    again.close()
    assert (tmp_path / "cap.gz").read_bytes() == (tmp_path / "again.gz").read_bytes()  # mtime 0, no name


def test_an_error_discards_the_part_file_and_leaves_the_old_target(tmp_path: Path) -> None:
    target = tmp_path / "cap.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), CaptureRecorder(target) as recorder:
        recorder.write(1, "{}")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_output_path_checked_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "cap.gz")
    with pytest.raises(ConfigError, match="is a directory"):
        check_output_path(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_one_line_keeps_json_on_one_line() -> None:
    assert one_line('{"a":\r\n1}') == '{"a":  1}'
    assert one_line('{"a":1}') == '{"a":1}'


def test_recording_lines_equal_what_the_server_sent_across_a_reconnect(tmp_path: Path) -> None:
    target = tmp_path / "xrp.jsonl.gz"

    async def main() -> None:
        async with BybitWsServer(deltas=25) as server:
            server.drop_after_next = 12
            feed = make_feed(server, ("XRPUSDT", "BTCUSDT"))
            runner = asyncio.ensure_future(feed.run())
            expected = 12 + 2 * (1 + 25 + 5)
            with CaptureRecorder(target) as recorder:

                async def consume(feed: BybitPublicFeed) -> None:
                    while (message := await feed.get()) is not None:
                        recorder.write(message.recv_ns, message.text)

                consumer = asyncio.ensure_future(consume(feed))
                await until(lambda: recorder.lines == expected)
                feed.stop()
                await asyncio.gather(runner, consumer)
            lines = read_lines(target)
            assert [line.split(" ", 1)[1] for line in lines] == server.sent[0] + server.sent[1]
            stamps = [int(line.split(" ", 1)[0]) for line in lines]
            assert stamps == sorted(stamps)
            assert feed.stats.reconnects == 1

    run(main())
