"""The original article's Python client against search-server.

Stubs are generated with grpcio-tools from original/search.proto (the article's contract, not ours), the
service is found the way the article did it (DNS SRV from Consul on :8600 with dnspython), and the calls
are plain grpcio. These run against the stack's search-service instances (scripts/stack up starts three).
"""
import importlib
import os
import sys

import dns.resolver
import grpc
import pytest
from grpc_tools import protoc

from conftest import dns_address

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    out = tmp_path_factory.mktemp("stubs")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    code = protoc.main(["protoc", f"-I{HERE}/original", f"-I{include}", f"--python_out={out}",
                        f"--grpc_python_out={out}", "search.proto"])
    assert code == 0, "grpc_tools.protoc failed on original/search.proto"
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("search_pb2"), importlib.import_module("search_pb2_grpc")
    finally:
        sys.path.remove(str(out))


def resolve(service):
    """host:port of a healthy instance, from Consul DNS (what the original client did)."""
    host, port = dns_address()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    answer = resolver.resolve(f"{service}.service.consul", "SRV")
    targets = []
    for record in answer:
        address = next(str(a) for rrset in answer.response.additional for a in rrset
                       if rrset.name == record.target and rrset.rdtype == dns.rdatatype.A)
        targets.append(f"{address}:{record.port}")
    return targets


@pytest.fixture(scope="module")
def channel():
    targets = resolve("search-service")
    assert targets, "no healthy search-service instance in Consul DNS"
    with grpc.insecure_channel(targets[0]) as channel:
        yield channel


def test_dns_lists_the_three_stack_instances():
    assert len(resolve("search-service")) == 3


def test_the_original_client_finds_the_country_of_a_point(stubs, channel):
    pb, rpc = stubs
    reply = rpc.SearchStub(channel).search(pb.SearchRequest(lat=48.8566, lng=2.3522), timeout=5)
    assert "France" in [r.response for r in reply.responses]


def test_a_name_query_pages_with_the_default_size(stubs, channel):
    pb, rpc = stubs
    stub = rpc.SearchStub(channel)
    first = stub.search(pb.SearchRequest(query="a"), timeout=5)
    assert len(first.responses) == 10
    second = stub.search(pb.SearchRequest(query="a", page_number=2), timeout=5)
    assert not {r.response for r in first.responses} & {r.response for r in second.responses}


def test_bad_input_is_invalid_argument(stubs, channel):
    pb, rpc = stubs
    with pytest.raises(grpc.RpcError) as failure:
        rpc.SearchStub(channel).search(pb.SearchRequest(lat=91, lng=0), timeout=5)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "lat must be between -90 and 90" in failure.value.details()


def test_monitor_counts_the_things(stubs, channel):
    pb, rpc = stubs
    from google.protobuf import empty_pb2
    reply = rpc.SearchStub(channel).monitor(empty_pb2.Empty(), timeout=5)
    assert reply.n_things >= 177
