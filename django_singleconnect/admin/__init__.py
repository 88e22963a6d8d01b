"""
The Django admin of the package, one module per model: the settings row
(``configuration``), failed code attempts (``counters``), the audit log (``audit``) and
remembered browsers (``browsers``). Importing this package registers them all.
"""

from __future__ import annotations

from .audit import VerificationEventAdmin
from .browsers import RememberedBrowserAdmin
from .configuration import SingleConnectConfigurationAdmin, _shown
from .counters import AttemptCounterAdmin

__all__ = [
    "AttemptCounterAdmin",
    "RememberedBrowserAdmin",
    "SingleConnectConfigurationAdmin",
    "VerificationEventAdmin",
    "_shown",
]
