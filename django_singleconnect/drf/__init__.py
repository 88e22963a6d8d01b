"""
Django REST framework: the permission class, and a system check for the authentication
classes the middleware cannot see. Needs ``djangorestframework`` (the ``drf`` extra);
nothing else in the package imports it.
"""

from __future__ import annotations

from .permissions import IsSingleConnectVerified

__all__ = ["IsSingleConnectVerified"]
