"""PerRegistry: one bundle of collectors per registry, built on first use."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from toolkit.metrics._registry import PerRegistry


def build_counter(registry: CollectorRegistry) -> Counter:
    """A bundle of one counter, registered in ``registry``."""
    return Counter("bundle_calls", "Calls.", registry=registry)


def test_same_registry_gets_the_same_bundle() -> None:
    """A second call does not register again (prometheus-client would raise)."""
    bundles = PerRegistry(build_counter)
    registry = CollectorRegistry()

    first, second = bundles(registry), bundles(registry)
    first.inc()

    assert second is first
    assert registry.get_sample_value("bundle_calls_total") == 1.0


def test_each_registry_gets_its_own_bundle() -> None:
    """Two registries never share collectors."""
    bundles = PerRegistry(build_counter)
    one, two = CollectorRegistry(), CollectorRegistry()

    bundles(one).inc(3)

    assert bundles(two) is not bundles(one)
    assert one.get_sample_value("bundle_calls_total") == 3.0
    assert two.get_sample_value("bundle_calls_total") == 0.0


def test_none_means_prometheus_clients_registry() -> None:
    """Without a registry the bundle lands in prometheus-client's default one."""
    built: list[CollectorRegistry] = []

    def build(registry: CollectorRegistry) -> object:
        built.append(registry)
        return object()

    bundles = PerRegistry(build)

    bundles(None)
    bundles(REGISTRY)

    assert built == [REGISTRY]
