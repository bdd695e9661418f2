"""The sandbox: the fine-tuning API emulator, the Slack stand-in and `tuneops sandbox`."""
