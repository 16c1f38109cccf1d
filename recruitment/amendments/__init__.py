"""Amending a study's criteria: a draft, what it would change (the what-if), publishing it."""
