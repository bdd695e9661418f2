"""The fine-tuning API client: the only code that knows which provider is behind it."""
