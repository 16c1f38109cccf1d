"""Every email the app sends, each one a background task (django-tasks): `tasks` (what the
services enqueue after commit, with ids only), `emails` (rendering at send time, in the
reader's language), `delivery` (sending, and retrying a refused email with backoff), `queue`
(is the queue draining? for `check_tasks`). docs/architecture.md, "Background tasks"."""
