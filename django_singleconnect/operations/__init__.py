"""
What the management commands do: ``check`` (the probes of ``singleconnect_check``, with
``tls`` for the handshake and ``report`` for what they found), ``prune`` and ``unlock``.
The commands themselves only parse their arguments and print.
"""
