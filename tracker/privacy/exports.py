"""What a subject access export and a hearing pack contain, built once and redacted once.

`case_record` turns a case into plain data (dicts, lists, strings, dates) with every free
text field passed through the export's `Redactor`. The JSON file is that data; the PDF
is rendered from the same data, never from the database objects, so the two cannot
disagree about what was redacted. `subject_access_zip` packs the PDF, the JSON, the
redaction log and a README into one ZIP, in memory (no evidence files: see README_TEXT).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from tracker.auth.permissions import can_view_case
from tracker.cases.models import Case, CaseStatus, Platform, Source, Track
from tracker.policy.models import AcknowledgementMethod, PolicyAcknowledgement
from tracker.privacy.models import SubjectAccessRequest
from tracker.privacy.redaction import LOG_COLUMNS, Redactor
from tracker.staff.models import StaffMember
from tracker.workflow.models import AppealOutcome, Sanction

SAR_FORMAT = "sar-export/1"
HEARING_PACK_FORMAT = "hearing-pack/1"

# Fixed time for the ZIP members, so that the same export has the same bytes (and hash).
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

README_TEXT = """\
Subject access export
=====================

This archive answers a subject access request (UK GDPR Article 15) made by the member of
staff named in it. It holds everything the safeguarding case tracker keeps about them:
their staff record, the policy versions they are recorded as having read, and every case
of which they are the subject, with the rules cited (and the text of each rule), the
people involved, the evidence, the chronology, each step of the case, the decisions and
appeals, and earlier wordings of the case's details.

Files
-----
subject-access-export.pdf   the same information, to read and print.
subject-access-export.json  the same information as structured data, format "{format}"
                            (described in the "format" and "notes" fields inside).
redaction-log.csv           one line for each redaction made: its kind, the record type,
                            record id and field it was made in, the reason, the label or
                            mark put in its place and how many times. It never repeats
                            the text removed.
README.txt                  this file.

Redactions
----------
Other people's personal data is not part of the answer. Pupils, parents and carers,
witnesses and other members of staff involved in a case appear only as labels such as
"Witness 1" or "Pupil 2", the same label for the same person throughout; where their
names or initials appeared in free text they are replaced by the label in brackets, and
the reviewer's further redactions by "[Redacted]". The names of the trust's staff who
handled the cases in their professional role (the safeguarding lead, investigator and
decision maker) are kept.

Evidence files
--------------
Evidence is listed with its file name, type, size and SHA-256 fingerprint, but the files
themselves are not in this archive: screenshots and documents can show other people, and
only a person can redact an image. Copies, redacted where needed, are supplied separately
by the data protection officer; the fingerprint lets anyone check a copy against the file
held.
"""


# What an export says in place of the name of a colleague who raised the concern.
WITHHELD_REPORTER = "Withheld: the member of staff who raised the concern"


def withheld_reporter(case: Case) -> int | None:
    """The user id of whoever raised the concern, when their name is withheld from the
    subject's exports: a colleague who raised it as a member of staff and cannot read the
    case (a third party, and a whistle-blower). Never the subject, who referred
    themselves, nor a lead who logged it in their role."""
    reporter = case.reported_by
    if reporter is None or reporter.id == case.subject.user_id:
        return None
    return None if can_view_case(reporter, case) else reporter.id


def _label(enum: Any, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return enum(value).label
    except ValueError:
        return value


def kept_names(cases: Sequence[Case], subject: StaffMember) -> list[str]:
    """The names an export keeps: the subject's and those of the staff acting in role."""
    names = {subject.full_name}
    for case in cases:
        withheld = withheld_reporter(case)
        users = [case.reported_by, case.investigator, case.decision_maker]
        users += [entry.author for entry in case.chronology]
        users += [transition.actor for transition in case.transitions]
        users += [decision.decided_by for decision in case.decisions]
        users += [appeal.heard_by for appeal in case.appeals]
        users += [item.uploaded_by for item in case.evidence]
        names.update(
            user.display_name for user in users if user is not None and user.id != withheld
        )
    return sorted(names)


def case_record(
    case: Case, redactor: Redactor, receipts: dict[int, PolicyAcknowledgement | None]
) -> dict[str, Any]:
    """Everything held on one case, redacted; `receipts` are the subject's read receipts
    by policy version id (tracker.cases.timeline.subject_read_receipts)."""

    def text(value: str | None, record_type: str, record_id: int, field: str) -> str:
        return redactor.text(value, record_type=record_type, record_id=record_id, field=field)

    def case_text(field: str) -> str:
        return text(getattr(case, field), "case", case.id, field)

    withheld = withheld_reporter(case)

    def name_of(user: Any) -> str | None:
        if user is not None and user.id == withheld:
            return WITHHELD_REPORTER
        return user.display_name if user is not None else None

    clauses = []
    for breach in case.breaches:
        clause = breach.clause
        receipt = receipts.get(clause.version_id)
        clauses.append(
            {
                "reference": clause.reference,
                "heading": clause.heading,
                "text": clause.text,
                "policy_version": clause.version.version_label,
                "policy_title": clause.version.title,
                "rationale": text(breach.rationale, "clause_breach", breach.id, "rationale"),
                "acknowledged_on": receipt.acknowledged_on if receipt else None,
                "acknowledgement_method": (
                    _label(AcknowledgementMethod, receipt.method) if receipt else None
                ),
                "acknowledged_before_conduct": (
                    receipt.acknowledged_on <= case.occurred_on if receipt else None
                ),
            }
        )
    evidence = [
        {
            "id": item.id,
            "filename": text(item.original_filename, "evidence", item.id, "original_filename"),
            "content_type": item.content_type,
            "size_bytes": item.size_bytes,
            "sha256": item.sha256,
            "description": text(item.description, "evidence", item.id, "description"),
            "source_url": text(item.source_url, "evidence", item.id, "source_url"),
            "captured_at": item.captured_at,
            "captured_by": text(item.captured_by, "evidence", item.id, "captured_by"),
            "post_visibility": item.post_visibility,
            "uploaded_by": name_of(item.uploaded_by),
            "uploaded_at": item.uploaded_at,
            "removed_at": item.removed_at,
            "removal_reason": text(item.removal_reason, "evidence", item.id, "removal_reason"),
            "file_included": False,
        }
        for item in case.evidence
    ]
    chronology = [
        {
            "occurred_on": entry.occurred_on,
            "occurred_time": entry.occurred_time.strftime("%H:%M") if entry.occurred_time else None,
            "kind": entry.kind_enum.label,
            "summary": text(entry.summary, "chronology_entry", entry.id, "summary"),
            "author": name_of(entry.author),
            "recorded_at": entry.recorded_at,
            "backdated": entry.is_backdated,
        }
        for entry in case.chronology
    ]
    steps = [
        {
            "action": transition.action,
            "from_status": _label(CaseStatus, transition.from_status),
            "to_status": _label(CaseStatus, transition.to_status),
            "reason": text(transition.reason, "case_transition", transition.id, "reason"),
            "by": name_of(transition.actor),
            "at": transition.at,
        }
        for transition in case.transitions
    ]
    decisions = [
        {
            "outcome": decision.outcome_label,
            "sanction": _label(Sanction, decision.sanction),
            "warning_expires_on": decision.warning_expires_on,
            "rationale": text(decision.rationale, "decision", decision.id, "rationale"),
            "may_mention_in_references": decision.may_mention_in_references,
            "referrals": [
                {
                    "to": body,
                    "reason": text(reason, "decision", decision.id, field),
                }
                for body, flag, reason, field in (
                    ("DBS", decision.refer_dbs, decision.refer_dbs_reason, "refer_dbs_reason"),
                    (
                        "Teaching Regulation Agency",
                        decision.refer_tra,
                        decision.refer_tra_reason,
                        "refer_tra_reason",
                    ),
                    (
                        "Police",
                        decision.refer_police,
                        decision.refer_police_reason,
                        "refer_police_reason",
                    ),
                )
                if flag
            ],
            "decided_by": name_of(decision.decided_by),
            "decided_on": decision.decided_on,
        }
        for decision in case.decisions
    ]
    appeals = [
        {
            "lodged_on": appeal.lodged_on,
            "grounds": text(appeal.grounds, "appeal", appeal.id, "grounds"),
            "heard_by": name_of(appeal.heard_by),
            "outcome": _label(AppealOutcome, appeal.outcome),
            "varied_sanction": _label(Sanction, appeal.varied_sanction),
            "rationale": text(appeal.rationale, "appeal", appeal.id, "rationale"),
            "decided_at": appeal.decided_at,
        }
        for appeal in case.appeals
    ]
    suspensions = [
        {
            "starts_on": suspension.starts_on,
            "ends_on": suspension.ends_on,
            "reason": text(suspension.reason, "suspension", suspension.id, "reason"),
            "reviewed_on": suspension.reviewed_on,
        }
        for suspension in case.suspensions
    ]
    revisions = [
        {
            "number": revision.number,
            "changed_at": revision.changed_at,
            "changed_by": name_of(revision.changed_by),
            "changes": {
                field: [
                    text(value, "case_revision", revision.id, field)
                    if isinstance(value, str)
                    else value
                    for value in values
                ]
                for field, values in sorted(revision.changes.items())
            },
        }
        for revision in case.revisions
    ]
    return {
        "reference": case.reference,
        "school": case.school.name,
        "status": case.status_enum.label,
        "track": _label(Track, case.track),
        "source": _label(Source, case.source),
        "source_detail": case_text("source_detail"),
        "occurred_on": case.occurred_on,
        "reported_on": case.reported_on,
        "platform": Platform(case.platform).label,
        "platform_detail": case_text("platform_detail"),
        "summary": case_text("summary"),
        "logged_by": name_of(case.reported_by),
        "logged_at": case.created_at,
        "triage": {
            "triaged_at": case.triaged_at,
            "rationale": case_text("triage_rationale"),
            "harm_child": case.harm_child,
            "harm_offence": case.harm_offence,
            "harm_risk": case.harm_risk,
            "harm_unsuitable": case.harm_unsuitable,
        },
        "lado": {
            "due_at": case.lado_due_at,
            "referred_at": case.lado_referred_at,
            "method": case.lado_method,
            "reference": case_text("lado_reference"),
            "advice": case_text("lado_advice"),
            "advice_on": case.lado_advice_on,
        },
        "investigator": name_of(case.investigator),
        "investigation_summary": case_text("investigation_summary"),
        "decision_maker": name_of(case.decision_maker),
        "closed_on": case.closed_on,
        "closure_reason": case_text("closure_reason"),
        "clauses": clauses,
        "people_involved": [redactor.person(person) for person in case.people],
        "evidence": evidence,
        "chronology": chronology,
        "steps": steps,
        "decisions": decisions,
        "appeals": appeals,
        "suspensions": suspensions,
        "revisions": revisions,
    }


def staff_record(subject: StaffMember) -> dict[str, Any]:
    return {
        "full_name": subject.full_name,
        "job_title": subject.job_title,
        "employee_number": subject.employee_number,
        "school": subject.school.name,
        "normal_retirement_date": subject.normal_retirement_date,
        "added_to_register_at": subject.created_at,
    }


def subject_access_data(
    request: SubjectAccessRequest,
    *,
    trust_name: str,
    case_records: list[dict[str, Any]],
    acknowledgements: Sequence[PolicyAcknowledgement],
    redactor: Redactor,
    generated_at: datetime,
) -> dict[str, Any]:
    """The export's whole content (call after every `case_record`, so the log is full)."""
    return {
        "format": SAR_FORMAT,
        "notes": (
            "Dates are ISO 8601 (UK dates); times are ISO 8601 in UTC. Other people appear "
            "as labels ('Witness 1'); '[Redacted]' marks a reviewer's redaction. Evidence "
            "files are listed, not included. redaction-log.csv lists every redaction."
        ),
        "controller": trust_name,
        "generated_at": generated_at,
        "request": {
            "id": request.id,
            "received_on": request.received_on,
            "due_on": request.due_on,
            "extended_due_on": request.extended_due_on,
            "extension_reason": request.extension_reason,
        },
        "data_subject": staff_record(request.staff_member),
        "policy_acknowledgements": [
            {
                "policy": receipt.version.title,
                "version": receipt.version.version_label,
                "acknowledged_on": receipt.acknowledged_on,
                "method": _label(AcknowledgementMethod, receipt.method),
            }
            for receipt in acknowledgements
        ],
        "cases": case_records,
        "redactions": {"count": redactor.count, "entries": len(redactor.log)},
    }


def hearing_pack_data(
    case: Case,
    *,
    trust_name: str,
    record: dict[str, Any],
    redactor: Redactor,
    generated_at: datetime,
) -> dict[str, Any]:
    return {
        "format": HEARING_PACK_FORMAT,
        "controller": trust_name,
        "generated_at": generated_at,
        "subject": staff_record(case.subject),
        "case": record,
        "redactions": {"count": redactor.count, "entries": len(redactor.log)},
        "redaction_log": [entry.as_dict() for entry in redactor.log],
    }


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot put a {type(value).__name__} in the export")


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False).encode()


def redaction_log_csv(redactor: Redactor) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LOG_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for entry in redactor.log:
        writer.writerow(entry.as_dict())
    return out.getvalue().encode()


def subject_access_zip(*, pdf: bytes, data: dict[str, Any], redactor: Redactor) -> bytes:
    """The ZIP the data subject receives, built in memory."""
    members = [
        ("README.txt", README_TEXT.format(format=SAR_FORMAT).encode()),
        ("subject-access-export.pdf", pdf),
        ("subject-access-export.json", to_json(data)),
        ("redaction-log.csv", redaction_log_csv(redactor)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
