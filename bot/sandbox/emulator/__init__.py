"""A local emulator of the OpenAI / Azure AI Foundry v1 fine-tuning and files API (`tuneops emulator`).

`server.EmulatorServer` is the HTTP server, `control.EmulatorControl` drives its `/_emulator/` endpoints.
"""
