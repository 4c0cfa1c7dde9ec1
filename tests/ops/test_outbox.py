"""Notifications that leave the building (issue 20): the outbox is written in the event's
transaction; the sender delivers by e-mail (a real SMTP server on loopback, aiosmtpd), 企业微信
and 钉钉 (a real HTTP server standing in for the webhooks) exactly once, retries with backoff,
ends in a dead-letter state the system administrator sees, and a channel's failure never fails
the business transaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import threading
import time
import urllib.parse
from datetime import timedelta
from email import message_from_bytes
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Notification, NotificationChannel, OutboxMessage
from portal import clock
from portal.extensions import db
from portal.outbox_web import send_pending
from portal.services import notifications, outbox

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

REVIEW = "Credit line #%(line)s of %(customer)s is waiting for your review."
DING_SECRET = "SEC-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = _Mailbox()
    port = _free_port()
    ctl = aiosmtpd.Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield box, port
    ctl.stop()


class _Hooks:
    """Records webhook posts; answers ``errcode`` (0 = accepted)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict, dict]] = []
        self.errcode = 0
        self.lock = threading.Lock()


@pytest.fixture
def webhooks():
    hooks = _Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            url = urllib.parse.urlsplit(self.path)
            with hooks.lock:
                hooks.posts.append((url.path, dict(urllib.parse.parse_qsl(url.query)), body))
            answer = json.dumps({"errcode": hooks.errcode, "errmsg": "ok" if not hooks.errcode
                                 else "rejected"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hooks, server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_overrides(smtp_server, webhooks) -> dict:
    port = smtp_server[1]
    hook_port = webhooks[1]
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TLS": "none",
            "SMTP_FROM": "portal@example.cn", "PUBLIC_BASE_URL": "https://archive.example.cn",
            "WECOM_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/cgi-bin/webhook/send?key=k1",
            "DINGTALK_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/robot/send?access_token=t1",
            "DINGTALK_SECRET": DING_SECRET}


def _choose(session, user, *pairs: tuple[str, str]) -> None:
    outbox.set_preferences(session, user, pairs)
    session.commit()


def _event(session, user, *, line: int = 7, customer: str = "华为技术") -> Notification:
    notifications.notify(session, user_ids=[user.id], kind="credit.awaiting_review",
                         message=REVIEW, params={"line": line, "customer": customer},
                         target=("CreditLine", line))
    session.commit()
    return session.scalars(select(Notification).order_by(Notification.id.desc())).first()


def _rows(session, **where) -> list[OutboxMessage]:
    session.expire_all()
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, key) == value)
    return list(session.scalars(stmt))


def test_the_outbox_is_written_in_the_events_transaction(app, session, world):
    world.finance.email = "finance@example.cn"
    _choose(session, world.finance, ("email", "credit"), ("wecom", "*"))
    notifications.notify(session, user_ids=[world.finance.id], kind="credit.awaiting_review",
                         message=REVIEW, params={"line": 1, "customer": "甲"},
                         target=("CreditLine", 1))
    session.rollback()          # the business transaction fails: no message, no phantom
    assert _rows(session) == []
    assert session.scalar(select(func.count(Notification.id))) == 0
    note = _event(session, world.finance)
    rows = _rows(session)
    assert [(r.channel, r.status, r.notification_id) for r in rows] == [
        ("email", "pending", note.id), ("wecom", "pending", note.id)]
    # a group the person did not choose queues nothing outside the portal
    notifications.notify(session, user_ids=[world.finance.id], kind="complaint.assigned",
                         message="Complaint %(number)s was assigned to you.",
                         params={"number": "26110001"}, target=("Complaint", 1))
    session.commit()
    assert [r.channel for r in _rows(session)] == ["email", "wecom", "wecom"]
    # without an e-mail address nothing is queued for e-mail (it could never be delivered)
    world.finance.email = None
    session.commit()
    _event(session, world.finance)
    assert [r.channel for r in _rows(session)] == ["email", "wecom", "wecom", "wecom"]


def test_each_message_is_delivered_once_per_channel_in_the_readers_language(
        app, session, world, smtp_server, webhooks):
    box, _ = smtp_server
    hooks, _ = webhooks
    world.finance.email = "finance@example.cn"
    world.finance.language = "zh_Hans_CN"
    world.gm.email = "gm@example.cn"
    world.gm.language = "en"
    _choose(session, world.finance, ("email", "credit"), ("wecom", "credit"),
            ("dingtalk", "credit"))
    _choose(session, world.gm, ("email", "*"))
    note = _event(session, world.finance, line=12, customer="华为技术")
    _event(session, world.gm, line=12, customer="华为技术")
    report = send_pending(app)
    assert (report.sent, report.failed, report.dead) == (4, 0, 0)
    assert [parseaddr(m["To"])[1] for m in box.messages] == ["finance@example.cn",
                                                             "gm@example.cn"]
    zh, en = (m.get_payload(decode=True).decode() for m in box.messages)
    assert "华为技术 的授信 #12 等待您审核。" in zh
    assert "Credit line #12 of 华为技术 is waiting for your review." in en
    assert f"https://archive.example.cn/notifications/{note.id}/open" in zh
    assert box.messages[0]["Message-ID"].startswith("<outbox-")
    paths = sorted(p for p, _, _ in hooks.posts)
    assert paths == ["/cgi-bin/webhook/send", "/robot/send"]
    wecom = next(b for p, _, b in hooks.posts if p == "/cgi-bin/webhook/send")
    assert wecom["msgtype"] == "markdown" and "等待您审核" in wecom["markdown"]["content"]
    # sending again delivers nothing twice
    assert send_pending(app).sent == 0
    assert len(box.messages) == 2 and len(hooks.posts) == 2
    assert {r.status for r in _rows(session)} == {"sent"}


def test_dingtalk_requests_are_signed_with_the_robots_secret(app, session, world,
                                                             webhooks):
    hooks, _ = webhooks
    _choose(session, world.finance, ("dingtalk", "credit"))
    _event(session, world.finance)
    assert send_pending(app).sent == 1
    (_, query, body), = hooks.posts
    ts = int(query["timestamp"])
    expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert query["sign"] == expected and query["access_token"] == "t1"
    assert abs(ts / 1000 - time.time()) < 60
    assert body["msgtype"] == "markdown" and body["markdown"]["title"]


def test_a_failing_channel_is_retried_with_backoff_then_dead_and_can_be_sent_again(
        app, session, world, webhooks):
    hooks, _ = webhooks
    hooks.errcode = 93000
    _choose(session, world.finance, ("wecom", "credit"))
    note = _event(session, world.finance)
    start = clock.now()
    clock.set_now(start)
    report = send_pending(app)
    assert (report.sent, report.failed) == (0, 1)
    row, = _rows(session)
    assert row.status == "failed" and row.attempts == 1 and "93000" in row.last_error
    assert row.next_attempt_at >= start + timedelta(minutes=1)
    assert session.get(Notification, note.id) is not None   # the event stands
    assert send_pending(app).failed == 0                     # not due yet
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        clock.set_now(clock.now() + timedelta(hours=7))
        send_pending(app)
    row, = _rows(session)
    assert row.status == "dead" and row.attempts == outbox.MAX_ATTEMPTS
    assert outbox.backlog(session)["dead"] == 1
    hooks.errcode = 0
    assert outbox.requeue(session, [row.id]) == 1
    session.commit()
    assert send_pending(app).sent == 1
    assert _rows(session)[0].status == "sent"


def test_an_unreachable_mail_server_fails_the_message_not_the_event(app, session, world):
    app.config["SMTP_PORT"] = _free_port()        # nothing listens there
    world.finance.email = "finance@example.cn"
    _choose(session, world.finance, ("email", "*"))
    _event(session, world.finance)
    report = send_pending(app)
    assert report.failed == 1 and "smtp" in report.errors[0]
    assert _rows(session)[0].status == "failed"


def test_a_killed_sender_leaves_its_lease_and_the_message_is_delivered_once(
        app, session, world, webhooks):
    hooks, _ = webhooks
    _choose(session, world.finance, ("wecom", "credit"))
    _event(session, world.finance)
    start = clock.now()
    me, ids = outbox._claim(session, start, 10)      # a sender claims, then dies
    assert len(ids) == 1
    clock.set_now(start)
    assert send_pending(app).sent == 0               # the lease still holds
    clock.set_now(start + outbox.LEASE + timedelta(seconds=1))
    assert send_pending(app).sent == 1
    assert len(hooks.posts) == 1


def test_concurrent_senders_deliver_every_message_exactly_once(app, session, world,
                                                               webhooks):
    hooks, _ = webhooks
    _choose(session, world.finance, ("wecom", "*"))
    for i in range(30):
        notifications.notify(session, user_ids=[world.finance.id], kind="credit.review_due",
                             message=REVIEW, params={"line": i, "customer": "乙"},
                             target=("CreditLine", i))
    session.commit()
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                send_pending(app, batch=5)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    lines = sorted(int(b["markdown"]["content"].split("#")[1].split()[0]) for _, _, b in
                   hooks.posts)
    assert lines == list(range(30))
    assert {r.status for r in _rows(session)} == {"sent"}


def test_people_choose_their_channels_in_the_portal(app, session, world, login):
    c = login(world.finance)
    page = c.get("/account/notifications")
    assert page.status_code == 200
    assert "企业微信" in page.get_data(as_text=True) or "WeCom" in page.get_data(as_text=True)
    resp = c.post("/account/notifications", data={"choice": ["email:credit", "wecom:*"]})
    assert resp.status_code == 302
    session.expire_all()
    assert sorted((r.channel, r.event_group) for r in session.scalars(
        select(NotificationChannel).where(NotificationChannel.user_id == world.finance.id))) \
        == [("email", "credit"), ("wecom", "*")]
    bad = c.post("/account/notifications", data={"choice": ["fax:credit"]})
    assert bad.status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count(NotificationChannel.id)).where(
        NotificationChannel.user_id == world.finance.id)) == 2


def test_the_link_in_a_message_opens_the_record_only_for_its_addressee(
        app, session, world, login):
    customer = world.customers["sales1"][0]
    notifications.notify(session, user_ids=[world.sales1.id], kind="customer.follow_up_due",
                         message="Customer %(customer)s is due for a follow-up today.",
                         params={"customer": customer.name}, target=customer)
    session.commit()
    note = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    resp = login(world.sales1).get(f"/notifications/{note.id}/open")
    assert resp.status_code == 302 and f"id={customer.id}" in resp.headers["Location"]
    session.expire_all()
    assert session.get(Notification, note.id).read_at is not None
    assert login(world.sales2).get(f"/notifications/{note.id}/open").status_code == 404
    anon = app.test_client().get(f"/notifications/{note.id}/open")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]


def test_mail_over_starttls(app, session, world, tmp_path: Path):
    """SMTP with STARTTLS against a server with a self-signed certificate the app trusts."""
    import ssl

    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        pytest.skip("openssl not available to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = _Mailbox()
    port = _free_port()
    ctl = aiosmtpd.Controller(box, hostname="127.0.0.1", port=port, tls_context=context,
                              require_starttls=True)
    ctl.start()
    try:
        app.config.update(SMTP_PORT=port, SMTP_TLS="starttls", SMTP_CA_FILE=str(cert))
        world.finance.email = "finance@example.cn"
        _choose(session, world.finance, ("email", "*"))
        _event(session, world.finance)
        report = send_pending(app)
        assert report.sent == 1, report.errors
        assert len(box.messages) == 1
    finally:
        ctl.stop()


def test_the_system_administrator_sees_dead_letters_and_sends_them_again(
        app, session, world, login, webhooks):
    hooks, _ = webhooks
    hooks.errcode = 310000
    _choose(session, world.finance, ("wecom", "credit"))
    _event(session, world.finance)
    send_pending(app)
    row, = _rows(session)
    row.status, row.attempts = "dead", outbox.MAX_ATTEMPTS
    session.commit()
    admin = login(world.sysadmin)
    page = admin.get("/admin/outbox/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "死信" in html and "310000" in html
    assert world.finance.full_name in html
    # nobody else reads the queue
    assert login(world.finance).get("/admin/outbox/").status_code in (403, 404)
    assert login(world.finance).post("/admin/outbox/requeue/",
                                     data={"id": row.id}).status_code in (403, 404)
    assert _rows(session)[0].status == "dead"
    resp = admin.post("/admin/outbox/requeue/", data={"id": row.id})
    assert resp.status_code == 302
    assert _rows(session)[0].status == "pending"
    assert admin.post("/admin/outbox/requeue/", data={"id": "x"}).status_code == 302
    hooks.errcode = 0
    assert send_pending(app).sent == 1
