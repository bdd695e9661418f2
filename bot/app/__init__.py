"""The running service: wiring, the process, health and the deployment check."""
