"""A step being taken: what a step's page functions receive (`StepCall`) and return
(`Done`). See tracker/workflow/registry.py for the steps themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracker.auth.models import User
from tracker.cases.models import Case
from tracker.workflow.models import Action

if TYPE_CHECKING:
    from tracker.workflow.registry import Step


@dataclass
class StepCall:
    """One person taking one step on one case."""

    step: Step
    case: Case
    form: Any  # the step's own FlaskForm subclass
    by: User
    item: Any = None  # the record of the case the step's address names (an item of evidence)
    offered: frozenset[Action] = frozenset()  # the steps the case page offers this person now
    shown: dict[str, Any] = field(default_factory=dict)  # more for the page to show


@dataclass(frozen=True)
class Done:
    """What a step did, for the person who took it: a sentence, and where to look."""

    message: str
    anchor: str | None = None  # the section of the case page to go back to
    note: str | None = None  # a further thing to know, shown as information
