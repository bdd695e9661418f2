"""Training files from Slack: read the file object, download its bytes with the bot token, check them.

The bot token goes only to Slack's own file host (`files.slack.com`) or to the host of `SLACK_API_URL`
(the stand-in, or a Slack-compatible gateway): a file object naming any other address is refused rather
than sent a credential. Slack answers a download that lacks the `files:read` scope with a sign-in page
(HTML, status 200), not an error; that is caught and said plainly. Files are streamed into a spooled
temporary file (memory up to a few MB, disk beyond) and checked off the event loop.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.jobs.prices import load_price_table
from bot.preflight.checks import Method
from bot.preflight.report import Report
from bot.preflight.validate import MAX_FILE_BYTES, Options, validate_stream

SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
IN_MEMORY_BYTES = 8 * 1024 * 1024
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, read=120.0)


class FileUnavailable(Exception):
    """The file cannot be checked; the message says why in plain words."""


@dataclass(frozen=True)
class SlackFile:
    id: str
    name: str
    size: int | None
    url_private: str | None

    @classmethod
    def from_object(cls, file: dict[str, Any]) -> SlackFile | None:
        file_id = file.get("id")
        if not isinstance(file_id, str) or not file_id:
            return None
        name = file.get("name") or file.get("title") or file_id
        size = file.get("size")
        url = file.get("url_private_download") or file.get("url_private")
        return cls(
            id=file_id,
            name=str(name),
            size=size if isinstance(size, int) else None,
            url_private=url if isinstance(url, str) else None,
        )

    @property
    def is_jsonl(self) -> bool:
        return self.name.lower().endswith(".jsonl")


async def file_info(client: AsyncWebClient, file_id: str) -> SlackFile:
    """The full file object from `files.info` (an event may carry only the id)."""
    try:
        answer = await client.files_info(file=file_id)
    except SlackApiError as exc:
        raise FileUnavailable(f"Slack would not describe the file ({exc.response.get('error')})") from None
    found = SlackFile.from_object(answer.get("file") or {})
    if found is None:
        raise FileUnavailable("Slack answered without the file")
    return found


async def download(settings: Settings, file: SlackFile) -> IO[bytes]:
    """The file's bytes in a temporary file (rewound), or `FileUnavailable`."""
    if file.size is not None and file.size > MAX_FILE_BYTES:
        raise FileUnavailable(
            f"`{file.name}` is {file.size / 1024 / 1024:,.0f} MB; the Files API takes at most 512 MB per file"
        )
    if not file.url_private:
        raise FileUnavailable(f"Slack gave no download address for `{file.name}`")
    if not _may_carry_token(settings, file.url_private):
        raise FileUnavailable(f"`{file.name}` is not hosted by Slack, so the bot will not fetch it")
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    spooled = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 (returned open)
    try:
        await _fetch(file.url_private, token, file.name, spooled)
    except httpx.HTTPError as exc:
        spooled.close()
        raise FileUnavailable(f"the download from Slack failed ({type(exc).__name__})") from None
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


async def _fetch(url: str, token: str, name: str, into: IO[bytes]) -> None:
    async with (
        httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=False) as http,
        http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        if response.status_code != 200:
            raise FileUnavailable(f"Slack answered HTTP {response.status_code} to the download")
        if response.headers.get("content-type", "").startswith("text/html"):
            raise FileUnavailable(
                "Slack sent a sign-in page instead of the file: the app needs the `files:read` scope "
                "(reinstall it from its manifest)"
            )
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > MAX_FILE_BYTES:
                raise FileUnavailable(f"`{name}` is over 512 MB, the Files API's limit per file")
            into.write(chunk)


async def check_file(
    settings: Settings,
    file: SlackFile,
    *,
    model: str,
    epochs: int | None,
    method: Method | None,
) -> tuple[Report, IO[bytes]]:
    """Download and validate; the caller owns (and closes) the returned bytes."""
    content = await download(settings, file)
    try:
        chosen: Method = method if method is not None else await asyncio.to_thread(guess_method, content)
        options = Options(model=model, epochs=epochs, method=chosen)
        prices = load_price_table(settings.prices_file)
        report = await asyncio.to_thread(validate_stream, content, options, prices, source=file.name)
    except BaseException:
        content.close()
        raise
    content.seek(0)
    return report, content


def guess_method(content: IO[bytes]) -> Method:
    """DPO when the first non-blank line has DPO's keys, else supervised (the stream is rewound)."""
    try:
        for line in content:
            if line.strip():
                return (
                    "dpo"
                    if b'"preferred_output"' in line or b'"non_preferred_output"' in line
                    else "supervised"
                )
        return "supervised"
    finally:
        content.seek(0)


def _may_carry_token(settings: Settings, url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    api_host = (urlsplit(settings.slack_api_url).hostname or "").lower()
    if host in SLACK_FILE_HOSTS:
        return parts.scheme == "https"
    return bool(host) and host == api_host and parts.scheme in ("http", "https")
