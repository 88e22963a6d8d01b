"""
Single Connect's nodes: ``SINGLECONNECT_HOSTNAME`` (or the admin's host name) may name
several, tried in the order given.

A node is skipped only when no connection to it could be opened, so the request never
left; see ``SingleConnectClient`` for the rest of the rules.
"""

from __future__ import annotations

import re
from typing import Any

_SEPARATORS = re.compile(r"[,\s]+")


def node_list(value: Any) -> list[str]:
    """
    The nodes named by a ``SINGLECONNECT_HOSTNAME`` value, in order: a string of
    ``host`` or ``host:port`` values separated by commas and/or whitespace, or (in
    settings.py) a list or tuple of such strings. Empty parts are dropped, and so is a node
    named twice (case aside). ``None`` names none. Whether each node is a valid host name is
    not checked here (``validators.hostname_problem``).
    """
    if value is None:
        return []
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        parts = list(value)
    else:
        raise TypeError(f"A host name is a string or a list of strings, not {value!r}")
    nodes: list[str] = []
    seen: set[str] = set()
    for part in parts:
        for node in _SEPARATORS.split(part):
            if node and node.lower() not in seen:
                seen.add(node.lower())
                nodes.append(node)
    return nodes
