"""The registries capabilities plug into, besides the workflow's guards and listeners.

Each capability's `plugin.py` fills them from `register()`, and `AppealsConfig.ready()`
calls those in one explicit list, so no other module has an import side effect. The core reads
them. The generic registries (URL includes, beat entries, page context) are in
`appeals.shared.registry`, so that the infrastructure below the core can register too.
"""

from collections.abc import Callable

# --- automatic resolution: one rule over named conditions (appeals.sla.auto_resolution) ------

_conditions: dict[str, Callable] = {}


def register_auto_resolution_condition(name: str, fn: Callable) -> None:
    """fn(appeal) returns None when the condition holds, or a short reason why not."""
    _conditions[name] = fn


def unregister_auto_resolution_condition(name: str) -> None:
    _conditions.pop(name, None)


def auto_resolution_condition(name: str) -> Callable | None:
    return _conditions.get(name)


# --- incident changes --------------------------------------------------------------------------

_severity_listeners: list[Callable] = []


def register_severity_listener(fn: Callable) -> None:
    """fn(incident=..., by=...) runs inside the transaction that changed an incident's severity."""
    if fn not in _severity_listeners:
        _severity_listeners.append(fn)


def severity_listeners() -> list[Callable]:
    return list(_severity_listeners)


# --- where incidents came from ---------------------------------------------------------------

_incident_sources: list[Callable] = []


def register_incident_source(fn: Callable) -> None:
    """fn(incident_ids) -> {incident_id: label}: a capability names the incidents it brought in
    (the intake: "pushed by the enforcement system"), shown where incidents are listed."""
    if fn not in _incident_sources:
        _incident_sources.append(fn)


def incident_sources(incident_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for fn in _incident_sources:
        out.update(fn(incident_ids))
    return out


# --- the appeal list's related rows ------------------------------------------------------------

_appeal_related: list[str] = []


def register_appeal_related(*names: str) -> None:
    """One-to-one rows a capability shows on every appeal (joined by the base selector, no N+1)."""
    for name in names:
        if name not in _appeal_related:
            _appeal_related.append(name)


def appeal_related() -> list[str]:
    return list(_appeal_related)


# --- reviewer queue order ------------------------------------------------------------------

_queue_order: list = []


def register_queue_order(*keys) -> None:
    """Order keys (expressions) placed after "emergency first" and before "first come" in the queues."""
    for key in keys:
        if key not in _queue_order:
            _queue_order.append(key)


def queue_order() -> list:
    return list(_queue_order)


# --- the manager report's alert history --------------------------------------------------------

_alert_history: list[Callable] = []


def register_alert_history(fn: Callable) -> None:
    """fn(start_at=, end_at=) -> list of dicts, one per alert opened in [start_at, end_at), oldest first."""
    if fn not in _alert_history:
        _alert_history.append(fn)


def alert_history() -> Callable | None:
    """The registered provider, or None when no capability keeps alerts."""
    return _alert_history[-1] if _alert_history else None


# --- the case page's filing stepper ------------------------------------------------------------

_step_status: dict[str, Callable] = {}


def register_step_status(step: str, fn: Callable) -> None:
    """fn(appeal) -> StepStatus for one step of the filing path ("evidence", "verify")."""
    _step_status[step] = fn


def step_status(step: str) -> Callable | None:
    return _step_status.get(step)
# --- precedents: signals a capability adds to the similarity of decided cases -----------------

_precedent_signals: dict[str, Callable] = {}


def register_precedent_signal(name: str, fn: Callable) -> None:
    """fn(appeal_ids: list[int]) -> {appeal_id: set of signal labels} (e.g. the risk flags found
    in each case's operation logs); appeals.core.precedents scores their overlap (Jaccard)."""
    _precedent_signals[name] = fn


def precedent_signals() -> dict[str, Callable]:
    return dict(_precedent_signals)
