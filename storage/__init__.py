"""Everything SQL lives here: migrations and the repository the service calls."""
