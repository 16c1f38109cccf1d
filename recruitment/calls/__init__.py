"""The call list: who the coordinators contact now, per study (selectors), and its page
(views). Reads only: every contact is logged through `screening.services`."""
