"""WSGI entry point, served by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application

from ldn_trial.datastack import reserve_data_stack

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_trial.settings")

# Every request runs above a reserved stretch of the frame stack: ldn_trial/datastack.py.
application = reserve_data_stack(get_wsgi_application())
