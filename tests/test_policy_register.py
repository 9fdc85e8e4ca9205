"""The seeded policy, the importer's format, and the version-in-force look-up."""

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.policy_helpers import publish_next, seed_policy
from tracker.errors import ValidationFailed
from tracker.policy.importer import PolicyFileError, import_policy, read_policy_file
from tracker.policy.models import Clause, PolicyVersion, VersionStatus
from tracker.policy.services import citable_clauses, rules_in_force, version_in_force

# The trust's clause register: reference, kind, significance, heading. This is part of the
# product's contract (case forms, exports and reports use these references).
CLAUSE_REGISTER = [
    ("1.0", "info", None, "Rationale"),
    ("2.1", "info", None, "What counts as social media"),
    ("2.2", "info", None, "Other online presence"),
    ("2.3", "rule", "low", "Legal duties still apply"),
    ("2.4", "rule", "medium", "Trust policies still apply"),
    ("2.5", "info", None, "School-sanctioned vs personal use"),
    ("3.1", "rule", "low", "Privacy settings"),
    ("3.2(a)", "rule", "low", "Conduct: disrepute"),
    ("3.2(b)", "rule", "low", "Conduct: parental complaints"),
    ("3.2(c)", "rule", "low", "Conduct: derogatory to school or staff"),
    ("3.2(d)", "rule", "medium", "Conduct: derogatory to pupils, parents, governors"),
    ("3.2(e)", "rule", "high", "Conduct: fitness to work with children"),
    ("3.2(f)", "rule", "low", "Conduct: Teachers' Standards"),
    ("3.3", "rule", "medium", "Online contact with parents/carers"),
    ("3.4", "rule", "high", "Online contact with pupils"),
    ("3.5", "rule", "low", "Pictures and comments about school events"),
    ("3.6", "info", None, "Consequence"),
]


def test_the_seed_has_exactly_the_clause_register(make):
    version = seed_policy(make.trust(name="Horizon Multi Academy Trust"))
    assert version.title == "Staff Use of Social Media Policy 2020"
    assert version.status == VersionStatus.PUBLISHED
    assert (version.approved_on, version.review_due) == (date(2020, 12, 1), date(2023, 12, 1))
    assert [
        (c.reference, c.kind, c.significance, c.heading) for c in version.clauses
    ] == CLAUSE_REGISTER
    assert all(clause.text for clause in version.clauses)
    assert "STAFF USE OF SOCIAL MEDIA POLICY 2020" in version.full_text


def test_info_clauses_cannot_be_cited(make):
    version = seed_policy(make.trust())
    citable = [clause.reference for clause in citable_clauses(version)]
    assert citable == [ref for ref, kind, *_ in CLAUSE_REGISTER if kind == "rule"]
    assert not {"1.0", "2.1", "2.2", "2.5", "3.6"} & set(citable)


def test_seed_command_loads_once(runner, make, db):
    make.trust(name="Horizon Multi Academy Trust")
    first = runner.invoke(args=["policy", "seed"])
    assert first.exit_code == 0, first.output
    assert "17 clauses, 12 of them rules a case can cite" in first.output
    again = runner.invoke(args=["policy", "seed"])
    assert again.exit_code == 0 and "already in the register" in again.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(PolicyVersion.id))) == 1


def test_import_command_reads_another_policy_with_sub_clauses(runner, make, db, tmp_path):
    make.trust()
    (tmp_path / "phones.toml").write_text(
        """
[policy]
title = "Mobile Phone Policy"
[version]
title = "Mobile Phone Policy 2024"
label = "2024"
approved_on = 2024-06-01
review_due = 2026-06-01
full_text = "Phones stay in lockers."
[[clauses]]
reference = "1"
kind = "info"
heading = "Scope"
text = "All staff."
[[clauses]]
reference = "2"
kind = "rule"
significance = "medium"
heading = "Phones"
text = "Staff keep phones away during lessons."
[[clauses]]
reference = "2(a)"
kind = "rule"
significance = "high"
heading = "Photos of pupils"
text = "Staff never photograph pupils on a personal phone."
parent = "2"
""",
        encoding="utf-8",
    )
    result = runner.invoke(args=["policy", "import", str(tmp_path / "phones.toml")])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    version = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version_label == "2024"))
    child = version.clause("2(a)")
    assert child.parent.reference == "2"
    assert version.effective_from == date(2024, 6, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not toml at all [", "is not valid TOML"),
        ("[policy]\ntitle='x'\n", "needs a [policy] and a [version] table"),
        (
            "[policy]\ntitle='x'\n[version]\ntitle='x'\nlabel='1'\nreview_due=2030-01-01\n"
            "[[clauses]]\nreference='1'\nkind='rule'\nheading='h'\ntext='t'\nsignificance='low'\n",
            "[version]: missing 'approved_on'",
        ),
        (
            "[policy]\ntitle='x'\n[version]\ntitle='x'\nlabel='1'\napproved_on=2020-01-01\n"
            "review_due=2030-01-01\n",
            "has no [[clauses]]",
        ),
    ],
)
def test_a_malformed_file_is_explained(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_policy_file(path)


def test_a_clause_that_breaks_a_rule_names_itself_and_nothing_is_loaded(make, db, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        "[policy]\ntitle='x'\n[version]\ntitle='x'\nlabel='1'\napproved_on=2020-01-01\n"
        "review_due=2030-01-01\n[[clauses]]\nreference='3.1'\nkind='rule'\nheading='No text'\n"
        "significance='low'\n",
        encoding="utf-8",
    )
    trust = make.trust()
    with pytest.raises(ValidationFailed, match=r"Clause 3.1: A rule needs its text"):
        import_policy(trust, read_policy_file(path))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Clause.id))) == 0


class TestVersionInForce:
    @pytest.fixture
    def versions(self, make):
        first = seed_policy(make.trust())  # in force from 1 December 2020
        second = publish_next(first, effective_from=date(2025, 9, 1))
        return first, second

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2020, 11, 30), None),  # before the policy existed
            (date(2020, 12, 1), "2020"),  # the day it took effect
            (date(2025, 8, 31), "2020"),  # the day before version 2
            (date(2025, 9, 1), "2"),  # the day version 2 took effect
            (date(2026, 1, 1), "2"),
        ],
    )
    def test_picks_the_version_at_the_boundaries(self, versions, on, expected):
        found = version_in_force(versions[0].policy, on)
        assert (found.version_label if found else None) == expected

    def test_a_draft_is_never_in_force(self, versions, make):
        from tracker.policy.services import create_draft

        draft = create_draft(versions[0].policy, version_label="3", by=None)
        draft.effective_from = date(2020, 1, 1)
        assert version_in_force(versions[0].policy, date(2026, 1, 1)).version_label == "2"

    def test_rules_in_force_for_the_case_forms(self, versions):
        version, rules = rules_in_force(versions[0].policy, date(2024, 5, 1))
        assert version.version_label == "2020"
        assert all(rule.kind == "rule" for rule in rules) and len(rules) == 12
        assert rules_in_force(versions[0].policy, date(2019, 1, 1)) == (None, [])
