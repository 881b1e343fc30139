"""Twin: the work it answers; searches over the overlay, status, user callables."""
