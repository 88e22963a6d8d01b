"""
How calls reach Single Connect, apart from what they ask and what the answers mean
(``django_singleconnect.client``):

- ``sessions``: the pooled HTTP sessions, which keep no cookie and never follow a redirect;
- ``slots``: the call limit of a process (how many calls may be slow at once);
- ``deadline``: the watchdog that ends every call within its total deadline;
- ``circuit``: the circuit breaker of each node, shared through the cache;
- ``failures``: what a failed call was (timeout, TLS, unreachable), and whether it left.
"""
