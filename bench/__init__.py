"""`make bench`: the benchmark of issue 7. Not part of the production app: its yardstick views,
its table and its settings exist only when DJANGO_SETTINGS_MODULE=bench.settings."""
