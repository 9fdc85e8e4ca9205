"""The roles of DESIGN.md section 2 and the scope each may be granted at."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"
    HEADTEACHER = "headteacher"
    CEO = "ceo"
    CHAIR = "chair"
    DPO = "dpo"
    AUDITOR = "auditor"
    TRUST_ADMIN = "trust_admin"
    # Every member of staff with an account: raises concerns, reads and acknowledges the
    # policy, asks consent for pictures (clause 3.5); reads no case and no register.
    STAFF = "staff"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


class Scope(StrEnum):
    SCHOOL = "school"
    TRUST = "trust"
    EITHER = "either"


ROLE_LABELS: dict[Role, str] = {
    Role.DSL: "Designated safeguarding lead",
    Role.DEPUTY_DSL: "Deputy designated safeguarding lead",
    Role.HEADTEACHER: "Headteacher",
    Role.CEO: "Chief executive officer",
    Role.CHAIR: "Chair of trustees",
    Role.DPO: "Data protection officer",
    Role.AUDITOR: "Auditor",
    Role.TRUST_ADMIN: "Trust administrator",
    Role.STAFF: "Member of staff",
}

ROLE_SCOPES: dict[Role, Scope] = {
    Role.DSL: Scope.SCHOOL,
    Role.DEPUTY_DSL: Scope.SCHOOL,
    Role.HEADTEACHER: Scope.SCHOOL,
    Role.CEO: Scope.TRUST,
    Role.CHAIR: Scope.TRUST,
    Role.DPO: Scope.TRUST,
    Role.AUDITOR: Scope.EITHER,
    Role.TRUST_ADMIN: Scope.TRUST,
    Role.STAFF: Scope.SCHOOL,
}

# Roles held by exactly one person per school or per trust: routing depends on it.
SINGLE_HOLDER_ROLES = frozenset({Role.HEADTEACHER, Role.CEO, Role.CHAIR})
