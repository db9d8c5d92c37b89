"""The hash chain's walk checked one rule at a time: a forger who recomputes a changed row's own
hash is caught only by the link to the previous event (with the link check disabled, all 20
tamper tests once stayed green), and each break names the right event and reason."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from app.audit.chain import (
    FIELDS,
    GENESIS,
    ChainBreak,
    chain_hash,
    event_body,
    to_event,
    walk_chain,
)


def _body(i: int) -> str:
    return event_body(ts=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=1))),
                      user=f"u{i}", role="engineer", workstation="ws1", action="model.train",
                      obj=f"model/{i}", old=None, new={"n": i}, reason="r", result="ok")


def _rows(n: int, *, start: int = 1, prev: str = GENESIS) -> list[tuple[int, str, str, str]]:
    rows = []
    for seq in range(start, start + n):
        body = _body(seq)
        digest = chain_hash(seq, prev, body)
        rows.append((seq, body, prev, digest))
        prev = digest
    return rows


def test_chain_hash_is_sha256_of_seq_prev_and_body():
    want = hashlib.sha256(f"7\n{'a' * 64}\nbody".encode()).hexdigest()
    assert chain_hash(7, "a" * 64, "body") == want
    assert chain_hash(8, "a" * 64, "body") != want
    assert GENESIS == "0" * 64


def test_event_body_is_canonical_and_keeps_the_utc_offset():
    data = json.loads(_body(3))
    assert sorted(data) == sorted(FIELDS)
    assert data["ts"] == "2026-01-02T03:04:05.000006+01:00"
    assert data["utc_offset_min"] == 60
    assert data["user"] == "u3" and data["object"] == "model/3" and data["new"] == {"n": 3}
    naive = json.loads(event_body(ts=datetime(2026, 1, 2), user="u", role="r", workstation="w",
                                  action="a", obj="o", old=1, new=2, reason="", result="ok"))
    assert naive["utc_offset_min"] == 0 and naive["old"] == 1


def test_to_event_decodes_every_field():
    seq, body, prev, digest = _rows(1)[0]
    ev = to_event(seq, body, prev, digest)
    assert (ev.seq, ev.prev_hash, ev.hash) == (1, GENESIS, digest)
    assert (ev.user, ev.role, ev.workstation, ev.action, ev.object) == \
        ("u1", "engineer", "ws1", "model.train", "model/1")
    assert (ev.old, ev.new, ev.reason, ev.result, ev.utc_offset_min) == \
        (None, {"n": 1}, "r", "ok", 60)
    assert ev.ts == "2026-01-02T03:04:05.000006+01:00"


def test_an_intact_chain_yields_the_wanted_hashes_and_the_head():
    rows = _rows(5)
    got = list(walk_chain(rows, {2, 4}))
    assert got == [(2, rows[1][3]), (4, rows[3][3]), (5, rows[4][3])]
    assert list(walk_chain(rows)) == [(5, rows[4][3])]
    assert list(walk_chain([])) == [(0, GENESIS)]


def test_a_chain_may_start_after_a_checkpoint():
    head = _rows(3)
    tail = _rows(2, start=4, prev=head[-1][3])
    assert list(walk_chain(tail, start_seq=4, start_prev=head[-1][3])) == [(5, tail[-1][3])]
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(tail, start_seq=4))  # from the genesis hash the link does not hold
    assert err.value.seq == 4 and "link" in err.value.problem


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link():
    rows = _rows(4)
    seq, _body_, prev, _ = rows[1]
    forged = _body(99)
    rows[1] = (seq, forged, prev, chain_hash(seq, prev, forged))  # row 2 itself verifies
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 3
    assert err.value.problem == str(err.value)
    assert "link to the previous event does not match" in err.value.problem


def test_a_changed_prev_hash_with_a_recomputed_hash_breaks_its_own_link():
    rows = _rows(3)
    seq, body, _prev, _ = rows[1]
    rows[1] = (seq, body, "f" * 64, chain_hash(seq, "f" * 64, body))
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 2 and "link" in err.value.problem


def test_an_altered_row_breaks_at_that_row():
    rows = _rows(3)
    seq, body, prev, digest = rows[2]
    rows[2] = (seq, body.replace("u3", "u4"), prev, digest)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 3 and "content does not match its hash" in err.value.problem


def test_missing_events_name_the_gap():
    rows = _rows(6)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows[:2] + rows[4:]))
    assert err.value.seq == 3 and err.value.problem == "events 3 to 4 are missing"


def test_a_repeated_or_reordered_event_is_named():
    rows = _rows(3)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain([rows[0], rows[1], rows[1]]))
    assert err.value.seq == 2 and err.value.problem == "sequence 2 appears out of order or twice"


def test_hashes_before_the_break_are_yielded_first():
    rows = _rows(4)
    rows[3] = (4, rows[3][1], rows[3][2], "0" * 64)
    walk = walk_chain(rows, {1, 3})
    assert next(walk) == (1, rows[0][3])
    assert next(walk) == (3, rows[2][3])
    with pytest.raises(ChainBreak):
        next(walk)
