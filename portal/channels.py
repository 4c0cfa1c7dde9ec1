"""Channels that carry a notification out of the building: e-mail (SMTP, STARTTLS or TLS),
企业微信 (WeCom) group-robot webhook and 钉钉 (DingTalk) robot webhook with its signing secret.

Each channel is switched on by configuration (``channels_from_config``); a channel that is not
configured is simply absent. A transport raises ``ChannelError`` when the message was not
accepted, with a one-line reason kept on the outbox row. The texts are built by the outbox
(a title and a link only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

TIMEOUT = 10  # seconds per delivery attempt


class ChannelError(Exception):
    """The channel did not accept the message (retried later)."""


@dataclass
class Outgoing:
    """One message: who, a subject line, a short text and the link to the record."""

    message_id: str          # stable per outbox row (e-mail Message-ID; receivers may dedupe)
    to_name: str
    to_address: str | None   # e-mail address (e-mail only)
    subject: str
    text: str
    link: str


class Channel(Protocol):
    name: str

    def send(self, msg: Outgoing) -> None: ...


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, tls: str = "starttls",
                 user: str | None = None, password: str | None = None,
                 ca_file: str | None = None) -> None:
        if tls not in ("starttls", "ssl", "none"):
            raise ValueError("SMTP_TLS must be starttls, ssl or none")
        self.host, self.port, self.sender, self.tls = host, port, sender, tls
        self.user, self.password, self.ca_file = user, password, ca_file

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def send(self, msg: Outgoing) -> None:
        if not msg.to_address:
            raise ChannelError("no e-mail address")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = formataddr((msg.to_name, msg.to_address))
        mail["Subject"] = msg.subject
        mail["Message-ID"] = msg.message_id
        mail.set_content(f"{msg.text}\n\n{msg.link}\n")
        try:
            if self.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
            with smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=self._context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"smtp: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if refused:
            raise ChannelError(f"smtp: recipient refused: {refused}")


def _post_json(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            answer = json.loads(resp.read().decode() or "{}")
    except (OSError, ValueError) as exc:
        raise ChannelError(f"webhook: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if answer.get("errcode", 0) != 0:
        raise ChannelError(f"webhook: errcode {answer.get('errcode')}: "
                           f"{str(answer.get('errmsg'))[:200]}")
    return answer


def _markdown(msg: Outgoing) -> str:
    return f"**{msg.subject}**\n\n{msg.to_name}：{msg.text}\n\n[{msg.link}]({msg.link})"


class WeComChannel:
    """企业微信群机器人: POST ``{"msgtype": "markdown", …}`` to the robot's webhook URL."""

    name = "wecom"

    def __init__(self, webhook_url: str) -> None:
        self.url = webhook_url

    def send(self, msg: Outgoing) -> None:
        _post_json(self.url, {"msgtype": "markdown", "markdown": {"content": _markdown(msg)}})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 robot signature: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    raw = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(raw.digest()).decode()


class DingTalkChannel:
    """钉钉自定义机器人 with 加签: the URL gets ``timestamp`` and ``sign``."""

    name = "dingtalk"

    def __init__(self, webhook_url: str, secret: str | None = None) -> None:
        self.url, self.secret = webhook_url, secret

    def send(self, msg: Outgoing) -> None:
        url = self.url
        if self.secret:
            ts = int(time.time() * 1000)
            sign = urllib.parse.quote_plus(dingtalk_sign(self.secret, ts))
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={sign}"
        _post_json(url, {"msgtype": "markdown",
                         "markdown": {"title": msg.subject, "text": _markdown(msg)}})


def channels_from_config(config: Any) -> dict[str, Channel]:
    """The channels switched on by configuration (Flask config mapping)."""
    out: dict[str, Channel] = {}
    if config.get("SMTP_HOST"):
        out["email"] = EmailChannel(
            config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587),
            config.get("SMTP_FROM") or "portal@localhost",
            tls=(config.get("SMTP_TLS") or "starttls").lower(), user=config.get("SMTP_USER"),
            password=config.get("SMTP_PASSWORD"), ca_file=config.get("SMTP_CA_FILE"))
    if config.get("WECOM_WEBHOOK_URL"):
        out["wecom"] = WeComChannel(config["WECOM_WEBHOOK_URL"])
    if config.get("DINGTALK_WEBHOOK_URL"):
        out["dingtalk"] = DingTalkChannel(config["DINGTALK_WEBHOOK_URL"],
                                          config.get("DINGTALK_SECRET"))
    return out


def new_message_id(outbox_id: int, domain: str = "customer-archive") -> str:
    """A Message-ID stable for one outbox row, so a retried delivery carries the same id."""
    return f"<outbox-{outbox_id}@{domain}>" if outbox_id else make_msgid(domain=domain)
