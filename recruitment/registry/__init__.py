"""The center's registry: re-matching the people who agreed to hear about other studies
against each study, from the answers they already gave (services, selectors, tasks)."""
