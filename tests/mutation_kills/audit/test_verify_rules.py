"""The verification's rules at their edges: where the checkpoints a trail must have are
missing (at an approval, at every multiple, in a gap longer than the interval, at the very
end), what an anchor from outside says when it is newer, equal or rewritten, and how many
anchors agreed; each refusal names its sequence and says exactly what was found."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.chain import GENESIS, chain_hash, event_body
from app.audit.checkpoints import make_checkpoint
from app.audit.expected import Expected
from app.audit.keyring import KeyRing
from app.audit.keys import AuditKey
from app.audit.verify import Anchor, verify_rows
from app.core.records import Checkpoint

TS = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC).isoformat()
N = 10


def _rows(n: int = N) -> list[tuple[int, str, str, str]]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = event_body(ts=datetime(2026, 5, 6, tzinfo=UTC), user="eng", role="engineer",
                          workstation="ws1", action="model.train", obj=f"model/{seq}",
                          old=None, new={"n": seq}, reason="r", result="ok")
        digest = chain_hash(seq, prev, body)
        rows.append((seq, body, prev, digest))
        prev = digest
    return rows


ROWS = _rows()


KEY = AuditKey(Ed25519PrivateKey.generate())
OTHER = AuditKey(Ed25519PrivateKey.generate())


@pytest.fixture
def key() -> AuditKey:
    return KEY


def _cp(key: AuditKey, seq: int, head: str | None = None) -> Checkpoint:
    return make_checkpoint(key, seq, head or ROWS[seq - 1][3], TS, "ws1")


def _verify(key: AuditKey, at: list[int], expected: Expected | None = None, **kw):
    return verify_rows(iter(ROWS), [_cp(key, s) for s in at], key.public, expected=expected,
                       **kw)


def _refused(report, seq: int, problem: str, *, checked: int = N, key_id: str = "") -> None:
    """A refusal at ``seq`` saying ``problem``, after walking ``checked`` events, reported
    under ``key_id`` (by default the key the tests sign with)."""
    assert not report.ok
    assert (report.first_bad_seq, report.problem) == (seq, problem)
    assert (report.events_checked, report.last_seq) == (checked, checked)
    assert report.key_id == (key_id or KEY.key_id)


# --- checkpoints the trail must have ---

def test_the_checkpoint_of_the_last_event_if_it_is_an_approval_must_be_there(key):
    _refused(_verify(key, [5], Expected(interval=100, at={N})), N,
             f"the signed checkpoint every export, approval and security change gets is "
             f"missing at sequence {N}: checkpoints were removed")
    assert _verify(key, [5], Expected(interval=100, at={N + 1})).ok


@pytest.mark.parametrize("every", [1, 5, N])
def test_the_checkpoint_at_every_multiple_up_to_the_last_event_must_be_there(key, every):
    present = [s for s in range(every, N, every)]  # all but the one at N
    _refused(_verify(key, present, Expected(interval=100, every=every)), N,
             f"the signed checkpoint written every {every} events is missing at sequence "
             f"{N}: checkpoints were removed")
    assert _verify(key, [*present, N], Expected(interval=100, every=every)).ok


def test_an_interval_of_one_wants_a_checkpoint_at_every_event(key):
    _refused(_verify(key, [1, 2, 4, 5, 6, 7, 8, 9, 10], Expected(interval=1)), 3,
             "no signed checkpoint between sequence 3 and 3, though one is written at least "
             "every 1 events: checkpoints were removed")
    _refused(_verify(key, list(range(1, N)), Expected(interval=1)), N,
             f"no signed checkpoint between sequence {N} and {N}, though one is written at "
             "least every 1 events: checkpoints were removed")


def test_a_gap_longer_than_the_interval_is_named_from_its_first_event(key):
    _refused(_verify(key, [4, 7, 10], Expected(interval=3)), 3,
             "no signed checkpoint between sequence 1 and 3, though one is written at least "
             "every 3 events: checkpoints were removed")


@pytest.mark.parametrize(("present", "bad", "first"), [([3, 6], 9, 7), ([3, 6, 7], 10, 8)])
def test_a_tail_longer_than_the_interval_without_a_checkpoint_is_named(key, present, bad,
                                                                       first):
    _refused(_verify(key, present, Expected(interval=3)), bad,
             f"no signed checkpoint between sequence {first} and {N}, though one is written "
             "at least every 3 events: checkpoints were removed")
    assert _verify(key, [3, 6, 9], Expected(interval=3)).ok


# --- anchors kept outside ---

def test_agreeing_anchors_are_counted_one_by_one(key):
    anchors = [Anchor("export A", _cp(key, 4)), Anchor("export B", _cp(key, N))]
    report = _verify(key, [], anchors=anchors)
    assert report.ok, report.problem
    assert "2 anchor(s) kept outside agree with the trail" in report.notes
    one = _verify(key, [], anchors=anchors[:1])
    assert "1 anchor(s) kept outside agree with the trail" in one.notes


def test_an_anchor_newer_than_the_trail_means_its_tail_was_cut(key):
    report = _verify(key, [], anchors=[Anchor("the package", _cp(key, N + 3, "ab" * 32))])
    _refused(report, N + 1, f"the chain ends at {N} but the package holds a checkpoint for "
             f"{N + 3} events: the tail was cut")


def test_a_newer_anchor_that_is_only_noted_does_not_hide_a_later_rewritten_one(key):
    anchors = [Anchor("newer", _cp(key, N + 3, "ab" * 32)),
               Anchor("older", _cp(key, 4, "cd" * 32))]
    report = _verify(key, [], anchors=anchors, newer_anchors_ok=True)
    _refused(report, 4, "the chain up to 4 differs from the checkpoint in older: the trail was "
             "rewritten and signed again")


def test_a_rewritten_trail_under_another_key_says_the_key_was_replaced(key):
    other = OTHER
    forged = make_checkpoint(other, 4, "cd" * 32, TS, "ws1")
    # An anchor of a key not trusted is refused before any comparison; trust both, as a
    # shared registry of two workstations does.
    ring = KeyRing({key.key_id: key.public, other.key_id: other.public}, key.key_id)
    report = verify_rows(iter(ROWS), [], ring, anchors=[Anchor("older", forged)])
    _refused(report, 4, "the chain up to 4 differs from the checkpoint in older: the trail was "
             f"rewritten and signed again (the anchor is signed by audit key {other.key_id}, "
             f"the trail by {key.key_id}: the audit key was replaced, or the anchor is "
             "another workstation's)")


def test_an_anchor_of_a_key_not_trusted_means_the_key_was_replaced(key):
    report = _verify(key, [], anchors=[Anchor("the USB copy", make_checkpoint(
        OTHER, 4, ROWS[3][3], TS, "ws1"))])
    _refused(report, 4, f"the USB copy: its checkpoint at sequence 4 was signed by audit key "
             f"{OTHER.key_id}, the trail is signed by {key.key_id}: the audit key was replaced "
             "(or the anchor is from another workstation)", checked=0)


def test_an_anchor_whose_signature_fails_is_refused(key):
    good = _cp(key, 4)
    forged = replace(good, signature=OTHER.sign(b"x"))
    report = _verify(key, [], anchors=[Anchor("the USB copy", forged)])
    _refused(report, 4, f"the USB copy: its checkpoint at sequence 4 does not verify with "
             f"audit key {key.key_id}", checked=0)


def test_an_anchor_at_the_last_event_is_compared_not_taken_for_a_cut(key):
    report = _verify(key, [], anchors=[Anchor("export", _cp(key, N))])
    assert report.ok, report.problem


# --- a broken chain ---

@pytest.mark.parametrize("bad", [1, 4])
def test_a_broken_chain_reports_the_events_before_the_break_as_checked(key, bad):
    rows = list(ROWS)
    seq, body, prev, digest = rows[bad - 1]
    rows[bad - 1] = (seq, body.replace(f'"n":{bad}', f'"n":{bad}0'), prev, digest)
    report = verify_rows(iter(rows), [], key.public)
    assert not report.ok and report.first_bad_seq == bad
    assert (report.events_checked, report.last_seq) == (bad - 1, bad - 1)
    assert report.key_id == key.key_id and report.problem != ""


def test_a_checkpoint_past_the_end_means_the_tail_was_cut(key):
    cut = verify_rows(iter(ROWS[:6]), [_cp(key, 8)], key.public)
    _refused(cut, 7, "the chain ends at 6 but a signed checkpoint vouches for 8 events: the "
             "tail was cut", checked=6)


def test_a_checkpoint_that_disagrees_with_the_chain_means_it_was_recomputed(key):
    report = verify_rows(iter(ROWS), [_cp(key, 3), _cp(key, 6, "ab" * 32)], key.public)
    _refused(report, 4, "the chain up to 6 differs from the signed checkpoint: events after 3 "
             "were altered and the chain recomputed")


def test_two_signed_checkpoints_that_disagree_are_refused_before_the_walk(key):
    report = verify_rows(iter(ROWS), [_cp(key, 5), _cp(key, 5, "ab" * 32)], key.public)
    _refused(report, 5, "two signed checkpoints disagree at sequence 5", checked=0)


def test_a_checkpoint_whose_signature_fails_names_the_key_it_claims(key):
    good = _cp(key, 5)
    forged = replace(good, signature=OTHER.sign(b"x"))
    report = verify_rows(iter(ROWS), [forged], key.public)
    _refused(report, 5, f"the checkpoint at sequence 5 is not signed by the audit key "
             f"{key.key_id} (its signature does not verify with audit key {key.key_id})",
             checked=0)


def test_an_intact_trail_reports_every_event_and_the_newest_signer():
    ring = KeyRing({KEY.key_id: KEY.public, OTHER.key_id: OTHER.public}, KEY.key_id)
    report = verify_rows(iter(ROWS), [_cp(KEY, 4), make_checkpoint(OTHER, 8, ROWS[7][3], TS,
                                                                    "ws2")], ring)
    assert report.ok, report.problem
    assert (report.events_checked, report.last_seq, report.checkpoint_seq,
            report.unsigned_tail) == (N, N, 8, N - 8)
    assert report.key_id == OTHER.key_id
    assert not any("no signed checkpoint yet" in note for note in report.notes)


def test_a_trail_without_checkpoints_says_only_the_chain_protects_it(key):
    report = _verify(key, [])
    assert report.ok and report.key_id == key.key_id
    assert report.notes == ["no signed checkpoint yet: only the hash chain protects these "
                            "events"]
    assert verify_rows(iter([]), [], key.public).notes == []
