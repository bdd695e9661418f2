"""Slack listeners only: parse, check, call into `bot/`, answer."""
