"""Study visits after consent: booking, rebooking, cancelling and their outcomes (services),
the windows and the visits page's reads (selectors), the page at /staff/visits/ (views)."""
