"""A channel's daily digest and quiet hours: when they fall, what they say, and their delivery."""
