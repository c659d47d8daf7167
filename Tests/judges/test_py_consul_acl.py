"""py-consul against devconsul with ACLs on (--acl-token-file: default deny, one management token).

This judges devconsul itself (the binary scripts/test just built), whatever CONSUL_HTTP_ADDR points
at: the agent is started here on free ports and stopped by its PID.
"""
import os
import pathlib
import secrets
import socket
import subprocess
import tempfile
import time

import consul
import pytest

DEVCONSUL = pathlib.Path(__file__).resolve().parents[2] / ".build" / "debug" / "devconsul"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def secured():
    if not DEVCONSUL.exists():
        pytest.fail(f"{DEVCONSUL} is not built (scripts/test builds it)")
    token = secrets.token_hex(16)
    with tempfile.NamedTemporaryFile("w", suffix=".token", delete=False) as f:
        f.write(token + "\n")
    port = free_port()
    # Output into a file, read once the agent answers: a blocking read of a pipe would wait forever on
    # an agent that never prints.
    output = tempfile.NamedTemporaryFile("w+", suffix=".out")
    agent = subprocess.Popen([str(DEVCONSUL), "--http-port", str(port), "--dns-port", "0", "--acl-token-file", f.name],
                             stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                consul.Consul(port=port).status.leader()
                break
            except Exception as error:  # noqa: BLE001 - not answering yet
                if time.monotonic() > deadline:
                    pytest.fail(f"devconsul did not answer on {port} within 15 s: {error}")
                time.sleep(0.1)
        banner = open(output.name).read()
        assert "ACLs on (default deny)" in banner, f"devconsul did not start with ACLs: {banner!r}"
        yield port, token
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        output.close()
        os.unlink(f.name)


def test_without_a_token_kv_and_writes_are_denied_and_the_catalog_is_filtered(secured):
    port, token = secured
    anonymous = consul.Consul(port=port)
    with pytest.raises(consul.ACLPermissionDenied, match="anonymous token lacks permission 'key:read'"):
        anonymous.kv.get("search-service/log_level")
    with pytest.raises(consul.ACLPermissionDenied, match="lacks permission 'service:write'"):
        anonymous.agent.service.register("web", service_id="web-1", port=1)
    manager = consul.Consul(port=port, token=token)
    assert manager.agent.service.register("hidden", service_id="hidden-1", port=1)
    try:
        # As Consul: the entries the anonymous token may not read are left out, not refused.
        assert anonymous.catalog.services()[1] == {}
        assert anonymous.health.service("hidden")[1] == []
        assert "hidden" in manager.catalog.services()[1]
    finally:
        manager.agent.service.deregister("hidden-1")


def test_an_unknown_token_is_not_found(secured):
    port, token = secured
    with pytest.raises(consul.ACLPermissionDenied, match="ACL not found"):
        consul.Consul(port=port, token=token + "x").catalog.services()


def test_the_management_token_may_do_anything(secured):
    port, token = secured
    manager = consul.Consul(port=port, token=token)
    assert manager.kv.put("judge/acl", "on") is True
    assert manager.kv.get("judge/acl")[1]["Value"] == b"on"
    assert manager.agent.service.register("web", service_id="web-1", port=1)
    assert manager.catalog.services()[1]["web"] == []
    assert manager.agent.service.deregister("web-1")
    assert manager.acl.token.read_self()["Description"] == "Initial Management Token"
