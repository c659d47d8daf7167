"""py-consul (PyPI py-consul 1.8.0) against the agent: the checklist of CONSUL_REFERENCE.md §10.2/§11."""
import threading
import time

import consul
import pytest


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met within %.0f s" % timeout)


def test_register_with_tcp_check_becomes_passing(agent, name, listening_port):
    assert agent.agent.service.register(
        name, service_id=f"{name}-1", address="127.0.0.1", port=listening_port, tags=["v1"],
        check=consul.Check.tcp("127.0.0.1", listening_port, "1s"))
    try:
        # New checks start critical, so the instance is not "passing" until the first probe.
        entries = wait_until(lambda: agent.health.service(name, passing=True)[1])
        assert [e["Service"]["ID"] for e in entries] == [f"{name}-1"]
        checks = {c["CheckID"]: c for c in entries[0]["Checks"]}
        assert checks["serfHealth"]["Status"] == "passing"
        assert checks[f"service:{name}-1"]["Status"] == "passing"
        assert "Success" in checks[f"service:{name}-1"]["Output"]
        index, services = agent.catalog.services()
        assert int(index) > 0 and services[name] == ["v1"]
        assert f"{name}-1" in agent.agent.services()
    finally:
        assert agent.agent.service.deregister(f"{name}-1")
    assert agent.health.service(name)[1] == []


def test_a_failing_check_keeps_the_instance_out_of_passing(agent, name):
    agent.agent.service.register(name, service_id=f"{name}-1", port=1,
                                 check=consul.Check.tcp("127.0.0.1", 1, "1s"))
    try:
        time.sleep(2.5)
        assert agent.health.service(name, passing=True)[1] == []
        everything = agent.health.service(name)[1]
        assert len(everything) == 1
        statuses = {c["CheckID"]: c["Status"] for c in everything[0]["Checks"]}
        assert statuses[f"service:{name}-1"] == "critical"
    finally:
        agent.agent.service.deregister(f"{name}-1")


def test_ttl_check_pass_warn_fail(agent, name):
    agent.agent.service.register(name, service_id=f"{name}-1", port=9, check=consul.Check.ttl("30s"))
    check_id = f"service:{name}-1"
    try:
        assert agent.agent.check.ttl_pass(check_id, "all good")
        check = agent.agent.checks()[check_id]
        assert (check["Status"], check["Output"]) == ("passing", "all good")
        assert agent.agent.check.ttl_warn(check_id, "slow")
        assert agent.agent.checks()[check_id]["Status"] == "warning"
        assert agent.health.service(name, passing=True)[1] == []
        assert agent.agent.check.ttl_fail(check_id, "down")
        assert agent.agent.checks()[check_id]["Status"] == "critical"
    finally:
        agent.agent.service.deregister(f"{name}-1")


def test_kv_put_get_cas_delete(agent, name):
    assert agent.kv.put(f"{name}/a", "1") is True
    index, item = agent.kv.get(f"{name}/a")
    assert item["Value"] == b"1" and int(index) > 0
    assert agent.kv.put(f"{name}/a", "2", cas=0) is False           # cas=0 only creates
    assert agent.kv.put(f"{name}/a", "2", cas=item["ModifyIndex"]) is True
    assert agent.kv.put(f"{name}/a", "3", cas=item["ModifyIndex"]) is False
    agent.kv.put(f"{name}/b/c", "x")
    _, keys = agent.kv.get(f"{name}/", keys=True, separator="/")
    assert keys == [f"{name}/a", f"{name}/b/"]
    _, items = agent.kv.get(f"{name}/", recurse=True)
    assert [i["Key"] for i in items] == [f"{name}/a", f"{name}/b/c"]
    assert agent.kv.delete(f"{name}/", recurse=True) is True
    index, missing = agent.kv.get(f"{name}/a")
    assert missing is None and int(index) > 0  # 404 still carries X-Consul-Index


def test_blocking_get_wakes_on_write(agent, name):
    agent.kv.put(name, "before")
    index, _ = agent.kv.get(name)
    result = {}

    def blocked():
        started = time.monotonic()
        result["index"], result["item"] = agent.kv.get(name, index=index, wait="10s")
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=blocked)
    thread.start()
    time.sleep(0.5)
    agent.kv.put(name, "after")
    thread.join(15)
    assert result["item"]["Value"] == b"after"
    assert int(result["index"]) > int(index)
    assert 0.4 < result["seconds"] < 5
    agent.kv.delete(name)


def test_blocking_get_times_out_with_the_same_index(agent, name):
    agent.kv.put(name, "x")
    index, _ = agent.kv.get(name)
    started = time.monotonic()
    new_index, _ = agent.kv.get(name, index=index, wait="2s")
    elapsed = time.monotonic() - started
    assert new_index == index
    assert 1.9 < elapsed < 5  # the 2 s asked for (plus up to 1/16 jitter), not the 5 min default
    agent.kv.delete(name)


def test_errors_come_back_as_py_consul_expects(agent, name, listening_port):
    # 404s (unknown IDs) come back as False from py-consul; 5xx raise with Consul's text.
    assert agent.agent.check.ttl_pass(f"{name}-no-such-check") is False
    assert agent.agent.service.deregister(f"{name}-no-such-service") is False
    agent.agent.service.register(name, service_id=f"{name}-1", port=listening_port,
                                 check=consul.Check.tcp("127.0.0.1", listening_port, "10s"))
    try:
        with pytest.raises(consul.ConsulException, match="does not have associated TTL"):
            agent.agent.check.ttl_pass(f"service:{name}-1")
    finally:
        agent.agent.service.deregister(f"{name}-1")
