"""A/B and bandit experiments on mail steps and their statistics (issue 14)."""
