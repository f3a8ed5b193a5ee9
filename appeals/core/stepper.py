"""The filing path shown on the case page: incident → appeal → evidence → submit → verify →
review → decision, where the case is on it, and what the applicant must do next.

Computed from the appeal's state; the evidence and verification steps ask the capabilities
through the step-status registry (appeals.core.plugins), so the core imports neither.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from appeals.core import plugins
from appeals.core.models import AppealState

STEPS = (
    ("incident", _("Incident")),
    ("appeal", _("Appeal")),
    ("evidence", _("Evidence")),
    ("submit", _("Submit")),
    ("verify", _("Verify")),
    ("review", _("Review")),
    ("decision", _("Decision")),
)
_INDEX = {name: i for i, (name, _label) in enumerate(STEPS)}


@dataclass
class StepStatus:
    """What a capability says about its step: done or not, and the items still to do
    (each {"text": ..., "href": ...}, href may be empty)."""

    done: bool
    todo: list[dict] = field(default_factory=list)


@dataclass
class Step:
    name: str
    label: str
    status: str  # done / current / todo
    number: int


@dataclass
class Stepper:
    steps: list[Step]
    current: str
    next_action: str
    todo: list[dict]
    waiting_for_applicant: bool


_DESK_TEXT = {
    AppealState.DRAFT: _("The applicant is still preparing the appeal."),
    AppealState.SUBMITTED: _("Waiting for the applicant's two verifications (SMS code and email link)."),
    AppealState.NEEDS_INFO: _("Waiting for the applicant's answer to the request for information."),
    AppealState.FIRST_REVIEW: _("In first review."),
    AppealState.SECOND_REVIEW: _("In second review."),
    AppealState.ESCALATED: _("With the manual review hotline."),
}


def _ask(step: str, appeal) -> StepStatus | None:
    fn = plugins.step_status(step)
    return fn(appeal) if fn is not None else None


def appeal_stepper(appeal, *, applicant: bool) -> Stepper:
    state = appeal.state
    todo: list[dict] = []
    waiting = False
    if state == AppealState.DRAFT:
        evidence = _ask("evidence", appeal)
        if evidence is not None and not evidence.done:
            current, todo, waiting = "evidence", evidence.todo, True
            next_action = _("Upload the evidence still missing (listed below), then submit the appeal.")
        else:
            current, waiting = "submit", True
            next_action = _("Everything required is here: check the appeal, then press “Submit”.")
    elif state == AppealState.SUBMITTED:
        current, waiting = "verify", True
        verify = _ask("verify", appeal)
        todo = verify.todo if verify is not None else []
        next_action = _("Two verifications are needed before review starts: enter the SMS code sent to the legal representative's phone and open the link sent to the admin email.")
    elif state == AppealState.NEEDS_INFO:
        current, waiting = "review", True
        next_action = _("The reviewer asked for more information: answer the question at the top, add any files asked for, then send.")
    elif state in (AppealState.FIRST_REVIEW, AppealState.SECOND_REVIEW):
        current = "review"
        next_action = _("Nothing to do for now: the reviewers are examining the case. You will be told of the decision.")
    elif state == AppealState.ESCALATED:
        current = "review"
        next_action = _("The case is with the manual review hotline; they will contact you.")
    elif state == AppealState.WITHDRAWN:
        current = "decision"
        next_action = _("The appeal was withdrawn. Nothing more to do.")
    else:  # approved / rejected
        current = "decision"
        next_action = _("The decision is made; the reasons are in the timeline below.")
    if not applicant:
        # The desk sees where the case stands, not the applicant's instructions.
        waiting, todo = False, []
        next_action = _DESK_TEXT.get(state, next_action)
    index = _INDEX[current]
    closed = state in (AppealState.APPROVED, AppealState.REJECTED, AppealState.WITHDRAWN)
    steps = []
    for i, (name, label) in enumerate(STEPS):
        if i < index or (closed and i == index):
            status = "done"
        elif i == index:
            status = "current"
        else:
            status = "todo"
        steps.append(Step(name, str(label), status, i + 1))
    return Stepper(steps=steps, current=current, next_action=str(next_action), todo=todo, waiting_for_applicant=waiting)
