"""The app as gunicorn serves it for the HTTP benchmark (``bench.wsgi_app:app``); the database
comes from ``BENCH_DATABASE_URL``."""

from __future__ import annotations

import os

from bench.appdb import make_app
from portal.gc_tuning import tune_for_serving

app = make_app(os.environ["BENCH_DATABASE_URL"])
tune_for_serving()  # as wsgi.py does
