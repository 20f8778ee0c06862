"""The sender config file (TOML): which sender serves each channel, the delivery policy and the
SMS length rules. Secrets are never in the file: it names environment variables that hold them
(`auth_env`, `password_env`).

    [policy]                      # notices.delivery.Policy fields
    concurrency = 8
    [templates]
    sms_bytes = 90                # short-message limit, CP949 bytes
    lms_bytes = 2000
    [mail]
    kind = "smtp"                 # or "file" with dir = "..."
    host = "127.0.0.1"
    port = 25
    sender = "notices@example.org"
    [sms]
    kind = "http"                 # or "file"
    url = "https://sms.example/v1/messages"
    sender_number = "0212345678"
    auth_env = "SMS_API_TOKEN"    # the auth header's value, with auth_prefix before it
    auth_prefix = "Bearer "
    report_url = "https://sms.example/v1/messages/{message_id}"
    [sms.body]                    # JSON body; "$to" "$from" "$type" "$subject" "$text" "$key"
    to = "$to"
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from notices.delivery import Policy
from notices.model import Channel
from notices.senders.base import Sender
from notices.senders.file import FileSender
from notices.senders.http_sms import HttpSmsConfig, HttpSmsSender
from notices.senders.smtp import SmtpConfig, SmtpSender
from notices.templates import SmsRules
from votestore.errors import ConfigError

MAX_CONFIG_BYTES: Final = 256 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NoticesConfig:
    policy: Policy
    rules: SmsRules
    channels: dict[Channel, dict[str, Any]]

    def senders(self) -> dict[Channel, Sender]:
        return {channel: make_sender(channel, table) for channel, table in self.channels.items()}


def load_config(path: Path) -> NoticesConfig:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} exceeds {MAX_CONFIG_BYTES} bytes")
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    unknown = set(document) - {"policy", "templates", "mail", "sms"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}")
    policy = _build(Policy, document.get("policy", {}), "policy")
    rules = _build(SmsRules, document.get("templates", {}), "templates")
    channels = {Channel(name): dict(document[name]) for name in ("mail", "sms") if name in document}
    for channel, table in channels.items():
        make_sender(channel, table)  # refuse a bad table now, not half-way through a campaign
    return NoticesConfig(policy, rules, channels)


def make_sender(channel: Channel, table: dict[str, Any]) -> Sender:
    fields = dict(table)
    kind = fields.pop("kind", "")
    where = channel.value
    if kind == "file":
        return FileSender(Path(str(fields.pop("dir", "notices-out"))), float(fields.pop("rate_per_s", 0)))
    if kind == "smtp" and channel is Channel.MAIL:
        password_env = str(fields.pop("password_env", ""))
        fields["password"] = _env(password_env, where) if password_env else ""
        return SmtpSender(_build(SmtpConfig, fields, where))
    if kind == "http" and channel is Channel.SMS:
        auth_env = str(fields.pop("auth_env", ""))
        prefix = str(fields.pop("auth_prefix", ""))
        fields["auth_value"] = prefix + _env(auth_env, where) if auth_env else ""
        for name in ("delivered_values", "failed_values"):
            if name in fields:
                fields[name] = tuple(str(v) for v in fields[name])
        return HttpSmsSender(_build(HttpSmsConfig, fields, where))
    raise ConfigError(f"[{where}] kind {kind!r}: use 'file', or 'smtp' for mail, 'http' for sms")


def _env(name: str, where: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"[{where}] names environment variable {name}, which is not set")
    return value


def _build(cls: type[T], table: dict[str, Any], where: str) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(table) - names
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s) {sorted(unknown)} (known: {sorted(names)})")
    try:
        return cls(**table)
    except (TypeError, AssertionError) as e:
        raise ConfigError(f"[{where}] {e}") from None
