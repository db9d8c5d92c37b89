"""Explaining a registered version's prediction for one window, through the services and the
CLI: the deployed ONNX model's verdict, contributions that add up, invalid input named."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.core.errors import IntegrityError, UsageError
from app.ml import Recipe
from app.ml.pipeline_file import PIPELINE_ARTIFACT
from tests.conftest import password_of
from tests.services.vibration_kit import WINDOW, with_bad_windows


@pytest.fixture
def trained(services, people):
    eng = people["engineer"]
    ds = with_bad_windows(services, eng)
    out = services.training.train(eng, dataset=ds.dataset_id, line="pump-7",
                                  recipe=Recipe(params={"n_estimators": 25}),
                                  window=WINDOW, hop=WINDOW)
    return ds, out.version


def test_a_window_is_explained_for_the_class_the_onnx_model_chose(services, people, trained):
    ds, v = trained
    assert PIPELINE_ARTIFACT in v.artifacts
    r = services.explanations.explain_recording(people["operator"], ref=v.ref,
                                                dataset=ds.dataset_id, recording="1",
                                                start=3 * WINDOW)
    assert (r.label, r.invalid) == ("bearing_fault", "")
    e = r.explanation
    assert e is not None and e.explained == "bearing_fault" and e.output_kind == "probability"
    assert e.base + e.contributions.sum() == pytest.approx(e.output, abs=1e-6)
    assert 0.5 < e.output <= 1.0
    assert len(e.feature_names) == len(e.contributions) > 5


def test_a_dead_sensor_window_is_named_not_explained(services, people, trained):
    ds, v = trained
    r = services.explanations.explain_recording(people["engineer"], ref=v.ref,
                                                dataset=ds.dataset_id, recording="healthy-bad")
    assert r.explanation is None and r.label == ""
    assert "flat line" in r.invalid


def test_bad_requests_are_one_sentence(services, people, trained):
    ds, v = trained
    ex = services.explanations
    with pytest.raises(UsageError, match="no recording '7'"):
        ex.explain_recording(people["engineer"], ref=v.ref, dataset=ds.dataset_id,
                             recording="7")
    with pytest.raises(UsageError, match="start 99999 is outside recording 0"):
        ex.explain_recording(people["engineer"], ref=v.ref, dataset=ds.dataset_id,
                             recording="0", start=99_999)


def test_a_swapped_pipeline_file_is_refused_before_it_is_loaded(services, people, trained):
    ds, v = trained
    # The blob store names files by their hash: rewrite one in place, as an attacker with
    # file access would, and the read is refused before skops sees a byte.
    path = services.ctx.blobs.path_of(v.artifacts[PIPELINE_ARTIFACT])
    path.write_bytes(b"PK\x03\x04 not a pipeline")
    with pytest.raises(IntegrityError, match="does not match its name"):
        services.explanations.explain_recording(people["engineer"], ref=v.ref,
                                                dataset=ds.dataset_id, recording="1")


def test_the_cli_prints_the_top_contributions(services, people, trained, home):
    ds, v = trained
    env = dict(os.environ, PLANTML_USER="operator1", PLANTML_PASSWORD=password_of("operator1"))
    done = subprocess.run([sys.executable, "-m", "app", "--home", str(home), "explain", v.ref,
                           ds.dataset_id[:12], "--recording", "1", "--start", str(WINDOW),
                           "--top", "3"], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "predicts bearing_fault; probability" in lines[0]
    assert len(lines) == 5 and "(the other" in lines[-1]
    as_json = subprocess.run([sys.executable, "-m", "app", "--home", str(home), "explain",
                              v.ref, ds.dataset_id[:12], "--recording", "healthy-bad",
                              "--json"], capture_output=True, text=True, env=env,
                             timeout=300, check=False)
    assert json.loads(as_json.stdout)["invalid"].startswith("flat line")
