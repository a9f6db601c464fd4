"""Sharding across replicas: which replica runs which target, and what a replica answers
about targets another one runs (in-process service, fake runner)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftwatch.config.sharding import Shard, owner_of, shard_from
from driftwatch.errors import ConfigError
from driftwatch.service import ServiceOptions
from tests.service.conftest import StartService
from tests.service.helpers import FakeRunner, config, drift, http_get, wait_for

NAMES = [f"team-{i:02d}" for i in range(12)]
TEMPLATE = "http://driftwatch-{shard}.driftwatch-headless.ops.svc:8080"


def request(base: str, path: str, method: str = "GET", body: bytes | None = None) -> Any:
    """One request that does not follow redirects: (status, headers, JSON body)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"{}")
    finally:
        conn.close()


def sharded(start_service: StartService, shard: Shard, names: list[str] = NAMES) -> tuple[Any, str]:
    runner = FakeRunner({n: [drift("api")] for n in names})
    options = ServiceOptions(listen="127.0.0.1:0", grace_period=10, shard=shard)
    service, base = start_service(config(*names), runner, options=options)
    owned = [n for n in names if owner_of(n, shard.count) == shard.index]
    wait_for(lambda: all(service.state.get(n).report_run for n in owned), what="first runs")
    return runner, base


# ------------------------------------------------------------------ the split


def test_every_target_belongs_to_exactly_one_shard_and_the_split_is_even() -> None:
    names = [f"app-{i}" for i in range(3000)]
    for count in (1, 2, 3, 5):
        shards = [Shard(i, count) for i in range(count)]
        owners = {n: [s.index for s in shards if s.owns(n)] for n in names}
        assert all(len(o) == 1 for o in owners.values())
        sizes = Counter(o[0] for o in owners.values())
        assert max(sizes.values()) < 1.15 * len(names) / count, sizes


def test_the_split_is_the_same_in_every_process_and_release() -> None:
    """Replicas agree without talking, and an upgrade does not move targets between shards
    (with their event logs): the hash is sha256 of the name, not Python's salted hash()."""
    code = (
        "from driftwatch.config.sharding import owner_of;"
        "print([owner_of(n, 3) for n in ['shop', 'payments', 'team-01', '']])"
    )
    seen = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        seen.add(out.stdout.strip())
    assert seen == {"[1, 0, 1, 1]"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"shard": "3/3"}, "--shard '3/3': the index must be below the count (0..2)"),
        ({"shard": "1-3"}, "use INDEX/COUNT"),
        ({"shards": "0"}, "the count must be a whole number from 1 to 1024"),
        ({"shards": "3", "pod_name": "driftwatch-7d9f"}, "does not end in -<ordinal>"),
        ({"shards": "3", "pod_name": "driftwatch-3"}, "has ordinal 3, but there are only 3"),
        ({"shard": "0/3", "shards": "3"}, "not both"),
        ({"shard": "0/3", "peer_url": "http://driftwatch:8080"}, "needs {shard}"),
        ({"shard": "0/3", "peer_url": "driftwatch-{shard}:8080"}, "http(s) base URL"),
        ({"peer_url": "http://driftwatch-{shard}:8080"}, "needs --shard I/N or --shards N"),
    ],
)
def test_bad_shard_settings_are_one_line_errors(given: dict[str, str], message: str) -> None:
    args = {"shard": None, "shards": None, "pod_name": None, "peer_url": None, **given}
    with pytest.raises(ConfigError) as info:
        shard_from(**args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_ordinal_of_a_statefulset_pod_picks_the_shard() -> None:
    shard = shard_from(shard=None, shards="3", pod_name="driftwatch-2", peer_url=TEMPLATE)
    assert shard == Shard(2, 3, TEMPLATE)
    assert shard_from(shard=None, shards=None, pod_name="driftwatch-2", peer_url=None) is None


# ------------------------------------------------------------------ one replica's answers


def test_a_replica_runs_lists_and_exports_only_its_own_targets(
    start_service: StartService,
) -> None:
    shard = Shard(1, 3, TEMPLATE)
    runner, base = sharded(start_service, shard)
    own = {n for n in NAMES if shard.owns(n)}
    assert own and own != set(NAMES)
    assert set(runner.calls) == own

    status, _, body = request(base, "/api/v1/targets")
    assert status == 200 and {t["name"] for t in body["targets"]} == own
    assert body["shard"]["index"] == 1 and body["shard"]["count"] == 3
    assert body["shard"]["peers"][2] == "http://driftwatch-2.driftwatch-headless.ops.svc:8080"
    status, _, body = request(base, "/api/v1/drift")
    assert {t["target"] for t in body["targets"]} == own and body["shard"]["index"] == 1
    status, _, body = request(base, "/readyz")
    assert status == 200 and body["shard"]["index"] == 1

    text = http_get(base, "/metrics")[2].decode()
    families = list(text_string_to_metric_families(text))
    exported = {s.labels["target"] for f in families for s in f.samples if "target" in s.labels}
    assert exported == own
    assert all(s.labels.get("shard") == "1" for f in families for s in f.samples)
    (info,) = [f for f in families if f.name == "driftwatch_shard_info"]
    assert info.samples[0].labels == {"shard": "1", "shards": "3"}


def test_a_request_for_another_replicas_target_is_redirected_to_it(
    start_service: StartService,
) -> None:
    shard = Shard(1, 3, TEMPLATE)
    _, base = sharded(start_service, shard)
    foreign = next(n for n in NAMES if owner_of(n, 3) == 2)
    own = next(n for n in NAMES if shard.owns(n))
    owner = "http://driftwatch-2.driftwatch-headless.ops.svc:8080"

    path = f"/api/v1/drift?target={foreign}&kind=Deployment"
    status, headers, body = request(base, path)
    assert status == 307 and headers["Location"] == owner + path
    assert body["shard"] == 2
    status, headers, _ = request(base, f"/api/v1/events?target={foreign}")
    assert status == 307 and headers["Location"].startswith(owner + "/api/v1/events")
    # a refresh webhook delivered through the Service reaches the owner: 307 keeps the POST
    payload = json.dumps({"target": foreign}).encode()
    status, headers, _ = request(base, "/api/v1/refresh", "POST", payload)
    assert status == 307 and headers["Location"] == owner + "/api/v1/refresh"
    # so is every web page of the target (the page routes' one target lookup)
    for page in (
        f"/targets/{foreign}?kind=Deployment",
        f"/targets/{foreign}/objects/apps/Deployment/shop/api",
    ):
        status, headers, _ = request(base, page)
        assert status == 307 and headers["Location"] == owner + page
    status, headers, _ = request(base, f"/targets/{foreign}/refresh", "POST", b"csrf=x")
    assert status == 307 and headers["Location"] == owner + f"/targets/{foreign}/refresh"

    assert request(base, f"/api/v1/drift?target={own}")[0] == 200
    unknown_here = next(f"x{i}" for i in range(100) if shard.owns(f"x{i}"))
    assert request(base, f"/api/v1/drift?target={unknown_here}")[0] == 404


def test_without_a_url_template_the_answer_names_the_owning_shard(
    start_service: StartService,
) -> None:
    _, base = sharded(start_service, Shard(1, 3))
    foreign = next(n for n in NAMES if owner_of(n, 3) == 0)
    status, _, body = request(base, f"/api/v1/drift?target={foreign}")
    assert status == 421 and "shard 0/3" in body["error"]


def test_a_replica_whose_shard_owns_no_target_is_ready(start_service: StartService) -> None:
    names = [n for n in NAMES if owner_of(n, 3) != 0]
    _, base = sharded(start_service, Shard(0, 3, TEMPLATE), names)
    status, _, body = request(base, "/readyz")
    assert status == 200 and "owns no target" in body["status"]
    assert request(base, "/api/v1/targets")[2]["targets"] == []


def test_a_replica_knows_every_target_to_link_to(start_service: StartService) -> None:
    """Pages on any replica can link to every target: the links reach the owner."""
    runner = FakeRunner({n: [drift("api")] for n in NAMES})
    options = ServiceOptions(listen="127.0.0.1:0", grace_period=10, shard=Shard(1, 3, TEMPLATE))
    more = [*NAMES, "team-99"]
    service, _ = start_service(
        config(*NAMES), runner, options=options, config_loader=lambda: config(*more)
    )
    assert service.view.all_targets == tuple(NAMES)
    assert {t.name for t in service.view.config.targets} < set(NAMES)
    assert service.reload()
    assert service.view.all_targets == tuple(more)
