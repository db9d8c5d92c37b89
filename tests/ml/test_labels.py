"""Labels become training windows: whole-recording labels, time ranges inside them, segments."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import UsageError
from app.core.records import ChannelInfo, DatasetInfo, LabelInfo, RecordingInfo
from app.features.spec import FeatureSpec
from app.ml.labels import LEFT_OUT, labelled_recordings, window_labels

RATE = 1280.0
SPEC = FeatureSpec.default(RATE, channels=("de",), window=256, hop=128)  # 0.2 s, 0.1 s


def _info(labels: tuple[LabelInfo, ...], n: int = 2560) -> DatasetInfo:
    return DatasetInfo(dataset_id="d" * 64, name="rig", sample_rate=RATE,
                       channels=(ChannelInfo("fan"), ChannelInfo("de")),
                       recordings=(RecordingInfo(0, "run-0", n),), provenance={},
                       size_bytes=0, created_at="", created_by="", labels=labels)


def _arrays(info: DatasetInfo):
    n = info.recordings[0].n_samples
    return [(info.recordings[0], np.vstack([np.zeros(n), np.arange(n, dtype=float)]))]


def test_windows_inside_a_range_take_its_label_across_an_edge_are_left_out():
    rec = RecordingInfo(0, "run-0", 2560)
    labels = window_labels(rec, "ok", [(0.0, 0.5, "old"), (0.3, 1.0, "fault")], SPEC)
    # Windows start every 0.1 s and last 0.2 s: 19 of them in 2 s. The newer range is laid
    # over the older: 0.2-0.4 s lies inside "old" but across the start of "fault".
    assert len(labels) == 19
    assert list(labels[:6]) == ["old", "old", LEFT_OUT, "fault", "fault", "fault"]
    assert labels[8] == "fault" and labels[9] is LEFT_OUT  # 0.9-1.1 s: across the end
    assert set(labels[10:]) == {"ok"}  # the recording's own label elsewhere
    assert window_labels(rec, "ok", [], SPEC) is None


def test_a_labelled_recording_keeps_its_channel_rows_and_range_labels():
    info = _info((LabelInfo(0, "ok"), LabelInfo(0, "fault", 1.0, 2.0)))
    [rec] = labelled_recordings(info, _arrays(info), SPEC)
    assert rec.id == "0:run-0" and rec.label == "ok" and rec.signal.shape == (1, 2560)
    assert rec.signal[0, 5] == 5.0  # the 'de' row, not 'fan'
    assert list(rec.window_labels[-3:]) == ["fault"] * 3
    assert list(rec.window_labels[8:11]) == ["ok", LEFT_OUT, "fault"]  # from 0.8 s, 0.9 s, 1 s


def test_ranges_alone_give_one_segment_each_and_short_ones_are_left_out():
    info = _info((LabelInfo(0, "fault", 1.0, 2.0), LabelInfo(0, "ok", 0.0, 0.9),
                  LabelInfo(0, "blip", 0.95, 1.0)))
    recs = labelled_recordings(info, _arrays(info), SPEC)
    assert [(r.id, r.label, r.signal.shape[1]) for r in recs] == [
        ("0:run-0@0s", "ok", 1152), ("0:run-0@1s", "fault", 1280)]


def test_unlabelled_recordings_and_overlapping_ranges_are_refused():
    info = _info(())
    with pytest.raises(UsageError, match="recording 0 .run-0. of dataset d{12} has no label"):
        labelled_recordings(info, _arrays(info), SPEC)
    info = _info((LabelInfo(0, "a", 0.0, 1.0), LabelInfo(0, "b", 0.5, 1.5)))
    with pytest.raises(UsageError, match="0-1 s and from 0.5 s overlap"):
        labelled_recordings(info, _arrays(info), SPEC)


def test_the_plan_counts_windows_by_the_rule_and_refuses_a_class_it_cannot_test():
    from app.ml.labels import LABEL_RULE, label_plan
    from app.ml.recipe import SplitSpec

    # 2 s recordings (19 windows of 0.2 s every 0.1 s), "ok" with a fault from 0.2 s to 0.6 s:
    # a time-ordered split tests only the last 30 %, which holds no fault.
    info = _info((LabelInfo(0, "ok"), LabelInfo(0, "fault", 0.2, 0.6)))
    plan = label_plan(info, SPEC, SplitSpec())
    assert plan.rule == LABEL_RULE
    assert plan.from_ranges == 3 and plan.left_out == 2  # 0.1-0.3 s and 0.5-0.7 s
    counts = {c.label: (c.windows, c.train, c.test) for c in plan.classes}
    assert counts["fault"] == (3, 3, 0) and counts["ok"][0] == 14
    assert plan.problems == ("class fault has no held-out windows under the split "
                             "(time-ordered per recording, the last 30% held out after a gap "
                             "of 256 samples), so it cannot be tested: label more of it, or "
                             "split by recording",)
    with pytest.raises(UsageError, match="class fault has no held-out windows"):
        plan.raise_for_problems()
    text = plan.summary()
    assert text.startswith(LABEL_RULE) and "fault 3 / 0" in text
    assert "2 across a range edge are left out" in text
    # A fault at the very end is the other way round: nothing of it to train on, and the
    # tested part holds nothing else.
    late = label_plan(_info((LabelInfo(0, "ok"), LabelInfo(0, "fault", 1.5, 2.0))), SPEC,
                      SplitSpec())
    assert [p.split(" under")[0] for p in late.problems] == [
        "class fault has no training windows", "class ok has no held-out windows"]
    unlabelled = label_plan(_info(()), SPEC, SplitSpec())
    assert unlabelled.problems == ("recording 0 (run-0) has no label; label it first",)


def test_windows_left_out_are_dropped_from_the_window_set():
    from app.ml.dataset import window_set
    from app.ml.labels import drop_left_out

    info = _info((LabelInfo(0, "ok"), LabelInfo(0, "fault", 1.0, 2.0)))
    data = window_set(labelled_recordings(info, _arrays(info), SPEC), SPEC)
    kept, n = drop_left_out(data)
    assert (len(data), len(kept), n) == (19, 18, 1)
    assert LEFT_OUT not in set(kept.labels)
    assert list(kept.starts[8:10]) == [1024, 1280]  # 0.9-1.1 s, across 1 s, is gone
    assert kept.valid.shape == kept.conditions.shape == (18,)
    assert drop_left_out(kept) == (kept, 0)
