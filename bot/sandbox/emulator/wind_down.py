"""OpenAI's fine-tuning wind-down on the emulator's OpenAI path: an organisation that may no longer train.

`POST /_emulator/wind-down {"training_available": false}` makes every job create on `/v1` answer 403
`training_not_available`, as OpenAI does for organisations it closed (Azure's path is unaffected).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.emulator.errors import ApiError
from bot.sandbox.emulator.flavour import CONTROL_PREFIX, OPENAI_PREFIX, Flavour

REFUSAL = (
    "Fine-tuning is no longer available for this organization: OpenAI is winding down self-serve "
    "fine-tuning. See the deprecations page for the dates."
)


@dataclass
class WindDown:
    training_available: bool = True

    def check(self, method: str, path: str, flavour: Flavour) -> None:
        creating = method == "POST" and path.rstrip("/") == f"{OPENAI_PREFIX}/fine_tuning/jobs"
        if flavour == "openai" and creating and not self.training_available:
            raise ApiError(403, REFUSAL, code="training_not_available")

    def routes(self) -> list[web.RouteDef]:
        async def configure(request: web.Request) -> web.Response:
            try:
                body = await request.json()
            except ValueError:
                body = None
            available = body.get("training_available") if isinstance(body, dict) else None
            if not isinstance(available, bool):
                return web.json_response(
                    {"error": {"message": "'training_available' (true or false) is required"}}, status=400
                )
            self.training_available = available
            return web.json_response({"training_available": self.training_available})

        return [web.post(f"{CONTROL_PREFIX}/wind-down", configure)]
