"""The trial center's front door: one form for "any study that may fit me" (a person in the
registry with their shared answers, no application), and the center-wide registry queue."""
