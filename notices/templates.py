"""Rendering notices: Jinja2 in its sandbox, one template per (language, campaign kind), each with
three blocks — `subject`, `sms`, `mail` — so a campaign's wording lives in one file per language.

Sandboxed because operators edit templates (a template must not reach Python objects); undefined
variables are errors (a typo must not send "Hello ," to a million voters); autoescape is on for
`.html` templates (mail is sent as plain text today, so none exist yet).

SMS length: Korean providers count bytes in EUC-KR — one byte per ASCII character, two per
Hangul syllable — and take a short message (SMS) up to 90 bytes, a long one (LMS) up to 2000.
We count in CP949 (Microsoft's extension of EUC-KR that encodes all 11,172 Hangul syllables in
two bytes each, as the providers' own counters do); a character outside it (an emoji) is refused
at render time rather than mangled by a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import jinja2
import jinja2.sandbox

from notices.model import Channel, Kind, Message
from votestore.errors import ConfigError

LANGUAGES: Final = ("ko", "en")
TEMPLATE_DIR: Final = Path(__file__).parent / "templates"
SMS_ENCODING: Final = "cp949"
SMS_BYTES: Final = 90
LMS_BYTES: Final = 2000
VARIABLES: Final = ("election", "link", "closes", "result")
"""Every template sees exactly these (empty when a campaign has none)."""


@dataclass(frozen=True, slots=True)
class SmsRules:
    """Byte limits of the provider; `sms_bytes` is the short-message limit."""

    sms_bytes: int = SMS_BYTES
    lms_bytes: int = LMS_BYTES
    encoding: str = SMS_ENCODING


class TemplateError(ConfigError):
    """A template that does not render, or renders to a message no channel can carry."""


def sms_type(text: str, rules: SmsRules) -> str:
    """ "SMS" if the text fits the short-message limit, "LMS" if the long one; else TemplateError."""
    try:
        size = len(text.encode(rules.encoding))
    except UnicodeEncodeError as e:
        raise TemplateError(f"SMS text holds {text[e.start : e.end]!r}, not in {rules.encoding}") from None
    if size <= rules.sms_bytes:
        return "SMS"
    if size <= rules.lms_bytes:
        return "LMS"
    raise TemplateError(f"SMS text of {size} bytes exceeds the long-message limit {rules.lms_bytes}")


class Renderer:
    """Renders a campaign's message per language and channel."""

    def __init__(self, directory: Path = TEMPLATE_DIR, rules: SmsRules | None = None) -> None:
        self._env = jinja2.sandbox.SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(directory),
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            keep_trailing_newline=False,
        )
        self.rules = rules or SmsRules()

    def render(self, kind: Kind, lang: str, channel: Channel, values: dict[str, str]) -> Message:
        if lang not in LANGUAGES:
            raise TemplateError(f"language {lang!r} not supported (have {', '.join(LANGUAGES)})")
        unknown = set(values) - set(VARIABLES)
        if unknown:
            raise TemplateError(f"unknown template variable(s) {sorted(unknown)}")
        context_values = {name: values.get(name, "") for name in VARIABLES}
        try:
            template = self._env.get_template(f"{lang}/{kind.value}.j2")
            context = template.new_context(context_values)
            subject = "".join(template.blocks["subject"](context)).strip()
            body = "".join(template.blocks[channel.value](context)).strip()
        except jinja2.TemplateError as e:
            raise TemplateError(f"template {lang}/{kind.value}: {e.message}") from None
        except KeyError as e:
            raise TemplateError(f"template {lang}/{kind.value} lacks block {e}") from None
        if channel is Channel.SMS:
            return Message(subject, body, sms_type(body, self.rules))
        return Message(subject, body + "\n", "")
