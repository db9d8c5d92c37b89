"""Champion and challenger: new labelled data joins the champion's snapshot, a challenger is
trained with the champion's recipe, both are compared on the same held-out windows through
their ONNX models, and the approver sees the comparison."""

from __future__ import annotations

import pytest

from app.core.errors import Cancelled, UsageError
from app.core.progress import CancelToken
from app.core.records import ChannelInfo
from app.core.roles import Action
from app.data.synthetic import vibration
from app.ml import Recipe
from app.services.audit import AuditFilter
from app.services.datasets import RecordingInput
from tests.services.vibration_kit import ACC, RATE, WINDOW, two_states

RECIPE = Recipe(params={"n_estimators": 25})


def _new_data(services, who, *, channel: ChannelInfo = ACC, label: bool = True):
    """What a drift alarm brought: the machine in a state the champion never saw."""
    n = int(3 * RATE)
    recs = [RecordingInput(name=f"alarm-{k}", data=vibration("imbalance", n, seed=70 + k)[None],
                           label="imbalance" if label else "")
            for k in range(2)]
    return services.datasets.create_from_arrays(
        who, action=Action.DATA_IMPORT, name="captured after the alarm", channels=[channel],
        sample_rate=RATE, provenance={"source": "test"}, recordings=recs)


@pytest.fixture
def champion(services, people):
    eng = people["engineer"]
    ds = two_states(services, eng)
    return services.training.train(eng, dataset=ds.dataset_id, line="pump-7", recipe=RECIPE,
                                   window=WINDOW, hop=WINDOW).version


def test_the_challenger_is_compared_with_the_champion_on_the_same_windows(services, people,
                                                                          champion):
    eng = people["engineer"]
    new = _new_data(services, eng)
    out = services.challenger.challenge(eng, champion=champion.ref, new_data=new.dataset_id)
    v = out.trained.version
    assert v.ref == "pump-7:v2" and v.dataset_id == out.dataset.dataset_id
    assert [r.name for r in out.dataset.recordings][-2:] == ["new/alarm-0", "new/alarm-1"]
    assert out.dataset.provenance["champion_data"] == champion.dataset_id
    c = out.comparison.report
    assert c["windows"] == out.trained.validation["n_test"] > c["new_windows"] > 0
    champ, chall = c["models"]["champion"], c["models"]["challenger"]
    assert champ["ref"] == champion.ref
    # The champion cannot name a state it never learnt; the challenger can.
    assert champ["per_class"]["imbalance"]["recall"] == 0.0
    assert chall["per_class"]["imbalance"]["recall"] >= 0.9
    assert chall["accuracy_new"] > champ["accuracy_new"]
    for m in (champ, chall):  # every window counted once in each confusion matrix
        assert sum(map(sum, m["confusion"])) == c["windows"]
    # The approver reads it, in the same words the CLI prints.
    lines = services.approvals.evidence(people["approver"], ref=v.ref).lines()
    assert any(f"Champion {champion.ref} against the challenger" in x for x in lines)
    assert any(x.strip().startswith("imbalance: 0.0% /") for x in lines)
    assert services.approvals.evidence(people["approver"], ref=champion.ref).comparison is None
    trained = services.audit.show(people["auditor"], AuditFilter(action="model.register"))
    assert [e.object for e in trained][:2] in (["model:pump-7:v2", "model:pump-7:v1"],
                                               ["model:pump-7:v1", "model:pump-7:v2"])


def test_unfit_new_data_is_refused_before_anything_is_written(services, people, champion):
    eng = people["engineer"]
    before = len(services.datasets.list(eng))
    with pytest.raises(UsageError, match="is the one pump-7:v1 was trained on"):
        services.challenger.challenge(eng, champion=champion.ref,
                                      new_data=champion.dataset_id)
    unlabelled = _new_data(services, eng, label=False)
    with pytest.raises(UsageError, match=r"recording 0 \(alarm-0\) .* has no label"):
        services.challenger.challenge(eng, champion=champion.ref,
                                      new_data=unlabelled.dataset_id)
    other = _new_data(services, eng, channel=ChannelInfo("vib", "g", "100 mV/g"))
    with pytest.raises(UsageError, match="has no channel 'acc'"):
        services.challenger.challenge(eng, champion=champion.ref, new_data=other.dataset_id)
    in_ms2 = _new_data(services, eng, channel=ChannelInfo("acc", "m/s2", ""))
    with pytest.raises(UsageError, match="in m/s2 in dataset .* but in g"):
        services.challenger.challenge(eng, champion=champion.ref, new_data=in_ms2.dataset_id)
    assert len(services.datasets.list(eng)) == before + 3  # the three test inputs, no more
    assert [v.ref for v in services.registry.versions(eng, line="pump-7")] == [champion.ref]


def test_a_challenge_cancelled_while_combining_writes_nothing(services, people, champion):
    eng = people["engineer"]
    new = _new_data(services, eng)
    before = len(services.datasets.list(eng))
    token = CancelToken()
    seen: list[str] = []

    def progress(_fraction: float, message: str) -> None:
        seen.append(message)
        token.cancel()  # at "combining the snapshots": the arrays are read, nothing written

    with pytest.raises(Cancelled):
        services.challenger.challenge(eng, champion=champion.ref, new_data=new.dataset_id,
                                      progress=progress, cancel=token)
    assert seen == ["combining the snapshots"]
    assert len(services.datasets.list(eng)) == before, "no combined snapshot"
    assert [v.ref for v in services.registry.versions(eng, line="pump-7")] == [champion.ref]
