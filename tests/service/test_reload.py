"""Configuration reload: good configs apply, bad ones are rejected and the old one keeps running."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from driftwatch.config.load import load_config
from driftwatch.config.model import Config
from driftwatch.errors import ConfigError
from driftwatch.service import Service, ServiceOptions
from tests.service.conftest import StartService
from tests.service.helpers import FakeRunner, config, drift, http_get, http_json, wait_for

OPTIONS = ServiceOptions(listen="127.0.0.1:0", grace_period=10)


def metric(base: str, metric_name: str, **labels: str) -> float | None:
    body = http_get(base, "/metrics")[2].decode()
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == metric_name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


class Loader:
    def __init__(self, *configs: Config | Exception) -> None:
        self.configs = list(configs)

    def __call__(self) -> Config:
        item = self.configs.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def test_added_target_runs_now_and_removed_one_disappears(start_service: StartService) -> None:
    runner = FakeRunner({"a": [drift()], "b": [drift()]})
    loader = Loader(config("a", "b"), config("b"))
    service, base = start_service(config("a"), runner, config_loader=loader)
    wait_for(lambda: runner.calls["a"] == 1, what="a's first run")
    assert service.reload()
    wait_for(lambda: runner.calls["b"] == 1, what="b runs at once")
    assert [t["name"] for t in http_json(base, "/api/v1/targets")[1]["targets"]] == ["a", "b"]
    assert service.reload()
    assert [t["name"] for t in http_json(base, "/api/v1/targets")[1]["targets"]] == ["b"]
    assert metric(base, "driftwatch_resource_drift", target="a") is None
    assert metric(base, "driftwatch_target_info", target="a") is None
    assert metric(base, "driftwatch_resource_drift", target="b") == 1
    assert metric(base, "driftwatch_config_reloads_total", outcome="success") == 2


def test_bad_config_is_rejected_and_the_old_one_keeps_running(start_service: StartService) -> None:
    runner = FakeRunner({"a": [drift()]})
    bad_cron = config("a").model_copy(
        update={
            "targets": (
                config("a")
                .targets[0]
                .model_copy(
                    update={
                        "schedule": config("a")
                        .targets[0]
                        .schedule.model_copy(update={"cron": "nope"})
                    }
                ),
            )
        }
    )
    loader = Loader(ConfigError("config.yaml:3: unknown key 'intreval'"), bad_cron)
    service, base = start_service(config("a"), runner, config_loader=loader)
    wait_for(lambda: http_get(base, "/readyz")[0] == 200, what="ready")
    assert not service.reload()
    assert not service.reload()
    assert service.config.targets[0].schedule.cron is None
    assert metric(base, "driftwatch_config_reloads_total", outcome="failure") == 2
    assert metric(base, "driftwatch_config_last_reload_successful") == 0
    assert http_get(base, "/readyz")[0] == 200
    assert service.run_target("a") and runner.calls["a"] == 2


def test_runner_is_rebuilt_from_the_new_config(start_service: StartService) -> None:
    built: list[Config] = []

    def factory(cfg: Config) -> FakeRunner:
        built.append(cfg)
        return FakeRunner({"a": [drift()]})

    new = config("a", interval=120)
    service, _ = start_service(config("a"), None, runner_factory=factory, config_loader=Loader(new))
    assert service.reload()
    assert built == [config("a"), new]


def test_changed_target_is_never_run_twice_at_once(start_service: StartService) -> None:
    gate = threading.Event()
    runner = FakeRunner({"a": [drift()]}, gate=gate)
    service, _ = start_service(config("a"), runner, config_loader=Loader(config("a", interval=60)))
    wait_for(lambda: runner.running["a"] == 1, what="a running")
    assert service.reload()  # reschedules "a" to run now, while the old run still goes on
    time.sleep(0.3)
    gate.set()
    wait_for(lambda: runner.running["a"] == 0, what="runs to end")
    assert runner.max_running["a"] == 1


def run_in_main_thread(service: Service, drive: Callable[[], None]) -> bool:
    """run_forever() here (signals need the main thread) while ``drive`` acts from another."""

    def driver() -> None:
        try:
            drive()
        finally:
            service.request_stop()

    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    thread = threading.Thread(target=driver)
    thread.start()
    try:
        return service.run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        thread.join(30)


def write_config(path: Path, *names: str) -> None:
    path.write_text(
        "targets:\n"
        + "".join(
            f"  - name: {n}\n    repo: /tmp/repo\n    schedule: {{interval: 1h}}\n" for n in names
        )
    )


def file_service(path: Path, runner: FakeRunner, *, watch: bool) -> Service:
    return Service(
        load_config(path),
        runner_factory=lambda _c: runner,
        options=ServiceOptions(
            listen="127.0.0.1:0", config_path=path if watch else None, watch_interval=0.1
        ),
        config_loader=lambda: load_config(path),
    )


def test_config_file_reloads_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "driftwatch.yaml"
    write_config(path, "a")
    runner = FakeRunner({})
    service = file_service(path, runner, watch=True)
    steps: list[str] = []

    def drive() -> None:
        wait_for(lambda: runner.calls["a"] == 1, what="first run")
        write_config(path, "a", "b")
        wait_for(lambda: runner.calls["b"] == 1, what="reload on change, b runs")
        steps.append("changed")
        path.write_text("targets: [")
        wait_for(lambda: service.metrics._reloads["failure"] == 1, what="rejected reload")
        assert [t.name for t in service.config.targets] == ["a", "b"]
        steps.append("rejected")

    assert run_in_main_thread(service, drive)
    assert steps == ["changed", "rejected"]


def test_sighup_reloads_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "driftwatch.yaml"
    write_config(path, "a")
    runner = FakeRunner({})
    service = file_service(path, runner, watch=False)
    steps: list[str] = []

    def drive() -> None:
        wait_for(lambda: runner.calls["a"] == 1, what="first run")
        write_config(path, "b")
        time.sleep(0.3)
        assert [t.name for t in service.config.targets] == ["a"]  # not watched: no reload yet
        signal.raise_signal(signal.SIGHUP)
        wait_for(lambda: [t.name for t in service.config.targets] == ["b"], what="SIGHUP reload")
        steps.append("sighup")

    assert run_in_main_thread(service, drive)
    assert steps == ["sighup"]
