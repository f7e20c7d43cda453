"""The shipped Fellegi-Sunter parameters are what bench/fs_estimate.py produces from its
documented input (issue 13 item 3): nobody edits the weights by hand."""

import importlib.util
import sys
from pathlib import Path

from registry.matching.weights import PARAMS_FILE, match_weights

ROOT = Path(__file__).resolve().parents[2]


def _estimator():
    spec = importlib.util.spec_from_file_location("fs_estimate", ROOT / "bench" / "fs_estimate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fs_estimate"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_parameters_are_what_the_script_produces_from_its_documented_input():
    estimator = _estimator()
    shipped = (ROOT / "registry" / "matching" / PARAMS_FILE).read_text(encoding="utf-8")
    assert estimator.render(estimator.estimate()) == shipped


def test_agreeing_on_a_rare_family_name_counts_for_more_than_on_smith():
    weights = match_weights()
    assert weights.family_exact("scantlebury") > weights.family_exact("smith") + 3
    assert weights.given_exact("tahni") > weights.given_exact("oliver") + 3
    # A different value is evidence against, whatever the field.
    for comparison in ("family_name", "given_name", "sex"):
        assert weights.weight(comparison, "different" if comparison != "sex" else "differ") < 0
