"""Lead scoring: behaviour and fit points, decay, explanations, the predictive score (issue 13)."""
