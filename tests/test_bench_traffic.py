"""The realistic benchmark's traffic: Zipf popularity, the wrk script and the verdicts."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# bench/ is scripts, not a package: its pure module is imported by path (appended, so
# nothing there shadows an installed module).
sys.path.append(str(Path(__file__).resolve().parent.parent / "bench"))

from traffic import ZipfPicker, judge, request_line, wrk_script


def test_popularity_falls_off_as_one_over_rank():
    picker = ZipfPicker(range(1, 1001), 1.0, random.Random(7))
    picks = Counter(picker.pick() for _ in range(100_000))

    ranked = [count for _, count in picks.most_common()]
    harmonic = sum(1 / k for k in range(1, 1001))
    assert set(picks) <= set(range(1, 1001))
    assert ranked[0] / 100_000 == pytest.approx(1 / harmonic, rel=0.1)  # about 13 %
    assert ranked[0] / ranked[9] == pytest.approx(10, rel=0.3)
    assert len(picks) > 900  # the long tail is asked for too
    assert picker.share_of_top(0.01) == pytest.approx(sum(1 / k for k in range(1, 11)) / harmonic)


def test_the_most_popular_items_are_not_simply_the_first():
    picker = ZipfPicker(range(1, 1001), 1.0, random.Random(7))
    top = [item for item, _ in Counter(picker.pick() for _ in range(20_000)).most_common(5)]
    assert top != [1, 2, 3, 4, 5]


def test_the_same_seed_gives_the_same_requests():
    first = ZipfPicker(range(100), 1.0, random.Random(3))
    second = ZipfPicker(range(100), 1.0, random.Random(3))
    assert [first.pick() for _ in range(50)] == [second.pick() for _ in range(50)]


def test_a_request_line_refuses_what_would_split_it():
    assert request_line("/a", {"Cookie": "s=1", "Origin": "https://x"}) == (
        "/a\tCookie: s=1\tOrigin: https://x"
    )
    with pytest.raises(ValueError):
        request_line("/a", {"Cookie": "s=1\tx"})


def test_verdicts_follow_the_targets():
    assert judge("spread", 0.45, 4.0, 15.0).word == "PASS"
    assert judge("spread", 0.35, 4.0, 15.0).word == "FAIL (ratio)"
    assert judge("one-url", 0.55, 4.0, 15.0).word == "FAIL (ratio)"
    assert judge("one-url", 0.65, 4.0, 17.0).word == "FAIL (p99)"


@pytest.fixture
def two_recording_servers() -> Iterator[tuple[list[int], list[tuple[int, str, str]]]]:
    seen: list[tuple[int, str, str]] = []
    lock = threading.Lock()
    servers = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
                port = self.server.server_address[1]
                seen.append((port, self.path, self.headers.get("Cookie", "")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    for _ in range(2):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [s.server_address[1] for s in servers], seen
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_sends_the_listed_requests_split_over_both_instances(tmp_path, two_recording_servers):
    ports, seen = two_recording_servers
    listed = {f"/articles/article-{n}": f"session=reader{n}" for n in range(50)}
    requests = tmp_path / "spread.requests"
    requests.write_text(
        "\n".join(request_line(path, {"Cookie": c}) for path, c in listed.items()) + "\n"
    )
    script = tmp_path / "spread.lua"
    script.write_text(wrk_script(str(requests), ports))

    subprocess.run(
        ["wrk", "-t2", "-c2", "-d1s", "-s", str(script), f"http://127.0.0.1:{ports[0]}/"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip

    assert {port for port, _, _ in seen} == set(ports)
    assert all(listed[path] == cookie for _, path, cookie in seen)
    for port in ports:  # each thread walks the list from its own place
        assert len({path for p, path, _ in seen if p == port}) > 5
