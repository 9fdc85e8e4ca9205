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
}

# Roles held by exactly one person per school or per trust: routing depends on it.
SINGLE_HOLDER_ROLES = frozenset({Role.HEADTEACHER, Role.CEO, Role.CHAIR})
