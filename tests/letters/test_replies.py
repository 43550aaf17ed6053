"""Creating replies: archived PDF, cited rule versions, Message-ID fixed up front, validation."""

import hashlib
import io

import pytest
from pypdf import PdfReader

from hotline.auth.models import Role
from hotline.calls.models import CallState
from hotline.kit.errors import Conflict, InvalidInput, PermissionDenied
from hotline.letters.models import Channel, ReplyStatus
from hotline.letters.service import create_reply, preview_reply_pdf, retry_reply
from hotline.rules.models import Rule
from tests.letters.conftest import reply_form


def test_an_email_reply_is_archived_and_queued(session, call, agent, settings):
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()

    assert reply.status == ReplyStatus.QUEUED
    assert reply.reference == call.reference
    assert reply.municipality_code == "0751"
    assert reply.author_name == "Karen Ærbødig"
    assert reply.pdf_sha256 == hashlib.sha256(reply.pdf).hexdigest()
    assert reply.message_id.startswith("<") and reply.message_id.endswith(
        "@digitalhotline.example>"
    )
    assert reply.next_attempt_at is not None and reply.attempts == 0
    pas = session.query(Rule).filter_by(topic_slug="pas").order_by(Rule.municipality_code).all()
    version_ids = sorted(v.id for rule in pas for v in rule.versions)
    assert reply.cited_rules == [
        {"topic": "pas", "rule_version_ids": version_ids, "title": "Pas – fornyelse"}
    ]
    text = PdfReader(io.BytesIO(reply.pdf)).pages[0].extract_text()
    assert "Søren Østergård" in text and call.reference in text


def test_a_pdf_reply_counts_as_downloaded(session, call, agent, settings):
    form = reply_form(channel=Channel.PDF, recipient_email="")
    reply = create_reply(session=session, call=call, author=agent, form=form, settings=settings)
    assert reply.status == ReplyStatus.DOWNLOADED
    assert reply.recipient_email is None
    assert reply.next_attempt_at is None


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"recipient_email": ""}, "letters.email_required"),
        ({"recipient_email": "ikke en adresse"}, "letters.email_invalid"),
        ({"subject": "  "}, "letters.subject_required"),
        ({"body_md": ""}, "letters.body_required"),
        ({"body_md": "x" * 20_001}, "letters.field_too_long.body_md"),
        ({"topics": ["findes-ikke"]}, "letters.unknown_topic"),
        ({"channel": Channel.PDF, "recipient_address": ""}, "letters.address_required"),
    ],
)
def test_invalid_forms_are_refused(session, call, agent, settings, changes, key):
    with pytest.raises(InvalidInput) as error:
        create_reply(
            session=session, call=call, author=agent, form=reply_form(**changes), settings=settings
        )
    assert error.value.key == key


def test_a_call_without_municipality_cannot_get_a_reply(session, make_call, agent, settings):
    call = make_call(agent, None)
    with pytest.raises(InvalidInput) as error:
        create_reply(session=session, call=call, author=agent, form=reply_form(), settings=settings)
    assert error.value.key == "letters.no_municipality"


def test_retry_only_for_failed_replies_by_author_or_supervisor(
    session, call, agent, settings, make_user
):
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()
    with pytest.raises(Conflict):
        retry_reply(session=session, reply_id=reply.id, user=agent)

    reply.status = ReplyStatus.FAILED
    reply.attempts = 8
    session.commit()
    other = make_user(Role.AGENT)
    with pytest.raises(PermissionDenied):
        retry_reply(session=session, reply_id=reply.id, user=other)

    retried = retry_reply(session=session, reply_id=reply.id, user=agent)
    assert retried.status == ReplyStatus.QUEUED
    assert retried.attempts == 0


def test_a_reply_is_immutable_except_its_delivery_fields(session, call, agent, settings):
    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    session.commit()

    reply.status = ReplyStatus.SENDING
    reply.attempts = 1
    session.commit()

    reply.body_md = "Ændret bagefter"
    with pytest.raises(ValueError, match="immutable"):
        session.commit()
    session.rollback()
    session.expire_all()
    assert session.get(type(reply), reply.id).body_md.startswith("Kære Søren")


@pytest.mark.parametrize("state", [CallState.DONE, CallState.ABANDONED])
def test_a_closed_call_takes_no_more_replies(session, call, agent, settings, state):
    call.state = state
    session.commit()

    with pytest.raises(Conflict) as error:
        create_reply(session=session, call=call, author=agent, form=reply_form(), settings=settings)
    assert error.value.key == "letters.call_closed"
    with pytest.raises(Conflict):
        preview_reply_pdf(
            session=session, call=call, author=agent, form=reply_form(), settings=settings
        )


def test_a_call_in_wrap_up_still_takes_replies(session, call, agent, settings):
    call.state = CallState.WRAP_UP
    session.commit()

    reply = create_reply(
        session=session, call=call, author=agent, form=reply_form(), settings=settings
    )
    assert reply.status == ReplyStatus.QUEUED
