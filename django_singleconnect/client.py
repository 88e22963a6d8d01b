"""
A small client for Single Connect's two OTP calls.

Everything that is not one of the documented answers is an error: the caller treats it
as "nobody is verified". Calls that may have reached the server are never retried, on the
same node or another: the next node is asked only when no connection to one could be opened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import requests
from django.views.decorators.debug import sensitive_variables

from . import signals
from .conf import Settings, get_cache, get_config, timeout_value, verify_value
from .exceptions import (
    SingleConnectBusy,
    SingleConnectCircuitOpen,
    SingleConnectError,
    SingleConnectNotConfigured,
    SingleConnectTimeout,
    SingleConnectUnexpectedResponse,
)
from .logs import fields
from .nodes import node_list
from .transport.circuit import Breaker
from .transport.deadline import Checkpoint, deadline
from .transport.failures import error_class_for, looks_like_html, never_connected, tls_reason
from .transport.sessions import close_sessions, pooled_session, prepared_post
from .transport.slots import call_slots

__all__ = ["MAX_RESPONSE_BYTES", "SingleConnectClient", "close_sessions"]

logger = logging.getLogger("django_singleconnect")

#: No answer of Single Connect's is longer than a Tomcat error page; stop reading well past it.
MAX_RESPONSE_BYTES = 64 * 1024


class _Answer(NamedTuple):
    """What one node answered to one call."""

    endpoint: str
    node: str
    username: str
    response: requests.Response
    body: bytes
    #: When the call to this node started (time.monotonic).
    started: float


class SingleConnectClient:
    """
    Talks to Single Connect's OTP API.

    Built with no arguments from the effective configuration (settings.py and the admin);
    keyword arguments override single values, e.g. ``SingleConnectClient(timeout=(1, 2))``.

    ``SINGLECONNECT_HOSTNAME`` may name several nodes: each call goes to the first one whose
    circuit is closed, and to the next only when no connection to it could be opened (the
    request never left). A node that took the request and failed (a timeout, a 5xx, any
    other answer) is that call's failure: no other node is asked.
    """

    def __init__(self, config: Settings | None = None, **overrides: Any) -> None:
        config = config or get_config()

        def pick(name: str) -> Any:
            key = name.lower()
            return overrides.pop(key) if key in overrides else getattr(config, name)

        try:
            self.nodes: tuple[str, ...] = tuple(node_list(pick("HOSTNAME")))
        except TypeError:
            self.nodes = ()
        #: Every node, separated by ", " (one node: its name).
        self.hostname: str = ", ".join(self.nodes)
        self.application_name: str = pick("APPLICATION_NAME")
        self.scheme: str = pick("SCHEME")
        self.base_path: str = "/" + str(pick("BASE_PATH")).strip("/")
        self.timeout: tuple[float, float] = timeout_value(pick("TIMEOUT"))
        self.verify: bool | str = verify_value(pick("VERIFY"))
        self.client_cert: str | tuple[str, str] | None = pick("CLIENT_CERT")
        self.proxies: dict[str, str] = dict(pick("PROXIES") or {})
        self.extra_headers: dict[str, str] = dict(pick("EXTRA_HEADERS") or {})
        self.cookies: dict[str, str] = dict(pick("COOKIES") or {})
        self.max_concurrent_calls: int | None = pick("MAX_CONCURRENT_CALLS")
        self.slot_wait_seconds: float = float(pick("SLOT_WAIT_SECONDS"))
        self.max_slow_calls: int | None = pick("MAX_SLOW_CALLS")
        self.slow_call_seconds: float = float(pick("SLOW_CALL_SECONDS"))
        connect, read = self.timeout
        cache = get_cache()
        #: Each node's circuit breaker, shared by every worker through the cache.
        self.breakers: dict[str, Breaker] = {
            node: Breaker(
                cache=cache,
                failures=config.CIRCUIT_FAILURES,
                reset_seconds=config.CIRCUIT_RESET_SECONDS,
                trial_seconds=connect + read + 1,
                node=node,
            )
            for node in self.nodes
        }
        #: The node the latest call went to (whatever came of it); None before any call.
        self.last_node: str | None = None
        if overrides:
            raise TypeError(f"Unknown option(s): {', '.join(sorted(overrides))}")
        if not self.nodes or not self.application_name:
            raise SingleConnectNotConfigured(
                "SINGLECONNECT_HOSTNAME and SINGLECONNECT_APPLICATION_NAME must be set."
            )
        self._session = pooled_session(
            (
                self.verify,
                self.client_cert,
                tuple(sorted(self.proxies.items())),
            ),
            connect_retries=1 if len(self.nodes) == 1 else 0,
        )

    @property
    def breaker(self) -> Breaker:
        """The first node's circuit breaker (the only one, with one node)."""
        return self.breakers[self.nodes[0]]

    def url(self, endpoint: str, node: str | None = None) -> str:
        """The URL of ``endpoint`` on ``node`` (by default the first node)."""
        return f"{self.scheme}://{node or self.nodes[0]}{self.base_path}/{endpoint}"

    # Every local of these calls and of what they call (the code, the form, the headers
    # with the cookies) is hidden from DEBUG error pages.
    @sensitive_variables()
    def otp_status(self, username: str, end_user_ip: str) -> bool:
        """
        Ask whether OTP is active for ``username``; when it is, Single Connect issues a code.

        Returns ``True`` (active, a code was sent) or ``False`` (OTP is not active). An empty
        ``end_user_ip`` is refused with ``ValueError`` before anything is sent. The node
        that answered is :attr:`last_node`: send the code's ``otp_valid`` there.
        """
        if not end_user_ip.strip():
            # Not Single Connect's failure, so the circuit breaker never hears of it.
            raise ValueError("otp_status needs the end user's IP address")
        answer = self._post(
            "otpstatus",
            username,
            {
                "username": username,
                "enduserip": end_user_ip,
                "applicationname": self.application_name,
            },
        )
        if answer.response.status_code == 200:
            body = answer.body.strip().lower()
            if body in (b"true", b"false"):
                active = body == b"true"
                self._answered(answer, "active" if active else "not_active")
                return active
        raise self._unexpected(answer)

    @sensitive_variables()
    def otp_valid(self, username: str, token: str, node: str | None = None) -> bool:
        """
        Ask whether ``token`` is the code Single Connect issued to ``username``.

        ``node``: the node that issued the code (``last_node`` after ``otp_status``); it
        alone is asked, and when it cannot be reached the call fails
        (``may_have_reached`` False). A node no longer configured is not called at all.
        Without ``node``, the nodes are tried in order, as for ``otp_status``.
        """
        answer = self._post(
            "otpvalid",
            username,
            {
                "username": username,
                "token": token,
                "applicationname": self.application_name,
            },
            node=node,
        )
        response, body = answer.response, answer.body
        # Only an empty 200 (or one that says "true") means valid: a gateway's login page or
        # any other body that happens to come with a 200 must never verify anybody.
        if (
            response.status_code == 200
            and body.strip().lower() in (b"", b"true")
            and not looks_like_html(response, body)
        ):
            self._answered(answer, "valid")
            return True
        if response.status_code == 403:
            self._answered(answer, "wrong_code")
            return False
        raise self._unexpected(answer)

    def _report(
        self,
        level: int,
        endpoint: str,
        node: str,
        username: str,
        outcome: str,
        what: Callable[[], str],
        started: float,
        status: int | None = None,
        error: SingleConnectError | None = None,
    ) -> None:
        """
        The log line and the ``singleconnect_called`` signal of one call to one node. The
        line (``what`` says how the call ended) is made only when the logger would keep it.
        """
        duration = time.monotonic() - started
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "Single Connect %s for %r: %s from node %s in %.0f ms",
                endpoint,
                username,
                what(),
                node,
                duration * 1000,
                extra=fields(
                    "call",
                    endpoint=endpoint,
                    node=node,
                    username=username,
                    outcome=outcome,
                    status=status,
                    duration_ms=duration * 1000,
                    cause=error.cause if error is not None else None,
                ),
            )
        # For figures only: a receiver that fails must not fail the call, nor the login.
        answers = signals.singleconnect_called.send_robust(
            sender=SingleConnectClient,
            endpoint=endpoint,
            node=node,
            username=username,
            outcome=outcome,
            status=status,
            duration=duration,
            # A copy without the traceback and the chain, whose frames hold the code.
            error=error.detached() if error is not None else None,
        )
        for receiver, result in answers:
            if isinstance(result, Exception):
                # Raised while the call's own error was handled: not that error's chain.
                result.__suppress_context__ = True
                logger.error(
                    "A receiver of singleconnect_called failed: %s",
                    getattr(receiver, "__qualname__", repr(receiver)),
                    exc_info=result,
                    extra=fields(
                        "receiver_failed",
                        endpoint=endpoint,
                        node=node,
                        username=username,
                        outcome=outcome,
                        cause=type(result).__name__,
                    ),
                )

    def _answered(self, answer: _Answer, outcome: str) -> None:
        self.breakers[answer.node].succeeded()
        status = answer.response.status_code
        self._report(
            logging.INFO,
            answer.endpoint,
            answer.node,
            answer.username,
            outcome,
            lambda: f"{outcome.replace('_', ' ')} (status {status})",
            answer.started,
            status,
        )

    def _unexpected(self, answer: _Answer) -> SingleConnectUnexpectedResponse:
        response = answer.response
        self._count_unexpected(answer.node, answer.username, response.status_code)
        error = SingleConnectUnexpectedResponse(
            f"{answer.endpoint}: unexpected answer with status {response.status_code}",
            status_code=response.status_code,
        )
        error.node = answer.node

        def what() -> str:
            # The body is not logged: a misbehaving gateway may echo the request back.
            content_type = response.headers.get("Content-Type", "") or "no content type"
            return (
                f"unexpected answer, status {response.status_code}, {content_type}, "
                f"{len(answer.body)} bytes"
            )

        self._report(
            logging.WARNING,
            answer.endpoint,
            answer.node,
            answer.username,
            error.cause,
            what,
            answer.started,
            response.status_code,
            error,
        )
        return error

    def _count_unexpected(self, node: str, username: str, status_code: int | None) -> None:
        """
        An undocumented answer is the node's failure, unless it is a 4xx.

        A 4xx is Single Connect (or a gateway in front of it) refusing one request, for
        something in that request: it is shown to that user as a failure, but it must not
        let one user's data open the circuit for everybody else.
        """
        if status_code is not None and 400 <= status_code < 500:
            self.breakers[node].answered_for_one()
        else:
            self.breakers[node].failed(username)

    def _headers(self) -> dict[str, str]:
        headers = dict(self.extra_headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers

    @sensitive_variables()  # every frame below too: the form, the headers, the cookies
    def _post(
        self, endpoint: str, username: str, data: dict[str, str], node: str | None = None
    ) -> _Answer:
        slots = call_slots.slot(
            self.max_concurrent_calls, self.slot_wait_seconds, self.max_slow_calls
        )
        with slots as ticket:
            if ticket is None:
                # Every thread that waits on a hung Single Connect is one that cannot serve
                # the rest of the site: past the limit, a call waits briefly, then gives up.
                slow = self.max_slow_calls is not None and call_slots.slow >= self.max_slow_calls
                logger.warning(
                    "Single Connect %s for %r: not called, %d calls under way for %.1f s or more",
                    endpoint,
                    username,
                    self.max_slow_calls if slow else self.max_concurrent_calls,
                    self.slow_call_seconds if slow else self.slot_wait_seconds,
                    extra=fields(
                        "not_called",
                        endpoint=endpoint,
                        username=username,
                        outcome=SingleConnectBusy.cause,
                        cause=SingleConnectBusy.cause,
                    ),
                )
                raise SingleConnectBusy(f"{endpoint}: not called, too many calls under way")
            return self._ask_nodes(endpoint, username, data, node, ticket)

    def _checkpoint(self, ticket: int) -> Checkpoint | None:
        """Where a call that grows slow takes a slow slot, or is cut short."""
        slow_limit = self.max_slow_calls
        if slow_limit is None or ticket < 0:
            return None
        return (
            time.monotonic() + self.slow_call_seconds,
            lambda: call_slots.may_go_on(ticket, slow_limit),
        )

    @sensitive_variables()  # every frame below too: the form, the headers, the cookies
    def _ask_nodes(
        self,
        endpoint: str,
        username: str,
        data: dict[str, str],
        pinned: str | None,
        ticket: int = -1,
    ) -> _Answer:
        """
        The first node that takes the call answers it. The next node is asked only when no
        connection to this one could be opened, or its circuit is open: the request never
        left, so asking another cannot issue a second code or spend a second attempt.
        """
        if pinned is None:
            nodes = self.nodes
        else:
            nodes = tuple(node for node in self.nodes if node.lower() == pinned.lower())
            if not nodes:
                raise self._not_called(
                    SingleConnectNotConfigured(f"{endpoint}: the node is no longer configured"),
                    endpoint,
                    pinned,
                    username,
                    "its node is no longer in SINGLECONNECT_HOSTNAME",
                )
        error: SingleConnectError | None = None
        for node in nodes:
            self.last_node = node
            if not self.breakers[node].allow():
                error = self._not_called(
                    SingleConnectCircuitOpen(f"{endpoint}: not called, the circuit is open"),
                    endpoint,
                    node,
                    username,
                    "the circuit is open",
                )
                continue
            try:
                return self._call(node, endpoint, username, data, self._checkpoint(ticket))
            except SingleConnectError as failed:
                if failed.may_have_reached or isinstance(failed, SingleConnectBusy):
                    # This node's failure: never a second call, on any node. And a call cut
                    # short by this process's own limit is not moved to another node.
                    raise
                error = failed
        assert error is not None  # there is always a node
        raise error

    def _not_called(
        self, error: SingleConnectError, endpoint: str, node: str, username: str, why: str
    ) -> SingleConnectError:
        error.node = node
        logger.warning(
            "Single Connect %s for %r: not called, %s (node %s)",
            endpoint,
            username,
            why,
            node,
            extra=fields(
                "not_called",
                endpoint=endpoint,
                node=node,
                username=username,
                outcome=error.cause,
                cause=error.cause,
            ),
        )
        return error

    @sensitive_variables()  # every frame below too: the form, the headers, the cookies
    def _call(
        self,
        node: str,
        endpoint: str,
        username: str,
        data: dict[str, str],
        checkpoint: Checkpoint | None = None,
    ) -> _Answer:
        started = time.monotonic()
        connect, read = self.timeout
        # The whole call, however the server drips its answer, ends within connect + read.
        with deadline(connect + read, checkpoint) as call:
            try:
                response = self._session.send(
                    prepared_post(self._session, self.url(endpoint, node), data, self._headers()),
                    timeout=self.timeout,
                    verify=self.verify,
                    cert=self.client_cert,
                    proxies=self.proxies,
                    allow_redirects=False,
                    stream=True,
                )
                body = self._read_body(response)
            except SingleConnectUnexpectedResponse as exc:
                self._too_long(node, endpoint, username, started, exc)
                raise
            except (requests.exceptions.RequestException, OSError) as exc:
                if call.cut:
                    raise self._cut(node, endpoint, username, started, exc) from None
                error_class = SingleConnectTimeout if call.expired else error_class_for(exc)
                # Not chained: the requests exception holds the form (the code) and the
                # cookies, and its frames' locals too; the message names its class.
                raise self._failed(node, endpoint, username, started, error_class, exc) from None
        if call.cut:
            response.close()
            raise self._cut(node, endpoint, username, started, TimeoutError("cut short"))
        if call.expired:
            # Cut short without an error is no answer either: http.client takes the end of the
            # stream in the middle of the headers for their end, so a 200 that lost its
            # Content-Length would read as an empty body, which otpvalid means "valid".
            response.close()
            raise self._failed(
                node, endpoint, username, started, SingleConnectTimeout, TimeoutError("deadline")
            )
        return _Answer(endpoint, node, username, response, body, started)

    def _too_long(
        self,
        node: str,
        endpoint: str,
        username: str,
        started: float,
        error: SingleConnectUnexpectedResponse,
    ) -> None:
        """The answer went past ``MAX_RESPONSE_BYTES`` (``_read_body``)."""
        self._count_unexpected(node, username, error.status_code)
        error.node = node
        self._report(
            logging.WARNING,
            endpoint,
            node,
            username,
            error.cause,
            lambda: f"unexpected answer, status {error.status_code}, {error}",
            started,
            error.status_code,
            error,
        )

    def _read_body(self, response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=8192):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                response.close()
                raise SingleConnectUnexpectedResponse(
                    f"answer longer than {MAX_RESPONSE_BYTES} bytes",
                    status_code=response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _cut(
        self, node: str, endpoint: str, username: str, started: float, exc: BaseException
    ) -> SingleConnectBusy:
        """
        The call grew slow while the slow slots were held: this process's own limit, like a
        call not made, so the circuit breaker does not count it. It may have reached Single
        Connect all the same.
        """
        self.breakers[node].answered_for_one()
        error = SingleConnectBusy(f"{endpoint}: cut short, too many slow calls under way")
        error.may_have_reached = not never_connected(exc)
        error.node = node
        self._report(
            logging.WARNING,
            endpoint,
            node,
            username,
            error.cause,
            lambda: (
                f"cut short, {self.max_slow_calls} calls under way for "
                f"{self.slow_call_seconds:.1f} s or more"
            ),
            started,
            error=error,
        )
        return error

    def _failed(
        self,
        node: str,
        endpoint: str,
        username: str,
        started: float,
        error_class: type[SingleConnectError],
        exc: Exception,
    ) -> SingleConnectError:
        self.breakers[node].failed(username)
        detail = type(exc).__name__
        reason = tls_reason(exc)
        if reason:
            detail = f"{detail}: {reason}"
        error = error_class(f"{endpoint}: {error_class.cause} ({detail})")
        error.may_have_reached = not never_connected(exc)
        error.node = node
        left = "" if error.may_have_reached else ", the request never left"
        # What the log says, e.g. "unreachable (ConnectionError, the request never left)".
        self._report(
            logging.WARNING,
            endpoint,
            node,
            username,
            error.cause,
            lambda: f"{error_class.cause} ({detail}{left})",
            started,
            error=error,
        )
        return error
