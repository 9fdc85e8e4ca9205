"""Retention rules for closed cases and the deadlines for answering subject access requests.

Pure functions, so no app or database fixtures: these run once, not once per backend.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from tracker.cases.models import Track
from tracker.privacy.deadlines import (
    ExtensionReason,
    calendar_months_due,
    extended_response_due,
    response_due,
)
from tracker.retention.rules import HoldReason, Retention, RetentionRule, compute_retention
from tracker.workflow.clocks import is_working_day
from tracker.workflow.models import AllegationOutcome, LowLevelOutcome

D = date
A = AllegationOutcome
L = LowLevelOutcome

# The brief's worked example: an allegation on 1 September 2031 against someone due to
# retire on 3 March 2040, the case closed on 1 December 2031.
FACTS: dict[str, object] = {
    "track": Track.ALLEGATION,
    "outcome": A.SUBSTANTIATED,
    "reported_on": D(2031, 9, 1),
    "closed_on": D(2031, 12, 1),
    "normal_retirement_date": D(2040, 3, 3),
    "left_employment_on": None,
    "sexual_abuse": False,
    "subject_consents_to_keep": False,
}


def retention(**changes: object) -> Retention:
    return compute_retention(**(FACTS | changes))  # type: ignore[arg-type]


# --- Allegations: 10 years or the normal retirement date, whichever is later -----------


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param(A.SUBSTANTIATED, id="a substantiated allegation is kept"),
        pytest.param(A.UNSUBSTANTIATED, id="an unsubstantiated allegation is kept"),
        pytest.param(A.UNFOUNDED, id="an unfounded allegation is kept"),
    ],
)
def test_allegations_are_kept_10_years_or_to_retirement(outcome: AllegationOutcome) -> None:
    assert retention(outcome=outcome) == Retention(
        rule=RetentionRule.ALLEGATION,
        due_on=D(2041, 9, 1),
        is_review=False,
        held_because=None,
        missing=(),
        explanation=(
            "Kept until 31 August 2041: 10 years from the allegation (1 September 2031), "
            "later than the subject's normal retirement date (3 March 2040)."
        ),
    )


@pytest.mark.parametrize(
    ("retirement", "due_on", "explanation"),
    [
        pytest.param(
            D(2040, 3, 3),
            D(2041, 9, 1),
            "Kept until 31 August 2041: 10 years from the allegation (1 September 2031), "
            "later than the subject's normal retirement date (3 March 2040).",
            id="ten years end after retirement, so the ten years decide",
        ),
        pytest.param(
            D(2052, 7, 14),
            D(2052, 7, 15),
            "Kept until 14 July 2052: the subject's normal retirement date, later than 10 "
            "years from the allegation (1 September 2031), which end on 31 August 2041.",
            id="retirement comes after the ten years, so retirement decides",
        ),
        pytest.param(
            D(2041, 8, 31),
            D(2041, 9, 1),
            "Kept until 31 August 2041: 10 years from the allegation (1 September 2031) end "
            "on the subject's normal retirement date.",
            id="retirement on the last day of the ten years is the same date",
        ),
        pytest.param(
            D(2041, 9, 1),
            D(2041, 9, 2),
            "Kept until 1 September 2041: the subject's normal retirement date, later than 10 "
            "years from the allegation (1 September 2031), which end on 31 August 2041.",
            id="retirement on the tenth anniversary is a day later and decides",
        ),
        pytest.param(
            D(2041, 8, 30),
            D(2041, 9, 1),
            "Kept until 31 August 2041: 10 years from the allegation (1 September 2031), "
            "later than the subject's normal retirement date (30 August 2041).",
            id="retirement the day before the ten years end loses by a day",
        ),
        pytest.param(
            D(2029, 1, 1),
            D(2041, 9, 1),
            "Kept until 31 August 2041: 10 years from the allegation (1 September 2031), "
            "later than the subject's normal retirement date (1 January 2029).",
            id="a retirement date already past when the allegation was made",
        ),
    ],
)
def test_the_later_of_ten_years_and_retirement(
    retirement: date, due_on: date, explanation: str
) -> None:
    result = retention(normal_retirement_date=retirement)
    assert (result.due_on, result.explanation) == (due_on, explanation)
    assert result.rule is RetentionRule.ALLEGATION
    assert not result.is_review


@pytest.mark.parametrize(
    ("reported_on", "kept_until", "due_on"),
    [
        pytest.param(
            D(2028, 2, 29), "28 February 2038", D(2038, 3, 1), id="29 February runs to 28 February"
        ),
        pytest.param(
            D(2028, 2, 28), "27 February 2038", D(2038, 2, 28), id="28 February runs to 27 February"
        ),
        pytest.param(
            D(2028, 3, 1), "28 February 2038", D(2038, 3, 1), id="1 March runs to 28 February"
        ),
        pytest.param(
            D(2030, 3, 1),
            "29 February 2040",
            D(2040, 3, 1),
            id="1 March runs to 29 February when the tenth year is a leap year",
        ),
        pytest.param(
            D(2031, 1, 1), "31 December 2040", D(2041, 1, 1), id="1 January runs to 31 December"
        ),
        pytest.param(
            D(2026, 12, 31), "30 December 2036", D(2036, 12, 31), id="31 December runs to 30th"
        ),
    ],
)
def test_ten_years_count_the_allegation_date_as_day_one(
    reported_on: date, kept_until: str, due_on: date
) -> None:
    result = retention(
        reported_on=reported_on, closed_on=reported_on, normal_retirement_date=D(2030, 1, 1)
    )
    assert result.due_on == due_on
    assert result.explanation.startswith(f"Kept until {kept_until}: 10 years from the allegation")


def test_a_case_closed_on_the_day_it_was_reported() -> None:
    assert retention(closed_on=D(2031, 9, 1)).due_on == D(2041, 9, 1)


@pytest.mark.parametrize(
    "left_on",
    [
        pytest.param(D(2031, 10, 1), id="the subject left before the case closed"),
        pytest.param(D(2035, 7, 31), id="the subject left after the case closed"),
    ],
)
def test_leaving_does_not_shorten_an_allegation(left_on: date) -> None:
    assert retention(left_employment_on=left_on) == retention(left_employment_on=None)


def test_an_unknown_retirement_date_is_flagged_for_review_not_guessed() -> None:
    assert retention(normal_retirement_date=None) == Retention(
        rule=RetentionRule.ALLEGATION,
        due_on=D(2041, 9, 1),
        is_review=True,
        held_because=None,
        missing=("normal_retirement_date",),
        explanation=(
            "Kept until at least 31 August 2041, then reviewed: 10 years from the "
            "allegation (1 September 2031). The subject's normal retirement date is not "
            "recorded; if it is later, the record must be kept until then. Record it to "
            "settle the date."
        ),
    )


@pytest.mark.parametrize(
    ("reported_on", "retirement", "due_on", "passed"),
    [
        pytest.param(
            D(2014, 3, 10),
            D(2020, 1, 1),
            D(2026, 5, 12),
            " That date passed before the case closed, so disposal was due when it closed "
            "(12 May 2026).",
            id="both periods ran out while the case was open so disposal is due on closure",
        ),
        pytest.param(
            D(2016, 5, 12),
            D(2020, 1, 1),
            D(2026, 5, 12),
            None,
            id="the ten years ending the day before closure are due on closure without comment",
        ),
        pytest.param(
            D(2014, 3, 10),
            None,
            D(2026, 5, 12),
            " That date passed before the case closed, so the review was due when it closed "
            "(12 May 2026).",
            id="an overdue review without a retirement date is due on closure",
        ),
    ],
)
def test_a_period_that_ran_out_before_closure_is_due_on_closure(
    reported_on: date, retirement: date | None, due_on: date, passed: str | None
) -> None:
    result = retention(
        reported_on=reported_on, closed_on=D(2026, 5, 12), normal_retirement_date=retirement
    )
    assert result.due_on == due_on
    if passed is None:
        assert "passed before the case closed" not in result.explanation
    else:
        assert result.explanation.endswith("." + passed)


def test_an_allegation_withdrawn_without_an_outcome_is_kept_like_an_allegation() -> None:
    result = retention(outcome=None)
    assert (result.rule, result.due_on, result.is_review) == (
        RetentionRule.ALLEGATION,
        D(2041, 9, 1),
        False,
    )
    assert result.explanation == (
        "It was withdrawn without an outcome, so it is kept as an allegation not found false "
        "or malicious. Kept until 31 August 2041: 10 years from the allegation (1 September "
        "2031), later than the subject's normal retirement date (3 March 2040)."
    )


def test_stored_values_work_like_the_enums() -> None:
    assert retention(track="allegation", outcome="unfounded") == retention(
        track=Track.ALLEGATION, outcome=A.UNFOUNDED
    )


# --- False or malicious allegations: removed unless the subject consents ---------------


@pytest.mark.parametrize(
    ("outcome", "word"),
    [
        pytest.param(A.FALSE, "false", id="a false allegation is removed on closure"),
        pytest.param(A.MALICIOUS, "malicious", id="a malicious allegation is removed on closure"),
    ],
)
def test_false_or_malicious_allegations_are_removed_once_closed(
    outcome: AllegationOutcome, word: str
) -> None:
    assert retention(outcome=outcome) == Retention(
        rule=RetentionRule.FALSE_OR_MALICIOUS_REMOVED,
        due_on=D(2031, 12, 1),
        is_review=False,
        held_because=None,
        missing=(),
        explanation=(
            "Removed from the personnel record when the case closed (1 December 2031): the "
            f"allegation was found {word}, and the subject has not consented to keeping it."
        ),
    )


def test_a_false_allegation_closed_on_the_day_reported_is_removed_that_day() -> None:
    result = retention(outcome=A.FALSE, closed_on=D(2031, 9, 1))
    assert result.due_on == D(2031, 9, 1)
    assert result.is_due(D(2031, 9, 1))


def test_a_false_allegation_without_a_retirement_date_misses_nothing() -> None:
    result = retention(outcome=A.FALSE, normal_retirement_date=None)
    assert (result.missing, result.is_review) == ((), False)


@pytest.mark.parametrize(
    ("outcome", "word"),
    [
        pytest.param(A.FALSE, "false", id="a false allegation is kept with consent"),
        pytest.param(A.MALICIOUS, "malicious", id="a malicious allegation is kept with consent"),
    ],
)
def test_consent_keeps_a_false_or_malicious_allegation_like_any_other(
    outcome: AllegationOutcome, word: str
) -> None:
    assert retention(outcome=outcome, subject_consents_to_keep=True) == Retention(
        rule=RetentionRule.FALSE_OR_MALICIOUS_KEPT,
        due_on=D(2041, 9, 1),
        is_review=False,
        held_because=None,
        missing=(),
        explanation=(
            f"The allegation was found {word}, but the subject consents to keeping the "
            "record (if they withdraw consent, it is removed). Kept until 31 August 2041: "
            "10 years from the allegation (1 September 2031), later than the subject's "
            "normal retirement date (3 March 2040)."
        ),
    )


def test_consent_with_an_unknown_retirement_date_is_flagged_for_review() -> None:
    result = retention(outcome=A.FALSE, subject_consents_to_keep=True, normal_retirement_date=None)
    assert (result.rule, result.due_on, result.is_review, result.missing) == (
        RetentionRule.FALSE_OR_MALICIOUS_KEPT,
        D(2041, 9, 1),
        True,
        ("normal_retirement_date",),
    )


def test_consent_changes_nothing_for_an_allegation_that_was_not_false() -> None:
    assert retention(subject_consents_to_keep=True) == retention(subject_consents_to_keep=False)


# --- Low-level concerns: until the subject leaves, then a review -----------------------

LOW_LEVEL = {"track": Track.LOW_LEVEL, "outcome": L.ADVICE_AND_GUIDANCE}


@pytest.mark.parametrize(
    "outcome",
    [
        pytest.param(L.NO_FURTHER_ACTION, id="no further action"),
        pytest.param(L.ADVICE_AND_GUIDANCE, id="advice and guidance"),
        pytest.param(L.REFERRED_TO_DISCIPLINARY, id="referred to the disciplinary procedure"),
        pytest.param(None, id="withdrawn after triage without an outcome"),
    ],
)
def test_a_low_level_concern_is_kept_while_the_subject_works_here(
    outcome: LowLevelOutcome | None,
) -> None:
    assert retention(track=Track.LOW_LEVEL, outcome=outcome) == Retention(
        rule=RetentionRule.LOW_LEVEL,
        due_on=None,
        is_review=True,
        held_because=None,
        missing=(),
        explanation="Kept while the subject works for the trust, then reviewed when they leave.",
    )


@pytest.mark.parametrize(
    ("left_on", "due_on", "explanation"),
    [
        pytest.param(
            D(2035, 7, 31),
            D(2035, 8, 1),
            "Kept until 31 July 2035, the subject's last day in the trust's employment, then "
            "reviewed.",
            id="the subject leaves years after closure and the review is the day after",
        ),
        pytest.param(
            D(2031, 12, 1),
            D(2031, 12, 2),
            "Kept until 1 December 2031, the subject's last day in the trust's employment, "
            "then reviewed.",
            id="the subject leaves on the day the case closes",
        ),
        pytest.param(
            D(2031, 10, 15),
            D(2031, 12, 1),
            "Kept until 15 October 2031, the subject's last day in the trust's employment, "
            "then reviewed. That date passed before the case closed, so the review was due "
            "when it closed (1 December 2031).",
            id="the subject left before the case closed so the review is due on closure",
        ),
        pytest.param(
            D(2020, 7, 31),
            D(2031, 12, 1),
            "Kept until 31 July 2020, the subject's last day in the trust's employment, then "
            "reviewed. That date passed before the case closed, so the review was due when it "
            "closed (1 December 2031).",
            id="a former member of staff's concern is reviewed on closure",
        ),
    ],
)
def test_a_low_level_concern_is_reviewed_when_the_subject_leaves(
    left_on: date, due_on: date, explanation: str
) -> None:
    assert retention(**LOW_LEVEL, left_employment_on=left_on) == Retention(
        rule=RetentionRule.LOW_LEVEL,
        due_on=due_on,
        is_review=True,
        held_because=None,
        missing=(),
        explanation=explanation,
    )


def test_a_low_level_concern_ignores_the_retirement_date() -> None:
    with_date = retention(**LOW_LEVEL, left_employment_on=D(2035, 7, 31))
    without = retention(**LOW_LEVEL, left_employment_on=D(2035, 7, 31), normal_retirement_date=None)
    assert with_date == without
    assert without.missing == ()


@pytest.mark.parametrize(
    ("left_on", "due_on", "ends"),
    [
        pytest.param(None, None, "then reviewed when they leave.", id="still employed"),
        pytest.param(D(2035, 7, 31), D(2035, 8, 1), "then reviewed.", id="left since"),
    ],
)
def test_a_case_withdrawn_before_triage_is_kept_as_a_low_level_concern(
    left_on: date | None, due_on: date | None, ends: str
) -> None:
    result = retention(track=None, outcome=None, left_employment_on=left_on)
    assert (result.rule, result.due_on, result.is_review, result.missing) == (
        RetentionRule.LOW_LEVEL,
        due_on,
        True,
        (),
    )
    assert result.explanation.startswith(
        "It was withdrawn before triage, so it is kept as a low-level concern. Kept "
    )
    assert result.explanation.endswith(ends)


# --- Open cases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("track", "outcome"),
    [
        pytest.param(None, None, id="a case not yet triaged"),
        pytest.param(Track.LOW_LEVEL, None, id="a low-level concern under investigation"),
        pytest.param(Track.ALLEGATION, A.FALSE, id="a false allegation decided but not closed"),
        pytest.param(Track.ALLEGATION, A.SUBSTANTIATED, id="a substantiated one under appeal"),
    ],
)
def test_an_open_case_has_no_retention_yet(track: Track | None, outcome: str | None) -> None:
    result = retention(track=track, outcome=outcome, closed_on=None)
    assert result == Retention(
        rule=RetentionRule.NOT_CLOSED,
        due_on=None,
        is_review=False,
        held_because=None,
        missing=(),
        explanation=(
            "No retention yet: the case is still open. It is worked out when the case closes."
        ),
    )
    assert not result.is_due(D(2099, 1, 1))


# --- Sexual abuse: preserved whatever the rule says -------------------------------------

HOLD = "Preserved whatever the retention rule says: the case is about sexual abuse (inquiry hold)."


@pytest.mark.parametrize(
    ("facts", "rule", "is_review"),
    [
        pytest.param({}, RetentionRule.ALLEGATION, False, id="a substantiated allegation"),
        pytest.param(
            {"outcome": A.MALICIOUS},
            RetentionRule.FALSE_OR_MALICIOUS_REMOVED,
            False,
            id="a malicious allegation is not removed",
        ),
        pytest.param(
            {"outcome": A.FALSE, "subject_consents_to_keep": True},
            RetentionRule.FALSE_OR_MALICIOUS_KEPT,
            False,
            id="a false allegation kept with consent",
        ),
        pytest.param(
            {"track": Track.LOW_LEVEL, "outcome": None, "left_employment_on": D(2033, 1, 31)},
            RetentionRule.LOW_LEVEL,
            True,
            id="a low-level concern the subject has left",
        ),
    ],
)
def test_a_sexual_abuse_case_is_held_whatever_the_rule(
    facts: dict[str, object], rule: RetentionRule, is_review: bool
) -> None:
    without_hold = retention(**facts)
    result = retention(**facts, sexual_abuse=True)
    assert (result.rule, result.due_on, result.is_review, result.held_because) == (
        rule,
        None,
        is_review,
        HoldReason.SEXUAL_ABUSE_INQUIRY,
    )
    assert result.held
    assert result.explanation == f"{HOLD} Without the hold: {without_hold.explanation}"
    assert without_hold.due_on is not None
    assert not result.is_due(without_hold.due_on + timedelta(days=365 * 50))
    assert result.warn_on(30) is None


def test_a_hold_stops_disposal_even_beside_a_due_date() -> None:
    # Whoever adds a hold later (a legal hold) may keep the date the rule gave: the hold
    # still wins.
    held = dataclasses.replace(retention(), held_because=HoldReason.SEXUAL_ABUSE_INQUIRY)
    assert held.due_on == D(2041, 9, 1)
    assert not held.is_due(D(2050, 1, 1))
    assert held.warn_on(30) is None


def test_a_held_case_still_reports_missing_facts() -> None:
    result = retention(sexual_abuse=True, normal_retirement_date=None)
    assert result.missing == ("normal_retirement_date",)


def test_an_open_sexual_abuse_case_is_held_already() -> None:
    result = retention(closed_on=None, sexual_abuse=True)
    assert (result.rule, result.held_because) == (
        RetentionRule.NOT_CLOSED,
        HoldReason.SEXUAL_ABUSE_INQUIRY,
    )
    assert result.explanation == (
        f"{HOLD} No retention yet: the case is still open. It is worked out when the case closes."
    )


def test_a_case_without_a_hold_is_not_held() -> None:
    result = retention()
    assert not result.held
    assert result.held_because is None


# --- Facts the workflow cannot produce are refused --------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"track": "concern"}, "'concern' is not a valid Track", id="unknown track"),
        pytest.param(
            {"outcome": "upheld"},
            "'upheld' is not an outcome of the allegation track",
            id="an outcome no track has",
        ),
        pytest.param(
            {"outcome": L.NO_FURTHER_ACTION},
            "'no_further_action' is not an outcome of the allegation track",
            id="a low-level outcome on an allegation",
        ),
        pytest.param(
            {"track": Track.LOW_LEVEL, "outcome": A.FALSE},
            "'false' is not an outcome of the low_level track",
            id="an allegation outcome on a low-level concern",
        ),
        pytest.param(
            {"track": None, "outcome": A.UNFOUNDED},
            "without a track",
            id="an outcome on a case never triaged",
        ),
        pytest.param(
            {"closed_on": D(2031, 8, 31)},
            "cannot be before the allegation was reported",
            id="a closure the day before the report",
        ),
    ],
)
def test_impossible_facts_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        retention(**changes)


@pytest.mark.parametrize("fact", ["sexual_abuse", "subject_consents_to_keep", "left_employment_on"])
def test_every_fact_must_be_given(fact: str) -> None:
    facts = {name: value for name, value in FACTS.items() if name != fact}
    with pytest.raises(TypeError, match=fact):
        compute_retention(**facts)  # type: ignore[arg-type]


# --- Due dates and warnings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        pytest.param(D(2041, 8, 31), False, id="not due on the last day kept"),
        pytest.param(D(2041, 9, 1), True, id="due on the due date"),
        pytest.param(D(2045, 1, 1), True, id="still due years later"),
        pytest.param(D(2031, 12, 1), False, id="not due on closure"),
    ],
)
def test_is_due(today: date, expected: bool) -> None:
    assert retention().is_due(today) is expected


def test_a_review_falls_due_like_a_disposal() -> None:
    result = retention(**LOW_LEVEL, left_employment_on=D(2035, 7, 31))
    assert not result.is_due(D(2035, 7, 31))
    assert result.is_due(D(2035, 8, 1))
    assert result.is_review


def test_a_low_level_concern_of_someone_still_employed_is_never_due() -> None:
    result = retention(**LOW_LEVEL)
    assert not result.is_due(D(2099, 12, 31))
    assert result.warn_on(30) is None


@pytest.mark.parametrize(
    ("facts", "days_before", "expected"),
    [
        pytest.param({}, 30, D(2041, 8, 2), id="warn 30 days before disposal"),
        pytest.param({}, 0, D(2041, 9, 1), id="warn 0 days before is the due date"),
        pytest.param({}, 365, D(2040, 9, 1), id="warn a year before"),
        pytest.param(
            {"outcome": A.FALSE},
            14,
            D(2031, 11, 17),
            id="a removal due on closure warns on a date already past",
        ),
        pytest.param(
            {**LOW_LEVEL, "left_employment_on": D(2035, 7, 31)},
            7,
            D(2035, 7, 25),
            id="a review is warned of too",
        ),
        pytest.param({"closed_on": None}, 30, None, id="an open case has nothing to warn of"),
    ],
)
def test_warn_on(facts: dict[str, object], days_before: int, expected: date | None) -> None:
    assert retention(**facts).warn_on(days_before) == expected


def test_warn_on_refuses_a_negative_number_of_days() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        retention().warn_on(-1)


def test_a_retention_is_immutable() -> None:
    result = retention()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.due_on = D(2030, 1, 1)  # type: ignore[misc]


def test_rule_codes_are_stable_for_storing() -> None:
    # Tombstones store these: renaming one would orphan every row that holds it.
    assert [rule.value for rule in RetentionRule] == [
        "not_closed",
        "allegation_10y_or_retirement",
        "false_or_malicious_removed",
        "false_or_malicious_kept_with_consent",
        "low_level_until_leaving",
    ]
    assert [reason.value for reason in HoldReason] == ["sexual_abuse_inquiry", "legal_hold"]
    assert RetentionRule.ALLEGATION.label == (
        "Allegation: 10 years from the allegation or the normal retirement date, whichever is later"
    )


# --- Subject access: one calendar month, by the ICO's rule ------------------------------


@pytest.mark.parametrize(
    ("received_on", "expected"),
    [
        pytest.param(D(2025, 9, 3), D(2025, 10, 3), id="3 September is due on 3 October"),
        pytest.param(
            D(2025, 1, 31), D(2025, 2, 28), id="31 January is due on 28 February, its last day"
        ),
        pytest.param(
            D(2028, 1, 31), D(2028, 2, 29), id="31 January is due on 29 February in a leap year"
        ),
        pytest.param(
            D(2026, 1, 31),
            D(2026, 3, 2),
            id="31 January 2026 runs to Saturday 28 February and so to Monday 2 March",
        ),
        pytest.param(D(2026, 3, 31), D(2026, 4, 30), id="31 March is due on 30 April"),
        pytest.param(D(2026, 5, 31), D(2026, 6, 30), id="31 May is due on 30 June"),
        pytest.param(
            D(2026, 11, 30), D(2026, 12, 30), id="30 November is due on 30 December, a Wednesday"
        ),
        pytest.param(
            D(2029, 11, 30),
            D(2029, 12, 31),
            id="30 November 2029 runs to Sunday 30 December and so to Monday 31st",
        ),
        pytest.param(
            D(2026, 11, 25),
            D(2026, 12, 29),
            id="due on Christmas Day moves past Boxing Day observed to 29 December",
        ),
        pytest.param(D(2026, 3, 6), D(2026, 4, 7), id="due on Easter Monday moves to the Tuesday"),
        pytest.param(
            D(2026, 3, 3), D(2026, 4, 7), id="due on Good Friday moves over Easter to Tuesday"
        ),
        pytest.param(D(2026, 2, 14), D(2026, 3, 16), id="due on a Saturday moves to the Monday"),
        pytest.param(
            D(2026, 4, 25),
            D(2026, 5, 26),
            id="received on a Saturday and due on the spring bank holiday Monday",
        ),
        pytest.param(D(2026, 12, 1), D(2027, 1, 4), id="due on New Year's Day moves to the Monday"),
        pytest.param(
            D(2026, 12, 25),
            D(2027, 1, 25),
            id="received on Christmas Day the day of receipt still counts",
        ),
    ],
)
def test_response_due(received_on: date, expected: date) -> None:
    assert response_due(received_on) == expected


def test_every_response_deadline_is_a_working_day_at_least_28_days_on() -> None:
    # The ICO suggests 28 days where a fixed count is wanted: a month is never shorter.
    day = D(2026, 1, 1)
    while day < D(2029, 1, 1):
        due = response_due(day)
        assert is_working_day(due), day
        assert 28 <= (due - day).days <= 35, day
        day += timedelta(days=1)


# --- Subject access: extended by up to two further months -------------------------------


@pytest.mark.parametrize(
    ("received_on", "expected"),
    [
        pytest.param(D(2026, 10, 15), D(2027, 1, 15), id="15 October is extended into January"),
        pytest.param(
            D(2026, 11, 30),
            D(2027, 3, 1),
            id="30 November runs over the year end to Sunday 28 February and so to 1 March",
        ),
        pytest.param(
            D(2027, 11, 30), D(2028, 2, 29), id="30 November runs to 29 February in a leap year"
        ),
        pytest.param(
            D(2026, 10, 31),
            D(2027, 2, 1),
            id="31 October runs to Sunday 31 January and so to 1 February",
        ),
        pytest.param(
            D(2026, 10, 1), D(2027, 1, 4), id="due on New Year's Day 2027 moves to Monday 4th"
        ),
        pytest.param(
            D(2028, 2, 29),
            D(2028, 5, 30),
            id="29 February runs to the spring bank holiday and so to the Tuesday",
        ),
        pytest.param(
            D(2026, 1, 31),
            D(2026, 4, 30),
            id="counted from receipt not from the first deadline moved to 2 March",
        ),
    ],
)
def test_extended_response_due_is_three_months_from_receipt(
    received_on: date, expected: date
) -> None:
    assert extended_response_due(received_on, ExtensionReason.COMPLEX) == expected


def test_an_extension_may_be_one_further_month() -> None:
    assert extended_response_due(D(2026, 1, 31), ExtensionReason.NUMEROUS, 1) == D(2026, 3, 31)


def test_an_extension_accepts_the_stored_reason() -> None:
    assert extended_response_due(D(2026, 10, 15), "numerous") == D(2027, 1, 15)


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("", id="no reason"),
        pytest.param("busy", id="a reason the law does not give"),
        pytest.param("Complex", id="a label rather than the stored value"),
    ],
)
def test_an_extension_needs_a_reason(reason: str) -> None:
    with pytest.raises(ValueError, match="an extension needs a reason: one of complex, numerous"):
        extended_response_due(D(2026, 10, 15), reason)


@pytest.mark.parametrize(
    "further_months",
    [
        pytest.param(0, id="no further months"),
        pytest.param(3, id="three further months"),
        pytest.param(-1, id="a negative extension"),
    ],
)
def test_an_extension_is_one_or_two_further_months(further_months: int) -> None:
    with pytest.raises(ValueError, match="1 to 2 further months"):
        extended_response_due(D(2026, 10, 15), ExtensionReason.COMPLEX, further_months)


def test_calendar_months_due_refuses_less_than_a_month() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        calendar_months_due(D(2026, 10, 15), 0)


def test_an_extended_deadline_is_always_later_than_the_first() -> None:
    day = D(2026, 1, 1)
    while day < D(2028, 1, 1):
        first = response_due(day)
        assert extended_response_due(day, ExtensionReason.COMPLEX, 1) > first, day
        assert extended_response_due(day, ExtensionReason.COMPLEX) > first, day
        day += timedelta(days=1)
