"""dnspython (PyPI dnspython 2.9.2) against the agent's DNS interface (CONSUL_REFERENCE.md §6)."""
import time

import consul
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import dns_address


def ask(name, rdtype, tcp=False, edns=False):
    host, port = dns_address()
    query = dns.message.make_query(name, rdtype, use_edns=0 if edns else False, payload=4096)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, host, port=port, timeout=3)


@pytest.fixture
def three_instances(agent, name, listening_port):
    ids = [f"{name}-{i}" for i in range(3)]
    for i, service_id in enumerate(ids):
        agent.agent.service.register(name, service_id=service_id, address=f"127.0.0.{i + 1}", port=listening_port,
                                     tags=["primary"] if i == 0 else [],
                                     check=consul.Check.ttl("60s"))
        agent.agent.check.ttl_pass(f"service:{service_id}")
    yield name, ids, listening_port
    for service_id in ids:
        agent.agent.service.deregister(service_id)


def test_a_records_for_every_healthy_instance(three_instances):
    name, _, _ = three_instances
    answer = ask(f"{name}.service.consul", "A")
    assert answer.rcode() == dns.rcode.NOERROR
    assert answer.flags & dns.flags.AA and not answer.flags & dns.flags.RA
    addresses = sorted(r.address for rrset in answer.answer for r in rrset)
    assert addresses == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert all(rrset.ttl == 0 for rrset in answer.answer)


def test_srv_records_with_addr_targets_and_glue(three_instances):
    name, _, port = three_instances
    for qname in (f"{name}.service.consul", f"_{name}._tcp.service.consul"):
        answer = ask(qname, "SRV")
        srv = [r for rrset in answer.answer for r in rrset]
        assert len(srv) == 3
        assert {r.port for r in srv} == {port} and {r.priority for r in srv} == {1}
        assert sorted(r.target.to_text() for r in srv) == [
            "7f000001.addr.dc1.consul.", "7f000002.addr.dc1.consul.", "7f000003.addr.dc1.consul."]
        glue = {rrset.name.to_text(): rrset[0].address for rrset in answer.additional}
        assert glue["7f000002.addr.dc1.consul."] == "127.0.0.2"


def test_tag_filter(three_instances):
    name, _, _ = three_instances
    answer = ask(f"primary.{name}.service.consul", "A")
    assert [r.address for rrset in answer.answer for r in rrset] == ["127.0.0.1"]
    answer = ask(f"_{name}._primary.service.consul", "SRV")
    assert len([r for rrset in answer.answer for r in rrset]) == 1


def test_critical_instances_are_left_out_and_warning_kept(agent, three_instances):
    name, ids, _ = three_instances
    agent.agent.check.ttl_fail(f"service:{ids[0]}")
    agent.agent.check.ttl_warn(f"service:{ids[1]}")
    answer = ask(f"{name}.service.consul", "A")
    assert sorted(r.address for rrset in answer.answer for r in rrset) == ["127.0.0.2", "127.0.0.3"]


def test_unknown_service_is_nxdomain_with_soa(name):
    answer = ask(f"{name}.service.consul", "A")
    assert answer.rcode() == dns.rcode.NXDOMAIN
    soa = answer.authority[0][0]
    assert soa.mname.to_text() == "ns.consul." and soa.rname.to_text() == "hostmaster.consul."
    assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (3600, 600, 86400, 0)
    assert abs(soa.serial - time.time()) < 60


def test_nodata_for_aaaa_of_an_ipv4_service(three_instances):
    name, _, _ = three_instances
    answer = ask(f"{name}.service.consul", "AAAA")
    assert answer.rcode() == dns.rcode.NOERROR and answer.answer == []
    assert answer.authority[0].rdtype == dns.rdatatype.SOA


def test_udp_trims_to_three_answers_without_tc_and_tcp_gives_all(agent, name, listening_port):
    for i in range(10):
        agent.agent.service.register(name, service_id=f"{name}-{i}", address=f"127.0.1.{i + 1}", port=listening_port,
                                     check=consul.Check.ttl("60s"))
        agent.agent.check.ttl_pass(f"service:{name}-{i}")
    try:
        udp = ask(f"{name}.service.consul", "A")
        assert len([r for rrset in udp.answer for r in rrset]) == 3
        assert not udp.flags & dns.flags.TC
        tcp = ask(f"{name}.service.consul", "A", tcp=True)
        assert len([r for rrset in tcp.answer for r in rrset]) == 10
        edns = ask(f"{name}.service.consul", "A", edns=True)
        assert len([r for rrset in edns.answer for r in rrset]) == 10
    finally:
        for i in range(10):
            agent.agent.service.deregister(f"{name}-{i}")


def test_addr_and_node_names():
    answer = ask("c000020a.addr.dc1.consul", "A")
    assert [r.address for rrset in answer.answer for r in rrset] == ["192.0.2.10"]


def test_names_outside_the_domain_are_refused():
    assert ask("example.com", "A").rcode() == dns.rcode.REFUSED


def test_node_lookup_with_meta_txt(agent):
    node = agent.agent.self()["Config"]["NodeName"]
    answer = ask(f"{node}.node.consul", "A")
    assert [r.address for rrset in answer.answer for r in rrset] == ["127.0.0.1"]
    txt = ask(f"{node}.node.consul", "TXT")
    assert [b"".join(r.strings) for rrset in txt.answer for r in rrset] == [b"consul-network-segment="]


def test_consul_service_itself_is_served(agent):
    answer = ask("consul.service.consul", "SRV")
    assert [r.port for rrset in answer.answer for r in rrset] == [8300]
