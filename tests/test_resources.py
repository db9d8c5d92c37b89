"""The bundled resources load: example tag maps parse, sample data imports, icons render."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.resources import resource, resources_dir
from app.data.tagmap.load import load_tagmap

ROOT = Path(__file__).resolve().parents[1]


def test_resources_are_found_in_the_source_tree():
    assert resources_dir() == ROOT / "resources"
    for part in (("about.md",), ("styles", "plantml.qss"), ("icons", "plantml.ico"),
                 ("selftest", "golden.onnx")):
        assert resource(*part).is_file()


def test_a_missing_resource_is_named():
    with pytest.raises(Exception, match="icons/nope.svg is missing"):
        resource("icons", "nope.svg")


@pytest.mark.parametrize("path", sorted((ROOT / "resources" / "tagmaps").glob("*.toml")),
                         ids=lambda p: p.name)
def test_example_tag_maps_parse(path):
    tagmap = load_tagmap(path)
    assert tagmap.tags or tagmap.waveforms


def test_sample_recordings_import_with_every_row_accepted(services, people):
    files = sorted((ROOT / "resources" / "sample-data").glob("*.csv"))
    assert len(files) == 2
    outcome = services.data_in.import_files(people["engineer"], paths=files, name="sample")
    assert len(outcome.reports) == 2
    for report in outcome.reports.values():
        assert report["rows_rejected"] == 0 and report["rows_accepted"] == 24_000
