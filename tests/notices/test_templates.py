"""Templates: every kind renders in both languages; SMS/LMS by EUC-KR (CP949) bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from notices.model import Channel, Kind
from notices.templates import LANGUAGES, Renderer, SmsRules, TemplateError, sms_type

LINK = "votestore://cast?election=e1&credential=" + "ab" * 32


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", list(Kind))
def test_every_template_renders(kind: Kind, lang: str) -> None:
    renderer = Renderer()
    values = {"election": "Board 2026", "link": LINK, "closes": "2026-12-09 18:00", "result": "https://x/r"}
    mail = renderer.render(kind, lang, Channel.MAIL, values)
    sms = renderer.render(kind, lang, Channel.SMS, values)
    assert "Board 2026" in mail.subject and mail.text.strip()
    assert sms.sms_type in ("SMS", "LMS")
    if kind is Kind.LINK:
        assert LINK in mail.text and LINK in sms.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 90, "SMS"),
        ("a" * 91, "LMS"),
        ("가" * 45, "SMS"),  # 2 bytes per Hangul syllable in EUC-KR/CP949
        ("가" * 46, "LMS"),
        ("똠" * 45, "SMS"),  # outside KS X 1001's 2,350 syllables, still 2 bytes in CP949
        ("a" * 2000, "LMS"),
    ],
)
def test_sms_length_counts_korean_bytes(text: str, expected: str) -> None:
    assert sms_type(text, SmsRules()) == expected


def test_sms_too_long_or_unencodable_is_refused() -> None:
    with pytest.raises(TemplateError, match="exceeds"):
        sms_type("a" * 2001, SmsRules())
    with pytest.raises(TemplateError, match="not in cp949"):
        sms_type("vote now \U0001f5f3", SmsRules())
    assert sms_type("a" * 100, SmsRules(sms_bytes=140)) == "SMS"


def test_sandbox_and_strict_undefined(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "result.j2").write_text(
        "{% block subject %}{{ election.__class__.__mro__ }}{% endblock %}"
        "{% block sms %}x{% endblock %}{% block mail %}x{% endblock %}"
    )
    with pytest.raises(TemplateError):
        Renderer(tmp_path).render(Kind.RESULT, "en", Channel.MAIL, {"election": "e"})
    (tmp_path / "en" / "closing.j2").write_text(
        "{% block subject %}{{ nme }}{% endblock %}"
        "{% block sms %}x{% endblock %}{% block mail %}x{% endblock %}"
    )
    with pytest.raises(TemplateError, match="nme"):
        Renderer(tmp_path).render(Kind.CLOSING, "en", Channel.MAIL, {"election": "e"})
    with pytest.raises(TemplateError, match="language"):
        Renderer().render(Kind.LINK, "fr", Channel.MAIL, {})
