"""Guards for the release: the matrix tests the installed wheel, and the metadata agrees."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

import django_singleconnect

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not os.environ.get("SINGLECONNECT_EXPECT_WHEEL"), reason="nox matrix only")
def test_the_package_comes_from_the_installed_wheel() -> None:
    location = Path(django_singleconnect.__file__).resolve()
    assert "site-packages" in location.parts, location


def _nox_matrix() -> list[tuple[str, str]]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MATRIX":
            return [tuple(pair) for pair in ast.literal_eval(node.value)]
    raise AssertionError("noxfile.py has no MATRIX")


@pytest.mark.skipif(not (ROOT / "noxfile.py").exists(), reason="a copy of the suite")
def test_metadata_matches_the_matrix() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classifiers = project["classifiers"]
    matrix = _nox_matrix()
    pythons = sorted({python for python, _ in matrix})
    djangos = sorted({django for _, django in matrix})
    assert project["requires-python"] == f">={pythons[0]}"
    assert sorted(
        c.rpartition(":: ")[2] for c in classifiers if re.fullmatch(r".*Python :: 3\.\d+", c)
    ) == sorted(pythons, key=lambda v: tuple(map(int, v.split("."))))
    assert (
        sorted(c.rpartition(":: ")[2] for c in classifiers if "Framework :: Django ::" in c)
        == djangos
    )
    assert f"django>={djangos[0]}" in project["dependencies"]
