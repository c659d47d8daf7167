"""Third-party clients judging a Consul agent (devconsul from the stack, or a real Consul).

The agent is found through CONSUL_HTTP_ADDR (default 127.0.0.1:8500) and OPSDECK_CONSUL_DNS
(default 127.0.0.1:8600). scripts/test starts the stack's devconsul first; an agent that does not
answer fails every test here, loudly.
"""
import os
import socket
import uuid

import consul
import pytest


def http_address():
    address = os.environ.get("CONSUL_HTTP_ADDR", "127.0.0.1:8500")
    return address.split("://")[-1]


def dns_address():
    host, _, port = os.environ.get("OPSDECK_CONSUL_DNS", "127.0.0.1:8600").rpartition(":")
    return host, int(port)


@pytest.fixture(scope="session")
def agent():
    host, _, port = http_address().rpartition(":")
    client = consul.Consul(host=host, port=int(port))
    try:
        client.status.leader()
    except Exception as error:  # noqa: BLE001 - any failure means no agent
        pytest.fail(f"no Consul agent at {http_address()}: {error} (scripts/stack up starts devconsul)")
    return client


@pytest.fixture
def name():
    """A service or key name no other test uses."""
    return f"judge-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def listening_port():
    """A TCP port with a listener on it, for TCP checks that must pass."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()
