"""``GET /metrics``: the relay's counters in Prometheus text format 0.0.4.

Our own ~100 lines instead of prometheus_client: three metric kinds, no global
registry (each app has its own, so tests in one process do not share counts), and
nothing to configure. Names and what they count are listed in docs/OPERATIONS.md §9.

Metrics hold counts and sizes only. Labels are error codes and limit names from fixed
sets, never ids or addresses, so a scrape reveals nothing about any one space.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence

MEDIA_TYPE = "text/plain; version=0.0.4"
CONTENT_TYPE = MEDIA_TYPE + "; charset=utf-8"
"""What the response says; the web framework appends the charset to MEDIA_TYPE."""

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text

    def samples(self) -> Iterator[str]:
        raise NotImplementedError

    def render(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        yield from self.samples()


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, label_name: str | None = None) -> None:
        super().__init__(name, help_text)
        self._label_name = label_name
        self._values: dict[str, float] = {} if label_name else {"": 0.0}

    def inc(self, amount: float = 1.0, label: str = "") -> None:
        self._values[label] = self._values.get(label, 0.0) + amount

    def value(self, label: str = "") -> float:
        return self._values.get(label, 0.0)

    def samples(self) -> Iterator[str]:
        for label, value in sorted(self._values.items()):
            labels: Labels = ((self._label_name, label),) if self._label_name else ()
            yield f"{self.name}{_labels(labels)} {_number(value)}"


class Gauge(_Metric):
    """A value read when scraped (``read``), or set by the code that knows it."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        read: Callable[[], float] | None = None,
        labels: Labels = (),
    ) -> None:
        super().__init__(name, help_text)
        self._read = read
        self._value = 0.0
        self._labels = labels

    def set(self, value: float) -> None:
        self._value = value

    def value(self) -> float:
        return self._read() if self._read is not None else self._value

    def samples(self) -> Iterator[str]:
        yield f"{self.name}{_labels(self._labels)} {_number(self.value())}"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        super().__init__(name, help_text)
        self._bounds = [*sorted(buckets), math.inf]
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        self._count = 0

    def observe(self, value: float) -> None:
        self._sum += value
        self._count += 1
        for index, bound in enumerate(self._bounds):
            if value <= bound:
                self._counts[index] += 1
                break

    @property
    def count(self) -> int:
        return self._count

    def samples(self) -> Iterator[str]:
        cumulative = 0
        for bound, count in zip(self._bounds, self._counts, strict=True):
            cumulative += count
            yield f'{self.name}_bucket{{le="{_number(bound)}"}} {cumulative}'
        yield f"{self.name}_sum {_number(self._sum)}"
        yield f"{self.name}_count {self._count}"


class RelayMetrics:
    """Every metric the relay exports. Gauges that count live connections read the
    connection registry when scraped (``bind_connections``)."""

    def __init__(self, version: str) -> None:
        self.info = Gauge(
            "trellis_relay_info", "The relay's version, as a label.", labels=(("version", version),)
        )
        self.info.set(1)
        started = time.time()
        self.start_time = Gauge(
            "process_start_time_seconds",
            "When the relay started, in Unix seconds.",
            lambda: started,
        )
        self.connections = Gauge("trellis_relay_connections", "Open sync connections.")
        self.authenticated_devices = Gauge(
            "trellis_relay_authenticated_devices",
            "Devices signed in on at least one sync connection.",
        )
        self.events_ingested = Counter(
            "trellis_relay_events_ingested_total", "New events committed (retries not counted)."
        )
        self.bytes_ingested = Counter(
            "trellis_relay_bytes_ingested_total", "Bytes of new envelopes committed."
        )
        self.commit_batch_events = Histogram(
            "trellis_relay_commit_batch_events",
            "New events written by one group commit.",
            [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
        )
        self.commit_seconds = Histogram(
            "trellis_relay_commit_seconds",
            "Time to decide and durably commit one group of pushes, in seconds.",
            [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
        )
        self.errors = Counter(
            "trellis_relay_errors_total",
            "Errors answered, on sync connections and over HTTP, by code.",
            label_name="code",
        )
        self.rejected_frames = Counter(
            "trellis_relay_rejected_frames_total",
            "Sync frames refused instead of carried out (a malformed or oversized frame, "
            "a message out of turn, a refused push), by error code.",
            label_name="code",
        )
        self.limit_hits = Counter(
            "trellis_relay_limit_hits_total",
            "Times a configured limit refused something, by limit.",
            label_name="limit",
        )

    def bind_connections(
        self, connections: Callable[[], float], devices: Callable[[], float]
    ) -> None:
        self.connections = Gauge(self.connections.name, self.connections.help, connections)
        self.authenticated_devices = Gauge(
            self.authenticated_devices.name, self.authenticated_devices.help, devices
        )

    def all(self) -> list[_Metric]:
        return [
            self.info,
            self.start_time,
            self.connections,
            self.authenticated_devices,
            self.events_ingested,
            self.bytes_ingested,
            self.commit_batch_events,
            self.commit_seconds,
            self.errors,
            self.rejected_frames,
            self.limit_hits,
        ]

    def render(self) -> str:
        return "\n".join(line for metric in self.all() for line in metric.render()) + "\n"
