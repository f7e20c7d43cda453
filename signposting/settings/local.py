"""Settings for a developer's machine: `make run`. SQLite and a file-system broker."""

from signposting.settings.base import *  # noqa: F403
from signposting.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
# A fixed key is acceptable only here: nothing local is reachable from outside.
SECRET_KEY = env.str("SECRET_KEY", default="local-only-insecure-key-do-not-use-in-production")
