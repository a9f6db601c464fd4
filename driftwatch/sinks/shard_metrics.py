"""The ``shard`` label of a sharded ``serve``: every series says which replica exported it.

Each target's series come from exactly one replica, so aggregating by ``target``
never counts a target twice; the label tells replicas' process-level series
(events written, reloads, deliveries) apart even where the scrape adds no pod
label, and ``driftwatch_shard_info`` says how many shards the replica expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from driftwatch.config.sharding import Shard

SHARD_LABEL = "shard"


def with_shard(families: Iterable[Metric], shard: Shard) -> Iterator[Metric]:
    """``families`` with ``shard="I"`` on every sample, then ``driftwatch_shard_info``."""
    value = str(shard.index)
    for family in families:
        family.samples = [
            s._replace(labels={**s.labels, SHARD_LABEL: value}) for s in family.samples
        ]
        yield family
    info = GaugeMetricFamily(
        "driftwatch_shard_info",
        "This replica's shard of the targets and the number of shards.",
        labels=[SHARD_LABEL, "shards"],
    )
    info.add_metric([value, str(shard.count)], 1)
    yield info
