"""
What the management commands do, one module per command: ``check`` (the probes of
``singleconnect_check``), ``prune`` and ``unlock``. The commands themselves only parse
their arguments and print.
"""
