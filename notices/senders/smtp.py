"""Mail through an SMTP relay with aiosmtplib.

The idempotency key becomes the Message-ID, so a receiver (and our tests) can count duplicates;
SMTP has no idempotency of its own, so a message in flight at a crash may arrive twice. A 4xx
reply or a lost connection is transient; a 5xx reply or a refused recipient is permanent.
Acceptance by the relay is recorded as delivered: SMTP gives no later report we read.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from notices.senders.base import Accepted, Outgoing, SendFailed


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    domain: str = "notices.votestore.invalid"
    """The right side of Message-IDs."""
    starttls: bool = False
    use_tls: bool = False
    username: str = ""
    password: str = ""
    timeout_s: float = 30.0
    rate_per_s: float = 0.0

    def __repr__(self) -> str:
        return f"SmtpConfig({self.host}:{self.port}, from={self.sender})"


def message_id(idem_key: str, domain: str) -> str:
    return f"<{idem_key}@{domain}>"


class SmtpSender:
    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.rate_per_s = config.rate_per_s

    def _mail(self, outgoing: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = outgoing.address
        mail["Subject"] = outgoing.message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(outgoing.idem_key, self.config.domain)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(outgoing.message.text)
        return mail

    async def send(self, outgoing: Outgoing) -> Accepted:
        config = self.config
        try:
            await aiosmtplib.send(
                self._mail(outgoing),
                hostname=config.host,
                port=config.port,
                start_tls=config.starttls,
                use_tls=config.use_tls,
                username=config.username or None,
                password=config.password or None,
                timeout=config.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused:
            raise SendFailed("recipient_refused", transient=False) from None
        except aiosmtplib.SMTPResponseException as e:
            raise SendFailed(f"smtp_{e.code}", transient=400 <= e.code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            raise SendFailed(f"smtp_{type(e).__name__}", transient=True) from None
        return Accepted(message_id(outgoing.idem_key, config.domain), final=True)

    async def close(self) -> None:
        return None
