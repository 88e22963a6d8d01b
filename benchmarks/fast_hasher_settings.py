"""
The example project's settings, with a fast password hasher: for ``load.py --fast-hasher``,
so that PBKDF2's quarter of a second of CPU per login does not hide the code step's cost.
"""

from example_project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
