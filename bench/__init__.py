"""`make bench`: the benchmark. Not part of the production app: its yardstick views,
its table and its settings exist only when DJANGO_SETTINGS_MODULE=bench.settings."""
