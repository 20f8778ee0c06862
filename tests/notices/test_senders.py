"""Each sender against a real local server: the HTTP SMS adapter (config, body, idempotency,
status mapping, delivery reports), SMTP (Message-ID, permanent refusal), the file sender, and the
config file's refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from notices.config import load_config
from notices.model import Channel, Message
from notices.senders.base import Outgoing, SendFailed
from notices.senders.file import FileSender
from notices.senders.http_sms import HttpSmsConfig, HttpSmsSender, fill, parse_report
from notices.senders.smtp import SmtpConfig, SmtpSender
from tests.notices.fakes import FakeSmsProvider, SmtpSink
from votestore.errors import ConfigError

TOKEN = "t0ken"


def _sms(key: str = "k" * 32, text: str = "hello") -> Outgoing:
    return Outgoing(Channel.SMS, "01012345678", key, Message("subj", text, "SMS"))


def test_body_template_replaces_whole_leaves_only() -> None:
    template = {"msg": {"to": ["$to"], "text": "$text", "note": "say $text"}, "n": 1}
    values = {"$to": "010", "$text": '"}, "evil": {'}
    assert fill(template, values) == {
        "msg": {"to": ["010"], "text": '"}, "evil": {', "note": "say $text"},
        "n": 1,
    }


def test_report_parsing_reads_configured_fields() -> None:
    config = HttpSmsConfig(
        "http://x/",
        "02",
        report_status_field="result.code",
        delivered_values=("4100",),
        failed_values=("4400",),
    )
    assert parse_report(config, {"result": {"code": "4100"}}).delivered is True
    failed = parse_report(config, {"result": {"code": "4400"}, "reason": "unreachable"})
    assert failed.delivered is False and failed.reason == "provider_unreachable"
    assert parse_report(config, {"result": {"code": "3000"}}).delivered is None
    assert parse_report(config, ["junk"]).delivered is None
    with pytest.raises(ConfigError):
        HttpSmsConfig("ftp://x/", "02")
    with pytest.raises(ConfigError):
        HttpSmsConfig("http://x/", "02", report_url="http://x/status")


def test_http_sms_idempotency_failures_and_reports() -> None:
    async def scenario(provider: FakeSmsProvider) -> None:
        config = HttpSmsConfig(
            provider.url,
            "0200000000",
            auth_value=f"Bearer {TOKEN}",
            report_url=provider.url + "/{message_id}",
        )
        sender = HttpSmsSender(config)
        try:
            first = await sender.send(_sms())
            again = await sender.send(_sms())  # the same key: the provider sends nothing new
            assert first.provider_id == again.provider_id and not first.final
            with pytest.raises(SendFailed) as failed:  # the 3rd request: fails before the work
                await sender.send(_sms("x" * 32))
            assert failed.value.transient and failed.value.reason == "http_503"
            assert (await sender.report(first.provider_id)).delivered is None  # SENT, not yet
            await asyncio.sleep(0.25)
            assert (await sender.report(first.provider_id)).delivered is True
            assert (await sender.report("m999")).delivered is None
        finally:
            await sender.close()
        bad = HttpSmsSender(HttpSmsConfig(provider.url, "02", auth_value="Bearer wrong"))
        try:
            with pytest.raises(SendFailed) as refused:
                await bad.send(_sms("y" * 32))
            assert not refused.value.transient and refused.value.reason == "http_401"
        finally:
            await bad.close()

    with FakeSmsProvider(fail_every=3, max_delay_s=0, report_delay_s=0.2, token=TOKEN) as provider:
        asyncio.run(scenario(provider))
    assert provider.log.created == {"k" * 32: 1}
    assert provider.log.bodies == [
        {"to": "01012345678", "from": "0200000000", "type": "SMS", "subject": "subj", "text": "hello"}
    ]


def test_http_sms_unreachable_provider_is_transient() -> None:
    async def scenario() -> None:
        sender = HttpSmsSender(HttpSmsConfig("http://127.0.0.1:9/none", "02", timeout_s=2))
        try:
            with pytest.raises(SendFailed) as failed:
                await sender.send(_sms())
            assert failed.value.transient
        finally:
            await sender.close()

    asyncio.run(scenario())


def test_smtp_message_id_is_the_key_and_refusal_is_permanent() -> None:
    async def scenario(sink: SmtpSink) -> None:
        sender = SmtpSender(SmtpConfig("127.0.0.1", sink.port, "notices@votestore.test", domain="d.test"))
        mail = Outgoing(Channel.MAIL, "a@example.test", "a" * 32, Message("Subj 한글", "본문 body\n", ""))
        accepted = await sender.send(mail)
        assert accepted.final and accepted.provider_id == f"<{'a' * 32}@d.test>"
        with pytest.raises(SendFailed) as refused:
            await sender.send(Outgoing(Channel.MAIL, "gone@example.test", "b" * 32, mail.message))
        assert not refused.value.transient

    with SmtpSink(refuse=frozenset({"gone@example.test"})) as sink:
        asyncio.run(scenario(sink))
    assert sink.received == {f"<{'a' * 32}@d.test>": 1}


def test_file_sender_writes_private_files_idempotently(tmp_path: Path) -> None:
    sender = FileSender(tmp_path / "out")
    outgoing = Outgoing(Channel.SMS, "010", "c" * 32, Message("s", "link here", "LMS"))
    first = asyncio.run(sender.send(outgoing))
    second = asyncio.run(sender.send(outgoing))
    path = Path(first.provider_id)
    assert first == second and path.read_text().endswith("link here\n")
    assert path.stat().st_mode & 0o077 == 0 and len(list(path.parent.iterdir())) == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[nope]\n", "unknown section"),
        ("[policy]\nconcurency = 3\n", "unknown key"),
        ("[policy]\nconcurrency = 0\n", "policy"),
        ('[sms]\nkind = "smtp"\n', "kind"),
        (
            '[sms]\nkind = "http"\nurl = "http://x/"\nsender_number = "0"\nauth_env = "NOT_SET_ANYWHERE_X"\n',
            "not set",
        ),
        ("[policy\n", "notices.toml"),
    ],
)
def test_config_refusals(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "notices.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(path)


def test_config_builds_senders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_TOKEN_FOR_TEST", "s3cret")
    path = tmp_path / "notices.toml"
    path.write_text(
        '[templates]\nsms_bytes = 80\n[mail]\nkind = "file"\ndir = "out"\n'
        '[sms]\nkind = "http"\nurl = "https://sms.example/v1"\nsender_number = "02"\n'
        'auth_env = "SMS_TOKEN_FOR_TEST"\nauth_prefix = "Bearer "\ndelivered_values = ["D", "OK"]\n'
        '[sms.body]\nmsg = "$text"\n'
    )
    config = load_config(path)
    senders = config.senders()
    sms = senders[Channel.SMS]
    assert isinstance(sms, HttpSmsSender) and isinstance(senders[Channel.MAIL], FileSender)
    assert sms.config.auth_value == "Bearer s3cret" and "s3cret" not in repr(sms.config)
    assert sms.config.delivered_values == ("D", "OK") and config.rules.sms_bytes == 80
    asyncio.run(sms.close())
