"""The customer master: one model for the three industries, its maintenance workflow and approvals."""
