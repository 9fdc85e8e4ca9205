"""The audit trail's guarantees: one transaction with its change, a hash chain that
`flask audit verify` checks, database triggers that refuse edits, and no fork under
concurrent writers."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.audit_helpers import append_only_guard_lifted, events
from tracker.audit.actions import AuditAction, Outcome
from tracker.audit.chain import GENESIS_HASH, Checkpoint, verify_chain
from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.audit.services import check_details, record
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.db import utcnow
from tracker.extensions import db as _db

KEY = b"test-audit-key-not-for-production-use"


def _write(count: int, **kwargs) -> None:
    for number in range(count):
        record(AuditAction.CASE_VIEWED, actor=None, object_type="case", object_id=number + 1)
    _db.session.commit()


def _verify(db, **kwargs):
    result = verify_chain(db.session, KEY, **kwargs)
    db.session.rollback()
    return result


def _tamper(db, *statements: str) -> None:
    with append_only_guard_lifted(db.session):
        for statement in statements:
            db.session.execute(text(statement))
    db.session.commit()


# --- writing ---------------------------------------------------------------------------


def test_events_are_numbered_and_chained_from_the_genesis_hash(db):
    _write(3)
    stored = events(db.session)
    assert [event.seq for event in stored] == [1, 2, 3]
    assert stored[0].prev_hash == GENESIS_HASH
    assert stored[1].prev_hash == stored[0].hash and stored[2].prev_hash == stored[1].hash
    assert len({event.hash for event in stored}) == 3
    head = db.session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (3, stored[2].hash)
    assert _verify(db).intact


def test_an_event_records_who_where_and_how(app, db, make):
    school = make.school()
    user = make.user(Role.DSL, school)
    marker = _max_seq(db)
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        from flask import g

        g.request_id = "req-12345678"
        record(
            AuditAction.CASE_VIEWED,
            actor=user,
            object_type="case",
            object_id=42,
            school_id=school.id,
            case_id=42,
            details={"page": "case"},
        )
        db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.seq > marker)).one()
    assert (event.actor_id, event.actor_role, event.trust_id) == (user.id, "dsl", user.trust_id)
    assert (event.school_id, event.case_id, event.object_type, event.object_id) == (
        school.id,
        42,
        "case",
        42,
    )
    assert (event.request_id, event.client_address) == ("req-12345678", "192.0.2.7")
    assert (event.outcome, event.details) == ("allowed", {"page": "case"})
    assert event.action_label == "Case viewed" and event.is_read


def test_the_system_is_the_actor_when_nobody_signed_in(db):
    record(AuditAction.NOTIFICATION_SENT, actor=None, outcome=Outcome.ALLOWED)
    db.session.commit()
    [event] = events(db.session)
    assert (event.actor_id, event.actor_role) == (None, "system")


def test_a_rollback_removes_the_event_with_its_change(db, make):
    school = make.school()
    marker = _max_seq(db)
    record(AuditAction.SCHOOL_CREATED, actor=None, object_type="school", object_id=school.id)
    db.session.rollback()
    assert _max_seq(db) == marker
    assert db.session.get(AuditChainHead, 1).seq == marker


def test_a_change_that_fails_to_save_leaves_no_event(db, make):
    first = make.user(Role.CEO)
    marker = _max_seq(db)
    record(AuditAction.USER_CREATED, actor=None, object_type="user")
    # The same e-mail address again breaks a unique constraint when the change is written.
    db.session.add(
        User(trust_id=first.trust_id, email=first.email, display_name="x", password_hash="x")
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert _max_seq(db) == marker
    record(AuditAction.USER_CREATED, actor=None, object_type="user")
    db.session.commit()
    assert _max_seq(db) == marker + 1  # the chain carries on with no gap
    assert _verify(db).intact


@pytest.mark.parametrize(
    "details",
    [
        {"summary": "Messaged pupils from a personal account"},
        {"email": "someone@example.org"},
        {"search": "smith jones"},
        {"score": 1.5},
        {"nested": {"a": 1}},
        {"Bad Key": 1},
        {"fields": ["ok", "not ok"]},
    ],
)
def test_details_refuse_anything_that_could_carry_personal_content(db, details):
    with pytest.raises((ValueError, TypeError)):
        check_details(details)
    with pytest.raises((ValueError, TypeError)):
        record(AuditAction.CASE_UPDATED, actor=None, details=details)
    db.session.rollback()
    assert events(db.session) == []


def test_details_accept_ids_codes_field_names_and_dates(db):
    details = {
        "fields": ["summary", "occurred_on"],
        "from": "triage",
        "to": "investigation",
        "reference": "HMAT-2026-0001",
        "on": "2026-03-04",
        "count": 3,
        "backdated": True,
        "school": None,
    }
    assert check_details(details) == details


# --- the database refuses changes ------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'case.created' WHERE seq = 1",
        "UPDATE audit_events SET details = '{}'",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_update_and_delete(db, statement):
    _write(2)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert [event.seq for event in events(db.session)] == [1, 2]


def test_emptying_the_table_at_one_stroke_is_refused(db):
    """TRUNCATE on PostgreSQL; on SQLite a DELETE with no WHERE, its truncate shortcut."""
    _write(1)
    statement = (
        "TRUNCATE audit_events"
        if db.engine.dialect.name == "postgresql"
        else ("DELETE FROM audit_events")
    )
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert len(events(db.session)) == 1


# --- verification ----------------------------------------------------------------------


def _max_seq(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0


def test_an_empty_trail_verifies(db):
    result = _verify(db)
    assert result.intact and result.events == 0 and result.head_hash == GENESIS_HASH


def test_verify_names_an_edited_event(db):
    _write(5)
    _tamper(db, "UPDATE audit_events SET object_id = 99 WHERE seq = 3")
    result = _verify(db)
    assert result.problem.seq == 3 and "changed" in result.problem.message
    assert result.events == 2


def test_verify_names_an_event_whose_time_was_moved(db):
    _write(3)
    moved = utcnow().replace(year=2020)
    with append_only_guard_lifted(db.session):
        db.session.execute(
            AuditEvent.__table__.update().where(AuditEvent.seq == 2).values(occurred_at=moved)
        )
    db.session.commit()
    assert _verify(db).problem.seq == 2


def test_verify_names_a_deleted_event(db):
    _write(5)
    _tamper(db, "DELETE FROM audit_events WHERE seq = 3")
    result = _verify(db)
    assert result.problem.seq == 3 and "missing" in result.problem.message


def test_verify_names_a_reordered_pair(db):
    _write(5)
    _tamper(
        db,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -2",
    )
    result = _verify(db)
    assert result.problem.seq == 2


def test_verify_names_an_event_rewritten_with_a_new_hash_but_the_wrong_key(db):
    """Rehashing an edited event without AUDIT_KEY cannot make it pass."""
    _write(3)
    import hashlib

    forged = hashlib.sha256(b"anything").hexdigest()
    with append_only_guard_lifted(db.session):
        db.session.execute(
            text("UPDATE audit_events SET object_id = 7, hash = :forged WHERE seq = 3"),
            {"forged": forged},
        )
    db.session.commit()
    assert _verify(db).problem.seq == 3


def test_verify_with_another_key_fails_at_the_first_event(db):
    _write(2)
    result = verify_chain(db.session, b"some-other-key-entirely-123456", checkpoints=())
    db.session.rollback()
    assert result.problem.seq == 1


def test_a_truncated_tail_is_caught_by_the_chain_head_and_by_checkpoints(db):
    _write(5)
    head = events(db.session)[-1]
    checkpoint = Checkpoint(seq=head.seq, hash=head.hash, at=utcnow())
    _tamper(db, "DELETE FROM audit_events WHERE seq > 3")
    # The head row still names event 5.
    result = _verify(db)
    assert result.problem.seq == 4 and "removed" in result.problem.message

    # A careful attacker moves the head back too; only the checkpoint now tells.
    third = events(db.session)[-1]
    db.session.execute(AuditChainHead.__table__.update().values(seq=third.seq, hash=third.hash))
    db.session.commit()
    assert _verify(db).intact
    result = _verify(db, checkpoints=[checkpoint])
    assert not result.intact and result.problem.seq == 4
    assert "newest events have been removed" in result.problem.message


def test_a_checkpoint_that_no_longer_matches_is_reported(db):
    _write(3)
    stale = Checkpoint(seq=2, hash="f" * 64, at=utcnow())
    result = _verify(db, checkpoints=[stale])
    assert result.problem.seq == 2 and "checkpointed" in result.problem.message
    good = events(db.session)[1]
    assert _verify(db, checkpoints=[Checkpoint(2, good.hash, utcnow())]).checkpoints == 1


def test_verify_walks_in_batches(db):
    _write(7)
    result = _verify(db, batch_size=2)
    assert result.intact and result.events == 7 and result.head_seq == 7


# --- the commands ----------------------------------------------------------------------


def test_verify_command_reports_intact_and_broken(runner, db):
    _write(4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit trail intact: 4 event(s), newest 4" in result.output

    _tamper(db, "UPDATE audit_events SET action = 'case.created' WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "AUDIT TRAIL BROKEN at event 2" in result.output


def test_checkpoint_command_appends_and_verify_uses_the_file(runner, db, tmp_path):
    path = tmp_path / "elsewhere" / "audit-checkpoints.jsonl"
    _write(2)
    assert runner.invoke(args=["audit", "checkpoint", str(path)]).exit_code == 0
    _write(3)
    result = runner.invoke(args=["audit", "checkpoint", str(path)])
    assert result.exit_code == 0 and "event 5" in result.output
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [2, 5]
    assert lines[1]["hash"] == events(db.session)[-1].hash

    result = runner.invoke(args=["audit", "verify", "--checkpoints", str(path)])
    assert result.exit_code == 0 and "2 checkpoint(s) matched" in result.output

    _tamper(db, "DELETE FROM audit_events WHERE seq >= 4")
    db.session.execute(
        text("UPDATE audit_chain_head SET seq = 3, hash = :h"), {"h": events(db.session)[-1].hash}
    )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--checkpoints", str(path)])
    assert result.exit_code == 1
    assert "AUDIT TRAIL BROKEN at event 4" in result.output


def test_verify_refuses_a_file_that_is_not_checkpoints(runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("seq 5\n")
    result = runner.invoke(args=["audit", "verify", "--checkpoints", str(path)])
    assert result.exit_code != 0 and "line 1: not a checkpoint" in result.output


# --- concurrency -----------------------------------------------------------------------


def test_eight_concurrent_writers_never_fork_the_chain(app, db):
    """Eight threads, each with its own session and connection, append at once."""
    per_thread = 25
    errors: list[BaseException] = []
    start = threading.Barrier(8)
    db.session.commit()

    def worker(number: int) -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                for item in range(per_thread):
                    record(
                        AuditAction.CASE_VIEWED,
                        actor=None,
                        object_type="case",
                        object_id=number * 1000 + item,
                    )
                    _db.session.commit()
                _db.session.remove()
        except BaseException as error:  # re-raised below in the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    stored = events(db.session)
    assert [event.seq for event in stored] == list(range(1, 8 * per_thread + 1))
    assert len({event.object_id for event in stored}) == 8 * per_thread
    result = _verify(db)
    assert result.intact and result.events == 8 * per_thread


def test_both_databases_times_serialise_alike():
    """SQLite returns the stored text, PostgreSQL a datetime: the hash must not care."""
    from datetime import UTC, datetime, timedelta, timezone

    from tracker.audit.chain import _timestamp

    moment = datetime(2026, 3, 4, 9, 5, 7, 120, tzinfo=UTC)
    expected = "2026-03-04T09:05:07.000120+00:00"
    assert _timestamp("2026-03-04 09:05:07.000120") == expected
    assert _timestamp(moment) == expected
    assert _timestamp(moment.astimezone(timezone(timedelta(hours=1)))) == expected
    assert _timestamp("2026-03-04 09:05:07") == "2026-03-04T09:05:07.000000+00:00"


def test_the_prebuilt_encoder_writes_the_bytes_json_dumps_would():
    """canonical() calls the C encoder beneath json once built (chain.py _ENCODE_ARRAY):
    the bytes an HMAC covers must be exactly those of the compact JSON array, whatever
    the fields hold, or every event written before would fail verification."""
    from tracker.audit.chain import canonical

    when = "2026-03-29 01:30:00.000001"
    texts = ["plain", 'quote " and \\ back', "Zoë ✓ 日本", "line\nbreak\ttab\x01", "", "/"]
    for text_value in texts:
        for details in ("{}", json.dumps({"why": text_value}, ensure_ascii=False)):
            values = [7, 1, when, 3, None, "dsl", "case.viewed", text_value, 12, None, 12]
            values += ["success", text_value, "203.0.113.9", details, "0" * 64]
            document = list(values)
            document[2] = "2026-03-29T01:30:00.000001+00:00"
            expected = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
            assert canonical(values) == expected.encode(), text_value
    # A stored time in PostgreSQL's canonical text is taken as it is.
    values[2] = "2026-03-29T01:30:00.000001+00:00"
    assert canonical(values) == expected.encode()
