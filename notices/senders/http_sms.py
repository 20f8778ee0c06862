"""SMS/LMS through a provider's HTTP API (httpx), configured rather than coded per provider.

Typical Korean providers take a JSON POST with the recipient, sender number, type (SMS/LMS),
subject and text, an auth header, and answer a message id; delivery reports come by polling a
status URL (or a webhook) that names the id and a status word. The config says where each of those
is (`HttpSmsConfig`). The body template is JSON whose string leaves equal to `$to`, `$from`,
`$type`, `$subject`, `$text` or `$key` are replaced whole — never spliced into other text, so no
value can change the body's shape.

The idempotency key goes in a header (`idempotency_header`); a provider that honours it answers a
repeat with the first message's id and sends nothing again, which is what makes a resend after a
crash or a lost reply harmless. Replies: 2xx accepted; 408, 425, 429 and 5xx transient; other 4xx
permanent (`http_<code>`). Nothing here logs the text or the auth value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import httpx

from notices.senders.base import Accepted, Outgoing, Report, SendFailed
from votestore.errors import ConfigError

TRANSIENT_STATUS: Final = frozenset({408, 425, 429})
MAX_REPLY_BYTES: Final = 64 * 1024
PLACEHOLDERS: Final = ("$to", "$from", "$type", "$subject", "$text", "$key")


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    url: str
    sender_number: str
    body: dict[str, object] = field(
        default_factory=lambda: {
            "to": "$to",
            "from": "$from",
            "type": "$type",
            "subject": "$subject",
            "text": "$text",
        }
    )
    auth_header: str = "Authorization"
    auth_value: str = field(default="", repr=False)
    idempotency_header: str = "Idempotency-Key"
    message_id_field: str = "messageId"
    report_url: str = ""
    """With `{message_id}`; empty: the provider reports only by webhook."""
    report_status_field: str = "status"
    report_reason_field: str = "reason"
    delivered_values: tuple[str, ...] = ("DELIVERED",)
    failed_values: tuple[str, ...] = ("FAILED",)
    timeout_s: float = 10.0
    rate_per_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"SMS provider url {self.url!r} must be http(s)")
        if self.report_url and "{message_id}" not in self.report_url:
            raise ConfigError("SMS provider report_url must hold {message_id}")


def fill(template: object, values: dict[str, str]) -> object:
    """The body template with whole-leaf placeholders replaced."""
    if isinstance(template, dict):
        return {str(k): fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str) and template in values:
        return values[template]
    return template


def field_at(document: object, dotted: str) -> object:
    for part in dotted.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


def parse_report(config: HttpSmsConfig, document: object) -> Report:
    """A status document (polled or pushed to a webhook) read with the config's field names."""
    status = str(field_at(document, config.report_status_field) or "")
    if status in config.delivered_values:
        return Report(True)
    if status in config.failed_values:
        reason = str(field_at(document, config.report_reason_field) or status)
        return Report(False, f"provider_{reason}"[:60])
    return Report(None)


class HttpSmsSender:
    name = "http-sms"

    def __init__(self, config: HttpSmsConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.rate_per_s = config.rate_per_s
        headers = {config.auth_header: config.auth_value} if config.auth_value else {}
        self._client = httpx.AsyncClient(timeout=config.timeout_s, headers=headers, transport=transport)

    async def send(self, outgoing: Outgoing) -> Accepted:
        config = self.config
        message = outgoing.message
        values = {
            "$to": outgoing.address,
            "$from": config.sender_number,
            "$type": message.sms_type,
            "$subject": message.subject,
            "$text": message.text,
            "$key": outgoing.idem_key,
        }
        headers = {config.idempotency_header: outgoing.idem_key} if config.idempotency_header else {}
        try:
            reply = await self._client.post(config.url, json=fill(config.body, values), headers=headers)
        except httpx.TimeoutException:
            raise SendFailed("timeout", transient=True) from None
        except httpx.HTTPError as e:
            raise SendFailed(f"transport_{type(e).__name__}", transient=True) from None
        code = reply.status_code
        if code >= 500 or code in TRANSIENT_STATUS:
            raise SendFailed(f"http_{code}", transient=True)
        if code >= 300:
            raise SendFailed(f"http_{code}", transient=False)
        provider_id = self._json_field(reply, config.message_id_field)
        if not provider_id:
            raise SendFailed("reply_without_message_id", transient=True)
        return Accepted(provider_id, final=False)

    async def report(self, provider_id: str) -> Report:
        if not self.config.report_url:
            return Report(None)
        url = self.config.report_url.format(message_id=provider_id)
        try:
            reply = await self._client.get(url)
        except httpx.HTTPError:
            return Report(None)
        if reply.status_code != 200 or len(reply.content) > MAX_REPLY_BYTES:
            return Report(None)
        try:
            return parse_report(self.config, reply.json())
        except ValueError:
            return Report(None)

    @staticmethod
    def _json_field(reply: httpx.Response, dotted: str) -> str:
        if len(reply.content) > MAX_REPLY_BYTES:
            return ""
        try:
            value = field_at(reply.json(), dotted)
        except ValueError:
            return ""
        return "" if value is None else str(value)

    async def close(self) -> None:
        await self._client.aclose()
