"""WSGI entry point, served by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_trial.settings")

application = get_wsgi_application()

# Opt-in, for Python 3.11 without the fix of python/cpython#142183: each request runs above a
# reserved stretch of the frame stack (ldn_trial/datastack.py, docs/deploy.md).
if os.environ.get("RESERVE_FRAME_STACK", "").strip().lower() in {"1", "true", "yes", "on"}:
    from ldn_trial.datastack import reserve_data_stack

    application = reserve_data_stack(application)
