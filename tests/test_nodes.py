"""How a SINGLECONNECT_HOSTNAME value names its nodes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_singleconnect.conf import Settings
from django_singleconnect.nodes import node_list


@pytest.mark.parametrize(
    ("value", "nodes"),
    [
        ("sc.example.com", ["sc.example.com"]),
        ("sc1.example.com,sc2.example.com:8443", ["sc1.example.com", "sc2.example.com:8443"]),
        ("  sc1.example.com , sc2.example.com  ", ["sc1.example.com", "sc2.example.com"]),
        (
            "sc1.example.com sc2.example.com\n[::1]:8443",
            ["sc1.example.com", "sc2.example.com", "[::1]:8443"],
        ),
        ("sc1.example.com,,  ,sc2.example.com", ["sc1.example.com", "sc2.example.com"]),
        (
            "sc1.example.com, SC1.example.com, sc2.example.com",
            ["sc1.example.com", "sc2.example.com"],
        ),
        (["sc2.example.com", "sc1.example.com"], ["sc2.example.com", "sc1.example.com"]),
        (("sc1.example.com, sc2.example.com",), ["sc1.example.com", "sc2.example.com"]),
        ("", []),
        (" , ", []),
        ([], []),
        (None, []),
    ],
)
def test_the_nodes_of_a_value(value: Any, nodes: list[str]) -> None:
    assert node_list(value) == nodes


@pytest.mark.parametrize("value", [123, b"sc.example.com", ["sc.example.com", 1], {"a": 1}])
def test_other_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        node_list(value)


def test_the_settings_give_the_nodes_in_order() -> None:
    with override_settings(SINGLECONNECT_HOSTNAME=["sc2.example.com", "sc1.example.com:8443"]):
        assert Settings().NODES == ("sc2.example.com", "sc1.example.com:8443")
        assert Settings().HOSTNAME == "sc2.example.com, sc1.example.com:8443"
    with override_settings(SINGLECONNECT_HOSTNAME=123):
        assert Settings().NODES == ()
