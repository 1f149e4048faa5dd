"""ping over each privileged tier, where this machine offers it (CI offers all of them)."""
import pytest
from support import strict_skip

from socklab import packets


def _require(tier: str) -> None:
    report = packets.tier()
    if not report.available[tier]:
        strict_skip(f"tier {tier!r} unavailable here: {report.reasons[tier]}")


@pytest.mark.parametrize("tier", ["ping-socket", "namespace", "root"])
def test_ping_each_tier(tier):
    """Does ping() over this tier get one reply per request, with seq, id, TTL and RTT?"""
    _require(tier)
    replies = packets.ping("127.0.0.1", count=3, tier=tier, payload=b"socklab-test")
    assert [r.seq for r in replies] == [1, 2, 3]
    assert len({r.id for r in replies}) == 1
    assert all(r.tier == tier for r in replies)
    assert all(r.ttl == 64 for r in replies)  # Linux's default TTL, nothing decremented it on loopback
    assert all(0 < r.rtt_ms < 1000 for r in replies)
    assert all(r.bytes == 8 + len(b"socklab-test") for r in replies)
    assert "icmp_seq=1" in str(replies[0])


def test_ping_socket_reason_names_the_sysctl():
    """When the ping socket is unavailable, does the reason quote ping_group_range and say what to do?"""
    report = packets.tier()
    if report.available["ping-socket"]:
        assert "admits" in report.reasons["ping-socket"]
    elif report.name != "offline":
        assert "which is fine" in report.reasons["ping-socket"] and "admin" not in report.reasons["ping-socket"]
    else:
        assert "ping_group_range is '" in report.reasons["ping-socket"]
        assert "sysctl" in report.reasons["ping-socket"]


def test_no_admin_advice_when_a_live_tier_works():
    """With a working live tier, do the tiers that are off say "which is fine" instead of "ask your admin"?"""
    from socklab.packets.tiers import _not_needed

    off = {"offline": True, "ping-socket": False, "namespace": True, "root": False}
    reasons = _not_needed("namespace", off)
    assert set(reasons) == {"ping-socket"}
    assert "which is fine" in reasons["ping-socket"] and "the namespace tier does the same" in reasons["ping-socket"]
    assert "admin" not in reasons["ping-socket"]
    both_off = _not_needed("root", {"offline": True, "ping-socket": False, "namespace": False, "root": True})
    assert set(both_off) == {"ping-socket", "namespace"}


def test_default_ping_uses_the_best_tier():
    """Does ping() without a tier pick the most capable available one?"""
    report = packets.tier()
    if report.name == "offline":
        with pytest.raises(RuntimeError, match="available"):
            packets.ping()
        return
    (reply,) = packets.ping()
    assert reply.tier == report.name


def test_ping_rejects_bad_arguments():
    """Are a silly count or timeout refused with a clear message?"""
    with pytest.raises(ValueError, match="count"):
        packets.ping(count=0)
    with pytest.raises(ValueError, match="timeout"):
        packets.ping(timeout=0)
    with pytest.raises(ValueError, match="IPv6"):
        packets.ping("::1")
