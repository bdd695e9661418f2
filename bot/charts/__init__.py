"""The loss curve of a job: its figures gathered from the API (`curves`) and drawn as a PNG (`render`)."""
