"""The benchmark's correctness: the seed's chain verifies, the list's capped count, and
verify in parallel names the same broken event as verify in one process. No timings."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tests.audit_helpers import append_only_guard_lifted
from tests.conftest import csrf_token_from
from tracker.audit.chain import verify_chain
from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.bench.run import sign_in
from tracker.bench.seed import seed
from tracker.cases.listing import COUNT_LIMIT
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus
from tracker.clock import today

KEY = b"test-audit-key-not-for-production-use"


def _verify(db, **kwargs):
    result = verify_chain(db.session, KEY, **kwargs)
    db.session.rollback()
    return result


def test_the_seed_builds_a_trust_whose_chain_verifies(app, db):
    result = seed(cases=40, audit_events=300, schools=2, staff=12, today=today())
    assert db.session.scalar(select(func.count()).select_from(Case)) == 40
    statuses = set(db.session.scalars(select(Case.status).distinct()))
    assert CaseStatus.CLOSED.value in statuses and len(statuses) > 2
    stored = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert stored > 300  # the services' own events, then the bulk ones
    verified = _verify(db)
    assert verified.intact, verified.problem
    assert verified.events == stored
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).one()
    assert (head.seq, head.hash) == (verified.head_seq, verified.head_hash)
    # The seeded accounts sign in through the real forms, and the seeded cases open.
    client = sign_in(app, result.user("ceo"))
    case_ids = db.session.scalars(select(Case.id).limit(5)).all()
    open_case = db.session.scalar(
        select(Case.id).where(Case.status.in_([s.value for s in OPEN_STATUSES])).limit(1)
    )
    db.session.rollback()
    assert client.get("/cases/").status_code == 200
    for case_id in case_ids:
        assert client.get(f"/cases/{case_id}").status_code == 200
    # Writing after the bulk load: ids do not collide (PostgreSQL's sequences moved on).
    page = client.get(f"/cases/{open_case}/chronology/new").get_data(as_text=True)
    day = today()
    response = client.post(
        f"/cases/{open_case}/chronology/new",
        data={
            "csrf_token": csrf_token_from(page),
            "kind": "note",
            "occurred_on": [str(day.day), str(day.month), str(day.year)],
            "summary": "After the seed.",
        },
    )
    assert response.status_code == 302
    # Reading and writing recorded events through record(): the chain still holds.
    assert _verify(db).intact


def test_the_list_counts_up_to_its_limit_and_says_more_than(app, db):
    result = seed(cases=COUNT_LIMIT + 2, audit_events=0, schools=2, staff=12, today=today())
    client = sign_in(app, result.user("ceo"))
    page = client.get("/cases/").get_data(as_text=True)
    assert "More than 1,000 cases</h2>" in page
    assert "Showing 1 to 25 of more than 1,000." in page
    listed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.list.viewed")
    ).one()
    assert listed.details == {
        "filters": [],
        "results": COUNT_LIMIT + 1,
        "results_capped": True,
        "page": 1,
    }
    # Filtered below the limit, the count is exact.
    closed = db.session.scalar(
        select(func.count()).select_from(Case).where(Case.status == CaseStatus.CLOSED.value)
    )
    db.session.rollback()
    assert closed < COUNT_LIMIT
    page = client.get("/cases/?status=closed").get_data(as_text=True)
    assert f"{closed} cases match these filters" in page


@pytest.mark.parametrize(
    ("tampering", "seq", "words"),
    [
        (None, None, None),
        ("UPDATE audit_events SET object_id = 99 WHERE seq = 61", 61, "changed"),
        # The first event of a range (ranges of 20: 41 starts the third).
        ("UPDATE audit_events SET action = 'case.created' WHERE seq = 41", 41, "changed"),
        ("DELETE FROM audit_events WHERE seq = 40", 40, "missing"),  # a range's last
        ("DELETE FROM audit_events WHERE seq > 35 AND seq <= 60", 36, "missing"),  # a whole range
        ("UPDATE audit_events SET prev_hash = hash WHERE seq = 81", 81, "does not follow"),
        ("DELETE FROM audit_events WHERE seq > 90", 91, "removed"),  # the tail
    ],
)
def test_verify_in_parallel_finds_what_verify_in_one_process_finds(db, tampering, seq, words):
    seed(cases=10, audit_events=100, schools=1, staff=4, today=today())
    if tampering:
        with append_only_guard_lifted(db.session):
            db.session.execute(text(tampering))
        db.session.commit()
    alone = _verify(db)
    together = _verify(db, workers=2, range_size=20)
    assert together == alone
    if tampering is None:
        assert together.intact and together.events > 100
    else:
        assert together.problem.seq == seq
        assert words in together.problem.message
