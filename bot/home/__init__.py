"""The app's Home tab: each person's own jobs and their channels' active jobs, kept current."""
