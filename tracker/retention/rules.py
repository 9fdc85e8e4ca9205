"""How long a case is kept (KCSIE Part Four, DESIGN.md section 6): pure rules, no database.

`compute_retention` takes the facts about a case and returns a `Retention`: the rule
applied, the date disposal (or a review) is due, any hold, the facts that are missing and
the rule in words for the case page. Dates are UK dates.

"Kept until D" always means the record is kept through the whole of D; disposal or review
is due from the next day, which is `Retention.due_on`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from tracker.cases.models import Track
from tracker.clock import uk_date
from tracker.db import LabelledEnum
from tracker.workflow.models import AllegationOutcome, LowLevelOutcome

ALLEGATION_YEARS = 10

FALSE_OR_MALICIOUS = frozenset({AllegationOutcome.FALSE, AllegationOutcome.MALICIOUS})

_HELD_WORDS = (
    "Preserved whatever the retention rule says: the case is about sexual abuse (inquiry hold)."
)


class RetentionRule(LabelledEnum):
    """The rule a case's retention follows. The values are stored (a disposed case's
    tombstone names its rule), so a value is never renamed or reused."""

    NOT_CLOSED = "not_closed", "Not closed yet: no retention"
    ALLEGATION = (
        "allegation_10y_or_retirement",
        "Allegation: 10 years from the allegation or the normal retirement date, "
        "whichever is later",
    )
    FALSE_OR_MALICIOUS_REMOVED = (
        "false_or_malicious_removed",
        "False or malicious allegation: removed from the personnel record once closed",
    )
    FALSE_OR_MALICIOUS_KEPT = (
        "false_or_malicious_kept_with_consent",
        "False or malicious allegation kept with the subject's consent",
    )
    LOW_LEVEL = (
        "low_level_until_leaving",
        "Low-level concern: kept until the subject leaves the trust, then reviewed",
    )


class HoldReason(LabelledEnum):
    """Why a record is preserved whatever its retention rule says."""

    SEXUAL_ABUSE_INQUIRY = "sexual_abuse_inquiry", "Sexual abuse: preserved for the inquiry"
    LEGAL_HOLD = "legal_hold", "Legal hold: kept until the hold is lifted"


# The rules in words for the privacy notice: one sentence per stored rule and hold, from
# the same constants the rules use, so that the notice cannot drift from what happens.
NOTICE_RULE_WORDS: dict[RetentionRule, str] = {
    RetentionRule.ALLEGATION: (
        "Allegations found substantiated, unsubstantiated or unfounded, and allegations "
        "withdrawn without an outcome: kept until the member of staff's normal retirement "
        f"date or for {ALLEGATION_YEARS} years from the date of the allegation, whichever is "
        f"later. If the retirement date is not known, the record is reviewed after the "
        f"{ALLEGATION_YEARS} years rather than removed."
    ),
    RetentionRule.FALSE_OR_MALICIOUS_REMOVED: (
        "Allegations found false or malicious: removed once the case is closed."
    ),
    RetentionRule.FALSE_OR_MALICIOUS_KEPT: (
        "If the member of staff asks for a false or malicious allegation to be kept on "
        "record (for example, to show it was disproved), it is kept like any other "
        "allegation, and removed if they withdraw their consent."
    ),
    RetentionRule.LOW_LEVEL: (
        "Low-level concerns, and concerns withdrawn before they were assessed: kept while "
        "the member of staff works for the trust, then reviewed by the data protection "
        "officer when they leave."
    ),
}
NOTICE_HOLD_WORDS: dict[HoldReason, str] = {
    HoldReason.SEXUAL_ABUSE_INQUIRY: (
        "Allegations of sexual abuse: preserved for the statutory inquiry, whatever the "
        "rules above say."
    ),
    HoldReason.LEGAL_HOLD: (
        "Records needed for legal proceedings or an investigation are put on legal hold by "
        "the data protection officer or the chief executive, and kept until the hold is "
        "lifted."
    ),
}
NOTICE_DISPOSAL_WORDS = (
    "When a record's time is up, the case, the people involved, its chronology, its "
    "history and its evidence files are deleted. What remains is a note that a case with "
    "that reference existed at the school, its dates and the rule applied, and the audit "
    "trail of who did what, which records no case content."
)


@dataclass(frozen=True)
class Retention:
    """A case's retention as the rules work it out.

    - `rule`: the rule the facts select (for a held record, the rule that would apply
      without the hold).
    - `due_on`: the first day disposal, or the review when `is_review`, is due; None when
      held, when the case is open, or when the date depends on something that has not
      happened yet (a low-level concern's subject still employed).
    - `is_review`: on `due_on` somebody reviews the record; nothing is disposed of
      automatically.
    - `held_because`: why the record is preserved whatever the rule says, or None.
    - `missing`: the names of facts (`compute_retention`'s parameters) the rule needed
      but did not get.
    - `explanation`: the rule as applied, in words for the case page.
    """

    rule: RetentionRule
    due_on: date | None
    is_review: bool
    held_because: HoldReason | None
    missing: tuple[str, ...]
    explanation: str

    @property
    def held(self) -> bool:
        return self.held_because is not None

    def is_due(self, today: date) -> bool:
        """Whether disposal or review (see `is_review`) is due on `today`: from `due_on`
        on, never while held. A disposal job must still check `is_review`."""
        return not self.held and self.due_on is not None and today >= self.due_on

    def warn_on(self, days_before: int) -> date | None:
        """The date to start warning that disposal or review is coming: `days_before`
        days before `due_on`. None when nothing is due. The date may be before the case
        closed (a false allegation is due for removal on closure): warn at once then.
        Raises ValueError for a negative `days_before`."""
        if days_before < 0:
            raise ValueError(f"days_before must not be negative, got {days_before}")
        if self.held or self.due_on is None:
            return None
        return self.due_on - timedelta(days=days_before)


def compute_retention(
    *,
    track: str | None,
    outcome: str | None,
    reported_on: date,
    closed_on: date | None,
    normal_retirement_date: date | None,
    left_employment_on: date | None,
    sexual_abuse: bool,
    subject_consents_to_keep: bool,
) -> Retention:
    """The retention of a case from the facts about it.

    - `track`, `outcome`: the case's track and the outcome of the decision in force (a
      `Track`, an `AllegationOutcome` or `LowLevelOutcome`, or their stored values); None
      when never triaged or never decided.
    - `reported_on`: the case's `reported_on`, which is "the date of the allegation".
      KCSIE counts 10 years "from the date of the allegation": the day the allegation was
      made to the school, not the day of the conduct it describes, which may be years
      earlier (a historic allegation). The report date is also never earlier than the
      conduct date, so of the two it gives the longer retention. A low-level concern
      escalated to an allegation keeps its report date: escalation re-assesses that report.
    - `closed_on`: the day the case was closed or withdrawn; None while open.
    - `normal_retirement_date`: the subject's, None when not recorded.
    - `left_employment_on`: the subject's last day in the trust's employment; None while
      they are still employed (or the tracker has not been told they left).
    - `sexual_abuse`: the case is about sexual abuse: the record is preserved (inquiry
      hold) whatever the rule says, on either track.
    - `subject_consents_to_keep`: the subject consents to keeping a false or malicious
      allegation on record.

    Every fact is required: a fact left out should be an error, not a shorter retention.
    Raises ValueError for an unknown track or outcome, an outcome of the other track, an
    outcome without a track, or a closure before the report.
    """
    track_ = Track(track) if track is not None else None
    outcome_ = _outcome(track_, outcome)
    if closed_on is not None and closed_on < reported_on:
        raise ValueError(
            f"closed_on ({closed_on}) cannot be before the allegation was reported ({reported_on})"
        )

    if closed_on is None:
        retention = Retention(
            RetentionRule.NOT_CLOSED,
            None,
            False,
            None,
            (),
            "No retention yet: the case is still open. It is worked out when the case closes.",
        )
    elif track_ is None:
        # Only a case withdrawn before triage has no track (triage sets it, and nothing
        # clears it). It is still a record that a concern about an adult was raised;
        # nobody judged it to meet the harm threshold, so it is kept like the low-level
        # concern it was at most: while the subject works here, then reviewed. Deleting it
        # on withdrawal would lose the pattern that low-level records exist to show.
        retention = _low_level(closed_on, left_employment_on)
        retention = replace(
            retention,
            explanation=(
                "It was withdrawn before triage, so it is kept as a low-level concern. "
                + retention.explanation
            ),
        )
    elif track_ is Track.LOW_LEVEL:
        retention = _low_level(closed_on, left_employment_on)
    elif outcome_ in FALSE_OR_MALICIOUS:
        if subject_consents_to_keep:
            retention = _allegation(reported_on, closed_on, normal_retirement_date)
            retention = replace(
                retention,
                rule=RetentionRule.FALSE_OR_MALICIOUS_KEPT,
                explanation=(
                    f"The allegation was found {outcome_.value}, but the subject consents "
                    "to keeping the record (if they withdraw consent, it is removed). "
                    + retention.explanation
                ),
            )
        else:
            retention = Retention(
                RetentionRule.FALSE_OR_MALICIOUS_REMOVED,
                closed_on,
                False,
                None,
                (),
                f"Removed from the personnel record when the case closed "
                f"({uk_date(closed_on)}): the allegation was found {outcome_.value}, and the "
                "subject has not consented to keeping it.",
            )
    else:
        retention = _allegation(reported_on, closed_on, normal_retirement_date)
        if outcome_ is None:
            # An allegation closed without an outcome was withdrawn. Without a finding
            # that it was false or malicious there are no grounds to remove it, so it is
            # kept like an unsubstantiated one.
            retention = replace(
                retention,
                explanation=(
                    "It was withdrawn without an outcome, so it is kept as an allegation "
                    "not found false or malicious. " + retention.explanation
                ),
            )

    if sexual_abuse:
        if retention.rule is RetentionRule.NOT_CLOSED:
            words = f"{_HELD_WORDS} {retention.explanation}"
        else:
            words = f"{_HELD_WORDS} Without the hold: {retention.explanation}"
        retention = replace(
            retention,
            due_on=None,
            held_because=HoldReason.SEXUAL_ABUSE_INQUIRY,
            explanation=words,
        )
    return retention


def under_legal_hold(retention: Retention) -> Retention:
    """The retention while a legal hold stands on the case: held, never due.

    A legal hold is set by a person (the DPO or the CEO) rather than following from the
    facts, so it is applied to `compute_retention`'s answer, not passed into it. The due
    date is kept: it is when disposal falls due once the hold is lifted. An inquiry hold
    already preserves the record for longer, so it stays the reason shown.
    """
    if retention.held_because is HoldReason.SEXUAL_ABUSE_INQUIRY:
        return replace(
            retention,
            explanation=f"{retention.explanation} A legal hold also stands on it.",
        )
    words = "A legal hold stands on the case: nothing is disposed of until it is lifted."
    if retention.due_on is not None:
        words += f" Without the hold, {'review' if retention.is_review else 'disposal'} "
        words += f"would be due on {uk_date(retention.due_on)}."
    return replace(
        retention,
        held_because=HoldReason.LEGAL_HOLD,
        explanation=f"{words} {retention.explanation}",
    )


def _outcome(
    track: Track | None, outcome: str | None
) -> AllegationOutcome | LowLevelOutcome | None:
    if outcome is None:
        return None
    if track is None:
        raise ValueError(f"outcome '{outcome}' without a track: only a triaged case is decided")
    outcomes = AllegationOutcome if track is Track.ALLEGATION else LowLevelOutcome
    try:
        return outcomes(outcome)
    except ValueError:
        raise ValueError(f"'{outcome}' is not an outcome of the {track.value} track") from None


def _allegation(reported_on: date, closed_on: date, retirement: date | None) -> Retention:
    """KCSIE: until the normal retirement date or 10 years from the allegation, whichever
    is later; a review at the end of the 10 years when the retirement date is unknown."""
    ten_years_end = _years_after(reported_on, ALLEGATION_YEARS) - timedelta(days=1)
    allegation = f"10 years from the allegation ({uk_date(reported_on)})"
    if retirement is None:
        # Not guessed: the record is kept at least the 10 years, and somebody looks again
        # then, unless the date is recorded (and the retention worked out again) first.
        return _settled(
            RetentionRule.ALLEGATION,
            ten_years_end,
            closed_on,
            is_review=True,
            missing=("normal_retirement_date",),
            words=(
                f"Kept until at least {uk_date(ten_years_end)}, then reviewed: {allegation}. "
                "The subject's normal retirement date is not recorded; if it is later, "
                "the record must be kept until then. Record it to settle the date."
            ),
        )
    if ten_years_end > retirement:
        keep_until = ten_years_end
        words = (
            f"Kept until {uk_date(keep_until)}: {allegation}, later than the subject's normal "
            f"retirement date ({uk_date(retirement)})."
        )
    elif retirement > ten_years_end:
        keep_until = retirement
        words = (
            f"Kept until {uk_date(keep_until)}: the subject's normal retirement date, later than "
            f"{allegation}, which end on {uk_date(ten_years_end)}."
        )
    else:
        keep_until = retirement
        words = (
            f"Kept until {uk_date(keep_until)}: {allegation} end on the subject's normal "
            "retirement date."
        )
    return _settled(
        RetentionRule.ALLEGATION, keep_until, closed_on, is_review=False, missing=(), words=words
    )


def _low_level(closed_on: date, left_employment_on: date | None) -> Retention:
    """KCSIE: a low-level concern is kept at least until the subject leaves, then reviewed."""
    if left_employment_on is None:
        return Retention(
            RetentionRule.LOW_LEVEL,
            None,
            True,
            None,
            (),
            "Kept while the subject works for the trust, then reviewed when they leave.",
        )
    return _settled(
        RetentionRule.LOW_LEVEL,
        left_employment_on,
        closed_on,
        is_review=True,
        missing=(),
        words=(
            f"Kept until {uk_date(left_employment_on)}, the subject's last day in the trust's "
            "employment, then reviewed."
        ),
    )


def _settled(
    rule: RetentionRule,
    keep_until: date,
    closed_on: date,
    *,
    is_review: bool,
    missing: tuple[str, ...],
    words: str,
) -> Retention:
    """A retention kept through `keep_until`, due the next day, but never before closure:
    an open case is never disposed of, so a period that ran out while it was open (the
    subject left, or retired, before the case closed) is due on the day it closed."""
    due_on = keep_until + timedelta(days=1)
    if due_on < closed_on:
        due_on = closed_on
        what = "the review" if is_review else "disposal"
        words += (
            f" That date passed before the case closed, so {what} was due when it closed "
            f"({uk_date(closed_on)})."
        )
    return Retention(rule, due_on, is_review, None, missing, words)


def _years_after(day: date, years: int) -> date:
    """The same date `years` later; a 29 February with none that year gives 1 March.

    Not `add_months`, which clamps to 28 February: counted from 29 February 2028, ten
    years run to the end of 28 February 2038, and clamping would end them a day early.
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
