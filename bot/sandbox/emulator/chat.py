"""Chat completions, deterministic from the prompt, so a test can tell which model answered what.

`POST /v1/chat/completions` and `/openai/v1/chat/completions`. The model is a base model, or a succeeded
job's fine-tuned model (OpenAI), or on Azure a deployment's name (it must have finished provisioning).
The answer is `<model> heard “<last user message>”`: the same prompt always gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from bot.sandbox.emulator.api import flavour_of
from bot.sandbox.emulator.errors import ApiError, bad_request, missing_parameter
from bot.sandbox.emulator.management import Management
from bot.sandbox.emulator.state import EmulatorState

CHAT_PATH = "/chat/completions"


def answer_text(model: str, prompt: str) -> str:
    return f"{model} heard “{prompt}”"


class ChatHandlers:
    def __init__(self, state: EmulatorState, management: Management) -> None:
        self.state = state
        self.management = management

    def _served_model(self, name: str, azure: bool) -> str:
        """The model that answers `name`: a deployment's model on Azure, else the model itself."""
        if azure:
            for deployment in self.management.deployments.values():
                if deployment.name == name:
                    state = deployment.state(self.state.clock.now(), self.management.provisioning_seconds)
                    if state != "Succeeded":
                        raise ApiError(
                            400, f"The deployment '{name}' is {state}, not ready.", code="DeploymentNotReady"
                        )
                    return deployment.model
            if ".ft-" not in name:  # a base model, deployed under its own name
                return name
            raise ApiError(
                404,
                f"The API deployment for this resource does not exist: {name}. If you created the deployment "
                "within the last 5 minutes, please wait a moment and try again.",
                code="DeploymentNotFound",
            )
        for record in self.state.jobs.values():
            if record.plan.fine_tuned_model == name:
                if self.state.view(record, with_events=False).status == "succeeded":
                    return name
                break
        if not name.startswith("ft:"):
            return name
        raise ApiError(
            404, f"The model `{name}` does not exist or you do not have access to it.", code="model_not_found"
        )

    async def create(self, request: web.Request) -> web.Response:
        try:
            body: Any = await request.json(loads=json.loads)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        model = body.get("model")
        messages = body.get("messages")
        if not isinstance(model, str) or not model:
            raise missing_parameter("model")
        if not isinstance(messages, list) or not messages:
            raise missing_parameter("messages")
        prompts = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        prompt = str(prompts[-1]) if prompts else ""
        served = self._served_model(model, azure=flavour_of(request) == "azure")
        text = answer_text(served, prompt)
        digest = hashlib.sha1(f"{served}\n{prompt}".encode()).hexdigest()[:24]
        return web.json_response(
            {
                "id": f"chatcmpl-{digest}",
                "object": "chat.completion",
                "created": self.state.clock.unix_at(self.state.clock.now()),
                "model": served,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split())},
            }
        )
