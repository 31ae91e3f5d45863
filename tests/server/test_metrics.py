"""The Prometheus text exposition (server/metrics.py)."""

from __future__ import annotations

from server.metrics import Counter, Gauge, Histogram, RelayMetrics


def lines(metric: Counter | Gauge | Histogram) -> list[str]:
    return [line for line in metric.render() if not line.startswith("#")]


def test_a_counter_renders_each_label_sorted() -> None:
    counter = Counter("t_errors_total", "Errors.", label_name="code")
    counter.inc(label="rate_limited")
    counter.inc(2, label="bad_envelope")
    assert lines(counter) == [
        't_errors_total{code="bad_envelope"} 2',
        't_errors_total{code="rate_limited"} 1',
    ]
    assert next(iter(counter.render())) == "# HELP t_errors_total Errors."


def test_label_values_are_escaped() -> None:
    counter = Counter("t", "x", label_name="l")
    counter.inc(label='a"b\\c\nd')
    assert lines(counter) == ['t{l="a\\"b\\\\c\\nd"} 1']


def test_a_histogram_is_cumulative_with_sum_and_count() -> None:
    histogram = Histogram("t_seconds", "Latency.", [0.1, 1.0])
    for value in (0.05, 0.5, 0.5, 7.0):
        histogram.observe(value)
    assert lines(histogram) == [
        't_seconds_bucket{le="0.1"} 1',
        't_seconds_bucket{le="1"} 3',
        't_seconds_bucket{le="+Inf"} 4',
        "t_seconds_sum 8.05",
        "t_seconds_count 4",
    ]


def test_gauges_read_their_source_when_scraped() -> None:
    metrics = RelayMetrics("1.2.3")
    open_connections = [3]
    metrics.bind_connections(lambda: open_connections[0], lambda: 2)
    text = metrics.render()
    assert 'trellis_relay_info{version="1.2.3"} 1\n' in text
    assert "trellis_relay_connections 3\n" in text
    open_connections[0] = 0
    assert "trellis_relay_connections 0\n" in metrics.render()
    assert "trellis_relay_authenticated_devices 2\n" in text
    for name in ("events_ingested_total", "bytes_ingested_total", "commit_seconds_count"):
        assert f"trellis_relay_{name} 0\n" in text
    assert text.endswith("\n")
