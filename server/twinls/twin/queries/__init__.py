"""Work the twin answers: searches over the overlay, status, user callables."""
