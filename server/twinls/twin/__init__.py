"""Twin: a forked, warm copy of the server that replays edits and answers calls."""
