from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse

from .access import adenial, denial

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


@overload
def singleconnect_required(
    view_func: ViewFunc, *, login_url: str | None = None, max_age: int | None = None
) -> ViewFunc: ...


@overload
def singleconnect_required(
    view_func: None = None, *, login_url: str | None = None, max_age: int | None = None
) -> Callable[[ViewFunc], ViewFunc]: ...


def singleconnect_required(
    view_func: Callable[..., Any] | None = None,
    *,
    login_url: str | None = None,
    max_age: int | None = None,
) -> Any:
    """
    Let a view through only for a signed-in user who passed the Single Connect step in this
    login. Anonymous users go to ``login_url`` (default ``LOGIN_URL``), the others to the
    code page. Works bare or with arguments, on sync and async views::

        @singleconnect_required
        def dashboard(request): ...

        @singleconnect_required(login_url="/sso/")
        async def report(request): ...

    ``max_age``: the view needs a code typed no more than that many seconds ago (a step-up
    before a sensitive view); an older verification, or a remembered browser, goes through
    the code page again, without signing out, and comes back here.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view):

            async def async_wrapper(
                request: HttpRequest, *args: Any, **kwargs: Any
            ) -> HttpResponse:
                refusal = await adenial(request, login_url, max_age)
                if refusal is not None:
                    return refusal
                return await view(request, *args, **kwargs)  # type: ignore[no-any-return]

            wrapper: Callable[..., Any] = async_wrapper
        else:

            def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                refusal = denial(request, login_url, max_age)
                if refusal is not None:
                    return refusal
                return view(request, *args, **kwargs)  # type: ignore[no-any-return]

            wrapper = sync_wrapper
        wrapper = functools.wraps(view)(wrapper)
        wrapper.singleconnect_required = True  # type: ignore[attr-defined]
        return wrapper

    if view_func is not None:
        return decorator(view_func)
    return decorator


def singleconnect_exempt(view_func: ViewFunc) -> ViewFunc:
    """Leave a view out when ``SINGLECONNECT_ENFORCE`` is ``"all"`` (health checks, webhooks)."""
    view_func.singleconnect_exempt = True  # type: ignore[attr-defined]
    return view_func
