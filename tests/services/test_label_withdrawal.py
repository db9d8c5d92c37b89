"""A wrong label can be withdrawn (and so edited: withdraw, label again): it stops counting for
training, both events are in the trail, and a second withdrawal or a stranger's is refused."""

from __future__ import annotations

import pytest

from app.core.errors import Conflict, NotFound, PermissionDenied, UsageError
from app.services.audit import AuditFilter
from tests.services.vibration_kit import two_states


def test_a_withdrawn_label_stops_counting_and_both_events_are_audited(services, people):
    eng = people["engineer"]
    ds = two_states(services, eng)
    wrong = services.datasets.label(eng, dataset=ds.dataset_id, recording=0, label="misalign",
                                    t_start=0.5, t_end=1.5)
    assert wrong.id > 0
    shown = services.datasets.show(eng, dataset=ds.dataset_id)
    assert wrong in shown.labels
    gone = services.datasets.withdraw_label(eng, dataset=ds.dataset_id, label_id=wrong.id,
                                            reason="it was the healthy run, misread")
    assert (gone.id, gone.label) == (wrong.id, "misalign")
    after = services.datasets.show(eng, dataset=ds.dataset_id)
    assert wrong.id not in {lb.id for lb in after.labels}
    assert len(after.labels) == len(shown.labels) - 1
    # The edit: label again, correctly.
    right = services.datasets.label(eng, dataset=ds.dataset_id, recording=0, label="healthy",
                                    t_start=0.5, t_end=1.5)
    assert right.id != wrong.id and right in services.datasets.show(
        eng, dataset=ds.dataset_id).labels
    events = services.audit.show(people["auditor"], AuditFilter(action="data.label",
                                                                newest_first=False))
    withdrawal = [e for e in events if e.new and e.new.get("withdrawn")]
    assert len(withdrawal) == 1
    assert withdrawal[0].old["label"] == "misalign"
    assert withdrawal[0].reason == "it was the healthy run, misread"
    assert services.audit.verify(people["auditor"]).ok


def test_withdrawals_that_cannot_be_are_refused_in_words(services, people):
    eng = people["engineer"]
    ds = two_states(services, eng)
    other = two_states(services, eng, name="another", seconds=2.0)
    lb = services.datasets.show(eng, dataset=ds.dataset_id).labels[0]
    with pytest.raises(UsageError, match="say why"):
        services.datasets.withdraw_label(eng, dataset=ds.dataset_id, label_id=lb.id, reason=" ")
    with pytest.raises(NotFound, match=f"has no label {lb.id}"):
        services.datasets.withdraw_label(eng, dataset=other.dataset_id, label_id=lb.id,
                                         reason="wrong dataset")
    with pytest.raises(PermissionDenied):
        services.datasets.withdraw_label(people["operator"], dataset=ds.dataset_id,
                                         label_id=lb.id, reason="not mine to say")
    services.datasets.withdraw_label(eng, dataset=ds.dataset_id, label_id=lb.id,
                                     reason="mislabelled")
    with pytest.raises(Conflict, match="already withdrawn by engineer1"):
        services.datasets.withdraw_label(eng, dataset=ds.dataset_id, label_id=lb.id,
                                         reason="again")
