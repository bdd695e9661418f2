"""Reusable fixtures, one module per area; every module here is loaded as a pytest plugin."""
