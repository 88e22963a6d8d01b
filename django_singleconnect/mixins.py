from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from django.views import View

from .access import adenial, denial


class SingleConnectRequiredMixin:
    """
    The class-based view form of ``singleconnect_required``; put it first among the bases.
    Set ``login_url`` to send anonymous users somewhere other than ``LOGIN_URL``.
    """

    login_url: str | None = None
    #: Seconds: the view needs a code typed no more than that long ago (a step-up).
    singleconnect_max_age: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # After View in the bases, View.dispatch would run first and the check never: the
        # view would open silently. Refuse to make such a class at all.
        mro = cls.__mro__
        if View in mro and mro.index(View) < mro.index(SingleConnectRequiredMixin):
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__}: put SingleConnectRequiredMixin before "
                f"{mro[mro.index(View)].__name__} and any view class in the bases."
            )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "view_is_async", False):
            return self._async_dispatch(request, *args, **kwargs)
        refusal = denial(request, self.login_url, self.singleconnect_max_age)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _async_dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        refusal = await adenial(request, self.login_url, self.singleconnect_max_age)
        if refusal is not None:
            return refusal
        return await super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return]
