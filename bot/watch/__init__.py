"""The watcher: reads the fine-tuning API on a schedule and records what changed."""
