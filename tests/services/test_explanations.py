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


def test_the_controllers_newest_window_is_explained_for_the_model_it_runs(services, people,
                                                                          tmp_path):
    import time

    from app.core.errors import NotFound
    from app.data.synthetic import vibration
    from app.services.controller_runtime import start_controller
    from tests.services.test_capture import HW, _release
    from tests.services.vibration_kit import RATE, two_states

    eng, opr = people["engineer"], people["operator"]
    ds = two_states(services, eng)
    v = services.training.train(eng, dataset=ds.dataset_id, line="pump-7",
                                recipe=Recipe(params={"n_estimators": 25}), window=WINDOW,
                                hop=WINDOW).version
    _release(services, people, v.ref)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    signal = vibration("bearing_fault", int(20 * RATE), seed=4)
    with start_controller(state_dir=tmp_path / "edge", hardware_id=HW, trust=trust,
                          tcp="127.0.0.1:0", replay=signal[None, :]) as edge:
        with pytest.raises(NotFound, match="no classified window to explain"):
            services.explanations.explain_controller(opr, target=edge.target)
        assert services.controllers.flash(opr, ref=v.ref, target=edge.target).ok
        deadline = time.monotonic() + 120  # a bound, not a pace
        while services.controllers.watch(opr, target=edge.target).live.inference_count < 3 \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        r = services.explanations.explain_controller(opr, target=edge.target)
    assert r.ref == v.ref and r.label == "bearing_fault" and r.invalid == ""
    e = r.explanation
    assert e is not None and e.base + e.contributions.sum() == pytest.approx(e.output, abs=1e-6)
    assert r.window.shape == (1, WINDOW)
