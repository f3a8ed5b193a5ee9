"""The pre-submit self-check: what the appeal's latest analysed operation log shows, as
warnings in the reader's language ("63 adds in one hour on 11-29: explain it in your
statement"). A warning, never a blocker: the submit guard is the evidence library's.

Knows the four rules of appeals.evidence.log_analysis by name; any other rule a capability
adds (health_*, anomaly detectors) gets a generic sentence with its count and date.
"""

from dataclasses import asdict, dataclass

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appeals.core.models import AccountType, Appeal
from appeals.evidence.models import AnalysisStatus, EvidenceKind, LogAnalysis, RiskFlag, RiskRule

# At most this many warnings per rule; the rest are summed up in one line.
MAX_PER_RULE = 3


@dataclass(frozen=True)
class SelfCheckWarning:
    rule: str
    text: str
    count: int | None = None
    day: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _day(moment) -> str:
    return _local(moment).strftime("%m-%d") if moment else ""


def _rule_label(rule: str) -> str:
    if rule in RiskRule.values:
        return str(RiskRule(rule).label)
    return rule.replace("_", " ").strip() or rule


def _account_type_label(value: str) -> str:
    return str(AccountType(value).label) if value in AccountType.values else value


def flag_warning(flag: RiskFlag) -> SelfCheckWarning:
    """One flag as a sentence in the active language."""
    day, count, detail = _day(flag.window_start), flag.count, flag.detail or {}
    start = _local(flag.window_start)
    if flag.rule == RiskRule.MASS_ADD:
        text = _("%(count)d adds in one hour on %(day)s: explain it in your statement.") % {"count": count, "day": day}
    elif flag.rule == RiskRule.SENSITIVE_WORDS:
        words = "、".join(detail.get("words") or []) or "—"
        text = _("%(count)d sensitive words (%(words)s) within one minute on %(day)s at %(time)s: remove them from your "
                 "add messages and explain it in your statement.") % {
            "count": count, "words": words, "day": day, "time": start.strftime("%H:%M") if start else "—"}
    elif flag.rule == RiskRule.LOCATION_ANOMALY:
        text = _("A new device together with an unfamiliar IP address (%(count)d times, first on %(day)s): say whether "
                 "this was your staff; if not, the account may have been taken over.") % {"count": count, "day": day or "—"}
    elif flag.rule == RiskRule.PERMISSION:
        text = _("The %(account_type)s sub-account %(operator)s did “%(action)s”, which its type may not do (%(count)d "
                 "times): explain it in your statement.") % {
            "account_type": _account_type_label(detail.get("account_type", "?")), "operator": flag.operator,
            "action": detail.get("action", "?"), "count": count}
    elif day:
        text = _("The operation log shows “%(rule)s” (%(count)d on %(day)s): explain it in your statement.") % {
            "rule": _rule_label(flag.rule), "count": count, "day": day}
    else:
        text = _("The operation log shows “%(rule)s” (%(count)d): explain it in your statement.") % {
            "rule": _rule_label(flag.rule), "count": count}
    return SelfCheckWarning(rule=flag.rule, text=text, count=count, day=day)


def latest_log_analysis(appeal: Appeal) -> LogAnalysis | None:
    """The analysis of the most recently uploaded operation log of the case."""
    return (LogAnalysis.objects.filter(evidence__appeal=appeal, evidence__kind=EvidenceKind.OPERATION_LOG)
            .select_related("evidence").order_by("-evidence__uploaded_at", "-pk").first())


@dataclass(frozen=True)
class SelfCheck:
    status: str  # none (no log yet) / pending / failed / done
    warnings: list

    def as_dict(self) -> dict:
        return {"status": self.status, "warnings": [w.as_dict() for w in self.warnings]}


def self_check(*, appeal: Appeal, language: str) -> SelfCheck:
    """The warnings for the case's latest operation log, in `language` (zh-hans or en)."""
    code = "zh-hans" if (language or "").lower().startswith("zh") else "en"
    with translation.override(code):
        analysis = latest_log_analysis(appeal)
        if analysis is None:
            return SelfCheck("none", [])
        if analysis.status in (AnalysisStatus.PENDING, AnalysisStatus.RUNNING):
            return SelfCheck("pending", [SelfCheckWarning(rule="analysis", text=_(
                "The operation log is still being analysed: check again in a minute, before you submit."))])
        if analysis.status == AnalysisStatus.FAILED:
            return SelfCheck("failed", [SelfCheckWarning(rule="analysis", text=_(
                "The operation log could not be read: upload it again as a CSV of the last 7 days."))])
        warnings, per_rule = [], {}
        for flag in RiskFlag.objects.filter(evidence_id=analysis.evidence_id).order_by("window_start", "rule", "id"):
            per_rule[flag.rule] = per_rule.get(flag.rule, 0) + 1
            if per_rule[flag.rule] <= MAX_PER_RULE:
                warnings.append(flag_warning(flag))
        for rule, n in per_rule.items():
            if n > MAX_PER_RULE:
                warnings.append(SelfCheckWarning(rule=rule, count=n - MAX_PER_RULE, text=_(
                    "And %(n)d more times “%(rule)s”: the evidence panel lists them with their lines.") % {
                    "n": n - MAX_PER_RULE, "rule": _rule_label(rule)}))
        return SelfCheck("done", warnings)
