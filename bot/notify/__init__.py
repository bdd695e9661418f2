"""Delivery to Slack: the outbox, job cards, pacing and what Slack's failures mean."""
