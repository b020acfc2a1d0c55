"""bench/wrk.py: wrk's summaries (captured from Debian's wrk 4.1) parsed; argv built without a shell."""

from __future__ import annotations

import shutil

import pytest

from bench import wrk
from yoda_proxy.testing import Backend

KEEP_ALIVE = """\
Running 2s test @ http://127.0.0.1:18181/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.12ms    5.45ms  59.41ms   92.93%
    Req/Sec    13.59k     9.99k   44.15k    75.00%
  Latency Distribution
     50%  228.00us
     75%    1.51ms
     90%    5.04ms
     99%   28.30ms
  27164 requests in 2.02s, 4.40MB read
Requests/sec:  13425.94
Transfer/sec:      2.18MB
"""

ALL_503 = """\
Running 1s test @ http://127.0.0.1:18181/bad
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.91ms    2.43ms  23.47ms   93.40%
    Req/Sec    15.91k     7.84k   35.82k    90.00%
  Latency Distribution
     50%  135.00us
     75%  417.00us
     90%    2.11ms
     99%   13.74ms
  15936 requests in 1.01s, 5.68MB read
  Non-2xx or 3xx responses: 15936
Requests/sec:  15744.27
Transfer/sec:      5.62MB
"""

READ_ERRORS = """\
Running 1s test @ http://127.0.0.1:18198/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.86ms    1.72ms  17.26ms   89.59%
    Req/Sec     1.83k     1.04k    3.41k    60.00%
  1823 requests in 1.01s, 71.21KB read
  Socket errors: connect 0, read 3645, write 0, timeout 0
Requests/sec:   1808.48
Transfer/sec:     70.64KB
"""

SERVER_GONE = """\
Running 3s test @ http://127.0.0.1:18181/ok
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   387.52us    0.94ms  10.45ms   91.65%
    Req/Sec    14.90k     8.83k   28.96k    72.73%
  Latency Distribution
     50%  104.00us
     75%  133.00us
     90%    0.99ms
     99%    4.76ms
  16393 requests in 3.01s, 2.42MB read
  Socket errors: connect 0, read 1, write 1362, timeout 0
Requests/sec:   5438.18
Transfer/sec:    823.13KB
"""

TIMEOUTS = """\
Running 3s test @ http://127.0.0.1:18197/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   127.06us  329.01us   9.23ms   96.12%
    Req/Sec    20.52k     7.19k   32.89k    61.29%
  Latency Distribution
     50%   69.00us
     75%  109.00us
     90%  154.00us
     99%    1.51ms
  63223 requests in 3.10s, 2.41MB read
  Socket errors: connect 0, read 0, write 0, timeout 4
Requests/sec:  20392.60
Transfer/sec:    796.59KB
"""

INTERRUPTED = """\
Running 1m test @ http://127.0.0.1:18181/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.96ms    5.94ms  67.72ms   93.88%
    Req/Sec    15.89k    10.93k   36.86k    76.47%
  27021 requests in 1.71s, 4.38MB read
Requests/sec:  15770.58
Transfer/sec:      2.56MB
"""


def test_keep_alive_run_with_latency_distribution():
    result = wrk.parse(KEEP_ALIVE)
    assert (result.requests, result.duration, result.rps) == (27164, 2.02, 13425.94)
    assert result.latency == pytest.approx({50.0: 228e-6, 75.0: 1.51e-3, 90.0: 5.04e-3, 99.0: 28.30e-3})
    assert (result.failed, result.total) == (0, 27164)


def test_non_2xx_responses_fail():
    result = wrk.parse(ALL_503)
    assert (result.requests, result.non_2xx, result.socket_errors, result.failed) == (15936, 15936, 0, 15936)


def test_socket_errors_fail_and_count_in_the_total():
    reset = wrk.parse(READ_ERRORS)
    assert (reset.read_errors, reset.failed, reset.total) == (3645, 3645, 1823 + 3645)
    gone = wrk.parse(SERVER_GONE)
    assert (gone.connect_errors, gone.read_errors, gone.write_errors, gone.timeouts) == (0, 1, 1362, 0)
    assert gone.failed == 1363
    assert wrk.parse(TIMEOUTS).timeouts == wrk.parse(TIMEOUTS).failed == 4


def test_an_interrupted_run_reports_its_real_duration():
    result = wrk.parse(INTERRUPTED)  # asked for 1m, stopped with SIGINT after 1.71 s
    assert (result.requests, result.duration, result.latency) == (27021, 1.71, {})


@pytest.mark.parametrize("text", ["", "unable to connect to 127.0.0.1:18199 Connection refused\n", "Running 1s test"])
def test_anything_else_is_a_clear_error(text):
    with pytest.raises(wrk.WrkError, match="not a wrk summary"):
        wrk.parse(text)


def test_argv_keeps_each_header_one_argument():
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (Debian package wrk)")
    argv = wrk.command("http://127.0.0.1:1/", connections=4, headers={"Host": "a.localhost", "Connection": "close"})
    assert argv[1:] == [
        "-t1",
        "-c4",
        "-d10s",
        "-H",
        "Host: a.localhost",
        "-H",
        "Connection: close",
        "http://127.0.0.1:1/",
    ]


def test_a_live_run_counts_what_the_server_answered():
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (Debian package wrk)")
    backend = Backend("sick")
    backend.healthy = False  # /health answers 503
    try:
        result = wrk.run(f"http://{backend.address}/health", connections=2, duration="1s")
        load = wrk.start(f"http://{backend.address}/", connections=2)
        stopped = load.stop()
    finally:
        backend.close()
    assert result.requests > 0 and result.non_2xx == result.requests
    assert stopped.non_2xx == 0
