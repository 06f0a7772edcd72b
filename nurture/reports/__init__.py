"""Reports in grouped SQL: the lifecycle funnel, movement over time, sequences and content."""
