import email
import email.policy
from datetime import UTC, datetime

from consultroom.notifications.delivery import _Due, build_message


def test_build_message_long_korean_subject_keeps_every_space():
    # Long enough that the email package's default folding split it into encoded words at a space,
    # and that space was lost on the way ("상담 시간 변경" read as "상담 시간변경").
    subject = "테스트기업14과(와)의 상담 시간 변경: 확인해 주십시오 — 서울 오후 3시, 뉴욕 오전 1시"
    row = _Due(
        id=1,
        message_id="<1@consultroom.test>",
        to_addr="buyer@example.com",
        subject=subject,
        body_text="본문",
        body_html=None,
        created_at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
        attempts=0,
        deadline_at=None,
    )

    raw = build_message(row, "Consultroom <no-reply@consultroom.local>").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    assert parsed["Subject"] == subject
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
