"""
Signals of the second-factor step. Every one is sent with ``request``, ``user`` and
``username`` (the Single Connect username), plus:

- ``challenge_sent``: a code was issued; ``resend`` tells whether the user asked again.
- ``verification_succeeded``: ``method`` is ``"otp"`` or ``"otp_inactive"`` (OTP is not
  active for the user and ``SINGLECONNECT_OTP_INACTIVE_POLICY`` is ``"allow"``).
- ``verification_failed``: a wrong code; ``attempts_left`` before the lockout.
- ``user_locked_out``: ``locked_until``, an aware datetime.
- ``codes_spent``: the username's codes for the hour are spent; ``retry_after`` seconds.
- ``repeated_lockout``: a lockout followed another within
  ``SINGLECONNECT_LOCKOUT_SERIES_SECONDS``; ``lockouts`` in a row, ``locked_until``. Someone
  may be guessing slowly with the user's password: a good moment to warn the user.
- ``service_unavailable``: Single Connect gave no clear answer; ``error`` is the
  :class:`~django_singleconnect.exceptions.SingleConnectError`.
- ``verification_denied``: OTP is not active for the user and the policy denied the step.
- ``step_expired``: the step took longer than ``SINGLECONNECT_PENDING_TIMEOUT``; the user
  was signed out.
- ``step_up_started``: a verified session was asked for a fresh code by a view's
  ``max_age``; ``max_age`` in seconds.

``verification_succeeded`` also reports a remembered browser, with ``method`` set to
``"remembered"``. And every row written to the audit log, whatever wrote it, is sent as
``audit_event`` with ``event``, the :class:`~django_singleconnect.models.VerificationEvent`.

One concerns the settings, and is sent with ``user`` (who changed them, or None outside
a request) and ``changes``, ``{field: (old, new)}`` with secrets masked:

- ``settings_changed``: the row of Single Connect settings was saved with other values.

Three more concern Single Connect itself, not a user, and are sent with neither
``request`` nor ``user``; each names the ``node`` (``host`` or ``host:port``):

- ``circuit_opened``: ``failures`` in a row; the node is not called for ``reset_seconds``.
- ``circuit_closed``: a trial call got a documented answer; calls to the node resume.
- ``singleconnect_called``: after every call to a node, whatever came of it, with
  ``endpoint`` (``"otpstatus"`` or ``"otpvalid"``), ``username`` (the Single Connect
  username), ``outcome`` (``"active"``, ``"not_active"``, ``"valid"``, ``"wrong_code"``,
  or, when there was no clear answer, the error's ``cause``: ``"timeout"``,
  ``"unreachable"``, ``"tls"``, ``"unexpected_response"``, ``"error"``), ``status`` (the
  HTTP status, or None), ``duration`` (seconds, a float) and ``error`` (the
  :class:`~django_singleconnect.exceptions.SingleConnectError`, or None). A call not made
  (circuit open, no free call slot) sends none.

The signals of the code step also name the ``node`` of the login's code (``""`` before the
first code); ``service_unavailable``'s is the node that failed.
"""

from __future__ import annotations

from django.dispatch import Signal

challenge_sent = Signal()
verification_succeeded = Signal()
verification_failed = Signal()
user_locked_out = Signal()
service_unavailable = Signal()
codes_spent = Signal()
repeated_lockout = Signal()
settings_changed = Signal()
verification_denied = Signal()
step_expired = Signal()
step_up_started = Signal()
browser_remembered = Signal()
audit_event = Signal()
circuit_opened = Signal()
circuit_closed = Signal()
singleconnect_called = Signal()
