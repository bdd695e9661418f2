"""The job domain: the command grammar, the job service, permissions, the audit log."""
