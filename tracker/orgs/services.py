"""Trust and school set-up, and the trust's name for page headers."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.orgs.models import School, Trust

SERVICE_NAME = "Safeguarding case tracker"


def _is_code(code: str) -> bool:
    """Plain ASCII letters and digits: codes go into case references, file names and the
    audit trail, where "É" or a full-width digit would not survive (str.isalnum alone
    accepts both)."""
    return 2 <= len(code) <= 12 and code.isascii() and code.isalnum()


def _name_and_code(kind: str, name: str, code: str) -> tuple[str, str]:
    """A trust's or a school's name, trimmed, and its code, upper-cased; refuses either
    missing or a code that is not 2 to 12 plain letters or digits."""
    code = code.strip().upper()
    if not name.strip():
        raise ValidationFailed(f"Enter the {kind}'s name", field="name")
    if not _is_code(code):
        raise ValidationFailed(
            f"The {kind} code must be 2 to 12 letters (A to Z) or digits", field="code"
        )
    return name.strip(), code


def create_trust(*, name: str, code: str, by: User | None = None) -> Trust:
    """Create a trust.

    Guard: a name and an unused code of 2 to 12 letters. Side effects: records
    trust.created (`by` acting, or the system). Flushes; the caller commits.
    """
    name, code = _name_and_code("trust", name, code)
    if db.session.scalar(select(Trust).where(Trust.code == code)) is not None:
        raise ValidationFailed(f"A trust with code {code} already exists", field="code")
    trust = Trust(name=name, code=code)
    db.session.add(trust)
    db.session.flush()  # the trust's id, which its own event is filed under
    audit.record_about(AuditAction.TRUST_CREATED, trust, actor=by, trust_id=trust.id)
    return trust


def add_school(trust: Trust, *, name: str, code: str, by: User | None = None) -> School:
    """Add a school to a trust.

    Guard: a name and a code unused in the trust. Side effects: records school.created
    (`by` acting, or the system). Flushes; the caller commits.
    """
    name, code = _name_and_code("school", name, code)
    clash = db.session.scalar(
        select(School).where(School.trust_id == trust.id, School.code == code)
    )
    if clash is not None:
        raise ValidationFailed(f"{trust.name} already has a school with code {code}", field="code")
    school = School(trust_id=trust.id, name=name, code=code)
    db.session.add(school)
    db.session.flush()  # the school's id, which its own event is filed under
    audit.record_about(AuditAction.SCHOOL_CREATED, school, actor=by, school_id=school.id)
    return school


def find_trust(code: str | None = None) -> Trust | None:
    """The trust with this code, or the only trust when no code is given."""
    if code:
        return db.session.scalar(select(Trust).where(Trust.code == code.strip().upper()))
    trusts = db.session.scalars(select(Trust).limit(2)).all()
    return trusts[0] if len(trusts) == 1 else None


def find_school(trust: Trust, code: str) -> School | None:
    return db.session.scalar(
        select(School).where(School.trust_id == trust.id, School.code == code.strip().upper())
    )


def current_trust_name() -> str | None:
    """The name to show in the header: the signed-in user's trust, or the only trust."""
    if current_user and current_user.is_authenticated:
        name: str = current_user.trust.name
        return name
    trust = find_trust()
    return trust.name if trust else None


def count_schools(trust: Trust) -> int:
    return db.session.scalar(select(func.count(School.id)).where(School.trust_id == trust.id)) or 0


def set_lado_arrangements(
    school: School, *, local_authority: str, lado_working_days: int, by: User | None = None
) -> list[str]:
    """Record the school's local authority and its LADO referral deadline in working days.

    Guard: 1 to 10 working days (KCSIE expects referral within one working day; some
    authorities allow more). Side effects: records school.lado_updated (`by` acting, or
    the system; details {"fields"}: the names of the fields changed, never their values)
    when anything changed. Returns the changed field names. Flushes; the caller commits.
    """
    if not 1 <= lado_working_days <= 10:
        raise ValidationFailed(
            "The LADO deadline must be between 1 and 10 working days", field="lado_working_days"
        )
    wanted = {
        "local_authority": local_authority.strip()[:120],
        "lado_working_days": lado_working_days,
    }
    changed = [name for name, value in wanted.items() if getattr(school, name) != value]
    for name in changed:
        setattr(school, name, wanted[name])
    if changed:
        audit.record_about(
            AuditAction.SCHOOL_LADO_UPDATED,
            school,
            actor=by,
            school_id=school.id,
            details={"fields": changed},
        )
    db.session.flush()
    return changed


def set_sign_in(
    trust: Trust,
    *,
    label: str | None,
    issuer: str | None,
    client_id: str | None,
    domains: list[str],
    trusts_provider_mfa: bool,
    mfa_acr: str | None,
    passwords_allowed: bool,
    by: User | None = None,
) -> list[str]:
    """Set how the trust's people sign in: through its identity provider (OpenID Connect)
    or not (issuer None), and whether local passwords are allowed.

    Guard: an issuer is an https address (http only on loopback, for testing), with a
    client id, a label and at least one e-mail domain. Side effects: records
    trust.sign_in.changed (details {"fields"}: the names of the fields changed) when
    anything changed. Returns the changed field names. Flushes; the caller commits.
    """
    wanted: dict[str, object]
    if issuer:
        issuer = issuer.strip().rstrip("/")
        loopback = issuer.startswith(("http://127.0.0.1:", "http://localhost:"))
        if not (issuer.startswith("https://") or loopback):
            raise ValidationFailed("The issuer must be an https:// address", field="issuer")
        cleaned = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
        if not (client_id and client_id.strip() and label and label.strip() and cleaned):
            raise ValidationFailed(
                "Give the provider's client id, its name for the button and at least one "
                "e-mail domain",
                field="issuer",
            )
        wanted = {
            "sign_in_label": label.strip()[:40],
            "sign_in_issuer": issuer,
            "sign_in_client_id": client_id.strip(),
            "sign_in_domains": ",".join(cleaned),
            "sign_in_trusts_provider_mfa": trusts_provider_mfa,
            "sign_in_mfa_acr": (mfa_acr or "").strip() or None,
        }
    else:
        wanted = dict.fromkeys(
            ("sign_in_label", "sign_in_issuer", "sign_in_client_id", "sign_in_domains",
             "sign_in_mfa_acr")
        ) | {"sign_in_trusts_provider_mfa": False}  # fmt: skip
    if not passwords_allowed and not wanted["sign_in_issuer"]:
        raise ValidationFailed(
            "Passwords can be switched off only when people can sign in through the "
            "identity provider",
            field="passwords_allowed",
        )
    wanted["passwords_allowed"] = passwords_allowed
    changed = [name for name, value in wanted.items() if getattr(trust, name) != value]
    for name in changed:
        setattr(trust, name, wanted[name])
    if changed:
        audit.record_about(
            AuditAction.TRUST_SIGN_IN_CHANGED, trust, actor=by, details={"fields": changed}
        )
    db.session.flush()
    return changed


def set_pattern_rule(
    trust: Trust, *, concerns: int, months: int, same_clause: int, by: User | None = None
) -> list[str]:
    """Set the trust's pattern rule (tracker/insight/patterns.py): `concerns` concerns
    about one person within `months` months, or `same_clause` of them citing the same
    clause, flag a case for review.

    Guard: each at least 2 (one concern is no pattern), months from 1 to 120. Side
    effects: trust.pattern_rule.changed with the new values, when anything changed.
    Returns the changed field names. Flushes; the caller commits.
    """
    if concerns < 2 or same_clause < 2:
        raise ValidationFailed("A pattern takes at least 2 concerns", field="concerns")
    if not 1 <= months <= 120:
        raise ValidationFailed("Give a number of months from 1 to 120", field="months")
    wanted = {
        "pattern_concerns": concerns,
        "pattern_months": months,
        "pattern_same_clause": same_clause,
    }
    changed = [name for name, value in wanted.items() if getattr(trust, name) != value]
    for name in changed:
        setattr(trust, name, wanted[name])
    if changed:
        audit.record_about(
            AuditAction.TRUST_PATTERN_RULE_CHANGED,
            trust,
            actor=by,
            details={"concerns": concerns, "months": months, "same_clause": same_clause},
        )
    db.session.flush()
    return changed
