"""The checks of one training example (one parsed line), and its token count.

Tokens are counted the way OpenAI's cookbook estimates a chat example: the exact tokens of every text (role,
content, name, tool calls, tool definitions) plus 3 per message, 1 per name and 3 per example for the
chat format's framing. The texts are counted exactly; the framing is the cookbook's estimate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.preflight.problems import Kind

Method = Literal["supervised", "dpo"]

ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
MESSAGE_KEYS = frozenset({"role", "content", "name", "weight", "tool_calls", "function_call", "tool_call_id"})
CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
DPO_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
# Control tokens of OpenAI's tokenizers: the API refuses training text that contains them.
SPECIAL_TOKENS = re.compile(
    r"<\|(?:endoftext|endofprompt|fim_prefix|fim_middle|fim_suffix|im_start|im_end|im_sep|startoftext)\|>"
)

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_PER_EXAMPLE = 3

Counter = Callable[[str], int]


@dataclass
class Checked:
    problems: list[tuple[Kind, str]] = field(default_factory=list)
    messages: int = 0
    tokens: int = 0

    def problem(self, kind: Kind, detail: str) -> None:
        self.problems.append((kind, detail))


class ExampleChecker:
    def __init__(self, method: Method, count_tokens: Counter) -> None:
        self.method = method
        self._count = count_tokens

    def check(self, example: dict[str, Any]) -> Checked:
        checked = Checked()
        looks_dpo = "input" in example or "preferred_output" in example
        if self.method == "supervised" and looks_dpo and "messages" not in example:
            checked.problem(Kind.WRONG_METHOD, "a DPO example in a supervised file (use --method dpo)")
        elif self.method == "dpo" and "messages" in example and not looks_dpo:
            checked.problem(Kind.WRONG_METHOD, "a supervised (chat) example in a DPO file")
        elif self.method == "dpo":
            self._dpo(example, checked)
        else:
            self._chat(example, checked)
        checked.tokens += TOKENS_PER_EXAMPLE
        return checked

    # ---- supervised -------------------------------------------------------------------------------------

    def _chat(self, example: dict[str, Any], checked: Checked) -> None:
        self._unknown_keys(example, CHAT_KEYS, "", checked)
        self._tools(example, "", checked)
        messages = example.get("messages")
        if not isinstance(messages, list) or not messages:
            checked.problem(
                Kind.MISSING_MESSAGES,
                "`messages` is missing" if messages is None else "`messages` is empty or not a list",
            )
            return
        self._messages(messages, "messages", checked)
        if not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
            checked.problem(Kind.NO_ASSISTANT, "no message has the role assistant")

    # ---- DPO --------------------------------------------------------------------------------------------

    def _dpo(self, example: dict[str, Any], checked: Checked) -> None:
        self._unknown_keys(example, DPO_KEYS, "", checked)
        given = example.get("input")
        if not isinstance(given, dict):
            checked.problem(Kind.BAD_DPO, "`input` must be an object with `messages`")
        else:
            self._unknown_keys(given, DPO_INPUT_KEYS, "input.", checked)
            self._tools(given, "input.", checked)
            messages = given.get("messages")
            if not isinstance(messages, list) or not messages:
                checked.problem(Kind.BAD_DPO, "`input.messages` is missing or empty")
            else:
                self._messages(messages, "input.messages", checked)
                roles = [m.get("role") for m in messages if isinstance(m, dict)]
                if "assistant" in roles or (roles and roles[-1] != "user"):
                    checked.problem(
                        Kind.BAD_DPO,
                        "DPO trains on a single turn: `input.messages` must end with the user's message "
                        "and hold no assistant message",
                    )
        outputs = []
        for key in ("preferred_output", "non_preferred_output"):
            output = example.get(key)
            if (
                not isinstance(output, list)
                or len(output) != 1
                or not isinstance(output[0], dict)
                or output[0].get("role") != "assistant"
            ):
                checked.problem(Kind.BAD_DPO, f"`{key}` must be a list of exactly one assistant message")
                continue
            self._messages(output, key, checked)
            outputs.append(output[0])
        if len(outputs) == 2 and outputs[0] == outputs[1]:
            checked.problem(Kind.BAD_DPO, "`preferred_output` and `non_preferred_output` are the same")

    # ---- shared -----------------------------------------------------------------------------------------

    def _unknown_keys(self, obj: dict[str, Any], known: frozenset[str], where: str, checked: Checked) -> None:
        for key in obj:
            if key not in known:
                checked.problem(Kind.UNKNOWN_KEY, f"unknown key `{where}{key}`")

    def _messages(self, messages: list[Any], where: str, checked: Checked) -> None:
        for index, message in enumerate(messages):
            label = f"{where}[{index}]"
            if not isinstance(message, dict):
                checked.problem(Kind.NOT_OBJECT, f"{label} is not an object")
                continue
            checked.messages += 1
            checked.tokens += TOKENS_PER_MESSAGE
            self._message(message, label, checked)

    def _message(self, message: dict[str, Any], label: str, checked: Checked) -> None:
        for key in message:
            if key not in MESSAGE_KEYS:
                checked.problem(Kind.UNKNOWN_KEY, f"unknown key `{key}` in {label}")
        role = message.get("role")
        if role not in ROLES:
            checked.problem(Kind.BAD_ROLE, f"{label} has the role {json.dumps(role)}")
        else:
            self._text(role, checked)
        calls = message.get("tool_calls")
        legacy_call = message.get("function_call")
        if "weight" in message:
            weight = message["weight"]
            if isinstance(weight, bool) or weight not in (0, 1):
                checked.problem(Kind.BAD_WEIGHT, f"{label} has weight {json.dumps(weight)} (only 0 or 1)")
            elif role != "assistant":
                checked.problem(Kind.BAD_WEIGHT, f"{label}: only assistant messages take a weight")
        content = message.get("content")
        calls_instead = role == "assistant" and (calls is not None or legacy_call is not None)
        if content is None or content == "" or content == []:
            if not calls_instead:
                checked.problem(Kind.MISSING_CONTENT, f"{label} has no content")
        else:
            self._content(content, label, checked)
        name = message.get("name")
        if name is not None:
            if isinstance(name, str):
                checked.tokens += TOKENS_PER_NAME
                self._text(name, checked)
            else:
                checked.problem(Kind.UNKNOWN_KEY, f"`name` of {label} is not a string")
        self._calls(message, role, label, checked)

    def _content(self, content: Any, label: str, checked: Checked) -> None:
        if isinstance(content, str):
            self._text(content, checked)
            return
        if not isinstance(content, list):
            checked.problem(Kind.MISSING_CONTENT, f"content of {label} is neither text nor a list of parts")
            return
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                self._text(part["text"], checked)
            elif isinstance(part, dict) and part.get("type") == "image_url":
                continue  # images are billed by size, not by text tokens
            else:
                checked.problem(Kind.MISSING_CONTENT, f"content of {label} has a part that is not text")

    def _calls(self, message: dict[str, Any], role: Any, label: str, checked: Checked) -> None:
        calls = message.get("tool_calls")
        if calls is not None:
            if role != "assistant":
                checked.problem(Kind.BAD_TOOL_CALL, f"{label}: only assistant messages make tool calls")
            if not isinstance(calls, list) or not calls:
                checked.problem(Kind.BAD_TOOL_CALL, f"`tool_calls` of {label} must be a non-empty list")
            else:
                for n, call in enumerate(calls):
                    function = call.get("function") if isinstance(call, dict) else None
                    if (
                        not isinstance(call, dict)
                        or not isinstance(call.get("id"), str)
                        or call.get("type", "function") != "function"
                        or not isinstance(function, dict)
                    ):
                        checked.problem(
                            Kind.BAD_TOOL_CALL,
                            f"tool call {n} of {label} needs `id`, `type: function` and `function`",
                        )
                        continue
                    self._function_call(function, f"tool call {n} of {label}", checked)
        legacy = message.get("function_call")
        if legacy is not None:
            if role != "assistant" or not isinstance(legacy, dict):
                checked.problem(Kind.BAD_TOOL_CALL, f"`function_call` of {label} is malformed")
            else:
                self._function_call(legacy, f"`function_call` of {label}", checked)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            checked.problem(Kind.BAD_TOOL_CALL, f"{label} (a tool result) has no `tool_call_id`")
        if role == "function" and not isinstance(message.get("name"), str):
            checked.problem(Kind.BAD_TOOL_CALL, f"{label} (a function result) has no `name`")

    def _function_call(self, function: dict[str, Any], label: str, checked: Checked) -> None:
        name, arguments = function.get("name"), function.get("arguments")
        if not isinstance(name, str) or not name:
            checked.problem(Kind.BAD_TOOL_CALL, f"{label} has no function name")
        else:
            self._text(name, checked)
        if not isinstance(arguments, str):
            checked.problem(Kind.BAD_TOOL_CALL, f"the arguments of {label} must be a JSON string")
            return
        try:
            json.loads(arguments)
        except ValueError:
            checked.problem(Kind.BAD_TOOL_CALL, f"the arguments of {label} are not valid JSON")
        self._text(arguments, checked)

    def _tools(self, obj: dict[str, Any], where: str, checked: Checked) -> None:
        for key in ("tools", "functions"):
            if key not in obj:
                continue
            tools = obj[key]
            if not isinstance(tools, list):
                checked.problem(Kind.BAD_TOOL_CALL, f"`{where}{key}` must be a list")
                continue
            for n, tool in enumerate(tools):
                function = tool.get("function") if key == "tools" and isinstance(tool, dict) else tool
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    checked.problem(Kind.BAD_TOOL_CALL, f"`{where}{key}[{n}]` needs a function with a name")
            # Definitions are billed as the model sees them; their JSON is a close estimate.
            checked.tokens += self._count(json.dumps(tools))

    def _text(self, text: str, checked: Checked) -> None:
        if "<|" in text:
            for token in _special_tokens(text):
                checked.problem(Kind.SPECIAL_TOKEN, f"contains the special token {token}")
        checked.tokens += self._count(text)


def _special_tokens(text: str) -> Iterator[str]:
    yield from dict.fromkeys(match.group(0) for match in SPECIAL_TOKENS.finditer(text))
