"""Whatever a webhook body holds, the answer is never a 500 and a refused event records nothing."""

import pytest
from sqlalchemy import func, select

from hotline.calls.models import Call, CtiEvent

URL = "/api/cti/test-cti-token"
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
NESTED = b'{"event": "newCall", "callId": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

BODIES = [
    ("deeply nested JSON", NESTED, JSON, 400),
    ("JSON that is not UTF-8", b'{"event": "newCall", "callId": "\xff\xfe"}', JSON, 400),
    ("truncated JSON", b'{"event": "newCall", "callId": ', JSON, 400),
    ("JSON array", b'[{"event": "newCall"}]', JSON, 422),
    ("JSON string", b'"newCall"', JSON, 422),
    ("callId an object", b'{"event": "newCall", "callId": {"a": 1}}', JSON, 422),
    ("callId true", b'{"event": "newCall", "callId": true}', JSON, 422),
    ("event a list", b'{"event": ["newCall"], "callId": "x"}', JSON, 422),
    ("from an object", b'{"event": "newCall", "callId": "x", "from": {"n": 1}}', JSON, 422),
    ("user an object", b'{"event": "newCall", "callId": "x", "user": {"n": "a"}}', JSON, 422),
    ("user list of lists", b'{"event": "newCall", "callId": "x", "user": [["a"]]}', JSON, 422),
    ("direction a number", b'{"event": "newCall", "callId": "x", "direction": 1}', JSON, 422),
    ("holdTime negative", b'{"event": "hangup", "callId": "x", "holdTime": -1}', JSON, 422),
    ("holdTime huge", b'{"event": "hangup", "callId": "x", "holdTime": 1e400}', JSON, 422),
    ("holdTime text", b'{"event": "hangup", "callId": "x", "holdTime": "soon"}', JSON, 422),
    ("callId too long", b'{"event": "newCall", "callId": "' + b"x" * 101 + b'"}', JSON, 422),
    (
        "a field of 5 kB",
        b'{"event": "newCall", "callId": "x", "to": "' + b"1" * 5000 + b'"}',
        JSON,
        422,
    ),
    ("form without fields", b"&&&==&", FORM, 422),
    ("form with a bad direction", b"event=newCall&callId=x&direction=both", FORM, 422),
    ("binary garbage", bytes(range(256)) * 4, {"content-type": "application/octet-stream"}, 422),
]


@pytest.mark.parametrize(("name", "body", "headers", "status"), BODIES, ids=[b[0] for b in BODIES])
def test_a_bad_body_is_a_clear_4xx_and_records_nothing(
    client, session, name, body, headers, status
):
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert session.scalar(select(func.count(Call.id))) == 0
    assert session.scalar(select(func.count(CtiEvent.id))) == 0


def test_a_multipart_file_is_refused(client, session):
    response = client.post(URL, data={"event": "newCall"}, files={"callId": ("x.txt", b"abc")})
    assert response.status_code == 422
    assert session.scalar(select(func.count(Call.id))) == 0


def test_a_huge_body_is_refused_before_it_is_read(client, settings):
    body = b"event=newCall&callId=x&pad=" + b"a" * (settings.max_body_bytes + 1)
    assert client.post(URL, content=body, headers=FORM).status_code == 413


def test_a_form_not_in_utf8_still_records_the_event_without_a_500(client, session):
    response = client.post(URL, content=b"event=newCall&callId=latin&from=%e6%f8%e5", headers=FORM)
    assert response.status_code == 200
    assert session.scalar(select(Call).where(Call.cti_call_id == "latin")) is not None
