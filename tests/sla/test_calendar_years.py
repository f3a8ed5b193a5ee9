"""The calendar never guesses silently: due times through a year with no confirmed calendar
are flagged (case page, reports, manager overview); `calendar_load` brings in an official
schedule and confirms the year; the calendar page lists the years; beat reminds the managers
in December, once, when next year is not confirmed."""

from datetime import date

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from appeals.models import AppealSla, AuditEvent, CalendarYear, Message, WorkCalendarDay
from appeals.shared.registry import beat_schedule
from appeals.sla.calendar import add_working_time
from appeals.sla.reports import parse_filters, report_csv, sla_report
from config.celery import app as celery_app
from tests import builders, factories
from tests.sla.conftest import at, file_case

pytestmark = pytest.mark.django_db

# A made-up schedule for the test (not the real 2027 notice): Jan 1, 4 and 5 off, Sat Jan 9 worked.
SCHEDULE_CSV = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-04,holiday,元旦\n2027-01-05,holiday,元旦\n2027-01-09,workday,元旦调休上班\n"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def account(enterprise):
    return factories.AccountFactory(enterprise=enterprise)


@pytest.fixture
def managers(db):
    return [
        factories.UserFactory(username="manager", is_manager=True, is_staff=True, email="manager@desk.example"),
        factories.UserFactory(username="manager-2", is_manager=True, is_staff=True, email="manager2@desk.example"),
    ]


@pytest.fixture
def year_end_case(china_calendar, enterprise_admin, account):
    """A severe case (7 working days) entering first review on Monday 2026-12-28 10:00: its
    due time lies in 2027, whose calendar is only the library's estimate."""
    return file_case(admin=enterprise_admin, account=account, severity="severe", when=at(2026, 12, 28, 10))


def test_the_seeded_years(db):
    confirmed = dict(CalendarYear.objects.values_list("year", "confirmed"))
    assert confirmed[2026] is True and confirmed[2027] is False and 2028 not in confirmed


def test_walk_says_which_years_it_guessed(china_calendar):
    inside = add_working_time(at(2026, 3, 4, 10), 7 * 86400)
    assert inside.unconfirmed_years == ()
    across = add_working_time(at(2026, 12, 28, 10), 7 * 86400)
    assert across.at == at(2027, 1, 7, 10) and across.unconfirmed_years == (2027,)
    nothing_at_all = add_working_time(at(2028, 3, 6, 10), 7 * 86400)  # no row of 2028 anywhere
    assert nothing_at_all.at == at(2028, 3, 15, 10) and nothing_at_all.unconfirmed_years == (2028,)


def test_due_time_in_an_unconfirmed_year_is_flagged_on_the_case(year_end_case, first_reviewer):
    sla = AppealSla.objects.get(appeal=year_end_case)
    # Mon-Fri only in 2027: Dec 28 (14 h), 29, 30, 31, Jan 1 (library's holiday), Jan 4, 5, 6, 10 h of Jan 7.
    assert sla.due_at == at(2027, 1, 7, 10)
    assert sla.calendar_unconfirmed is True
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        page = _client(first_reviewer).get(f"/appeals/{year_end_case.reference}/")
    body = page.content.decode()
    assert "data-calendar-unconfirmed" in body and "no confirmed holiday calendar for 2027" in body


def test_due_time_inside_a_confirmed_year_and_hour_tiers_are_not_flagged(china_calendar, enterprise_admin, account, first_reviewer):
    severe = file_case(admin=enterprise_admin, account=account, severity="severe", when=at(2026, 3, 4, 10))
    hours = file_case(admin=enterprise_admin, account=factories.AccountFactory(enterprise=account.enterprise),
                      severity="medium", when=at(2026, 12, 31, 10))
    assert AppealSla.objects.get(appeal=severe).calendar_unconfirmed is False
    assert AppealSla.objects.get(appeal=hours).calendar_unconfirmed is False  # 48 clock hours: no calendar involved
    with time_machine.travel(at(2026, 3, 5, 9), tick=False):
        page = _client(first_reviewer).get(f"/appeals/{severe.reference}/")
    assert "data-calendar-unconfirmed" not in page.content.decode()


def test_reports_and_the_manager_overview_show_the_flag(year_end_case, manager):
    now = at(2027, 1, 6, 12)  # at risk: past the warning point, before the due time
    rep = sla_report(user=manager, filters=parse_filters({"start": "2026-12-01", "end": "2027-01-06"}), now=now)
    assert rep["summary"]["calendar_unconfirmed_open"] == 1
    (row,) = rep["at_risk"]
    assert row["reference"] == year_end_case.reference and row["calendar_unconfirmed"] is True
    lines = report_csv(rep, "at_risk").lstrip("\ufeff").splitlines()
    assert lines[0].endswith(",calendar_unconfirmed") and lines[1].endswith(",True")
    with time_machine.travel(now, tick=False):
        api = _client(manager).get("/api/v1/reports/sla/", {"start": "2026-12-01", "end": "2027-01-06", "live": "true"}).json()
        assert api["summary"]["calendar_unconfirmed_open"] == 1
        assert [r["calendar_unconfirmed"] for r in api["at_risk"]] == [True]
        page = _client(manager).get("/manager/reports/sla/", {"start": "2026-12-01", "end": "2027-01-06"})
        assert 'data-figure="calendar_unconfirmed">1<' in page.content.decode()
        assert "data-calendar-unconfirmed" in page.content.decode()
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        overview = _client(manager).get("/manager/").content.decode()
    assert "data-sla-calendar-unconfirmed>1<" in overview
    assert "data-next-year-unconfirmed" in overview and "2027" in overview


def test_calendar_load_csv_confirms_the_year_and_recomputes_open_clocks(year_end_case, tmp_path, manager):
    assert WorkCalendarDay.objects.filter(date__year=2027, source="library").exists()
    path = tmp_path / "2027.csv"
    path.write_text(SCHEDULE_CSV, encoding="utf-8")
    call_command("calendar_load", str(path), "--source", "国务院办公厅通知（测试）", "--by", manager.username)

    year = CalendarYear.objects.get(year=2027)
    assert (year.confirmed, year.source, year.confirmed_by) == (True, "国务院办公厅通知（测试）", manager)
    # The library's estimate for 2027 is gone; the official days are in.
    assert list(WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "is_working", "source")) == [
        (date(2027, 1, 1), False, "official"), (date(2027, 1, 4), False, "official"),
        (date(2027, 1, 5), False, "official"), (date(2027, 1, 9), True, "official"),
    ]
    sla = AppealSla.objects.get(appeal=year_end_case)
    # Now on the official calendar: Jan 4 and 5 off, Saturday Jan 9 worked: due Jan 9 10:00, not provisional.
    assert (sla.due_at, sla.calendar_unconfirmed) == (at(2027, 1, 9, 10), False)
    audit = AuditEvent.objects.get(action="calendar.load")
    assert audit.target_id == "2027" and audit.after["rescheduled_clocks"] == 1 and audit.after["workdays"] == 1


def test_calendar_load_ics(china_calendar, tmp_path):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//CN holidays//ZH\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20270205\r\nDTEND;VALUE=DATE:20270212\r\nSUMMARY:春节\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20270214\r\nSUMMARY:春节调休\r\n  上班\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:3\r\nDTSTART;VALUE=DATE:20270220\r\nCATEGORIES:WORKDAY\r\nSUMMARY:Make-up day\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    path = tmp_path / "cn-2027.ics"
    path.write_text(ics, encoding="utf-8")
    call_command("calendar_load", str(path))
    rows = dict(WorkCalendarDay.objects.filter(date__year=2027).values_list("date", "is_working"))
    assert rows == {**{date(2027, 2, d): False for d in range(5, 12)}, date(2027, 2, 14): True, date(2027, 2, 20): True}
    assert CalendarYear.objects.get(year=2027).confirmed is True


@pytest.mark.parametrize(("content", "message"), [
    ("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n", "Line 3"),
    ("date,kind,name\n2027-01-01,vacation,元旦\n", "kind must be holiday or workday"),
    ("when,what\n2027-01-01,holiday\n", "date, kind, name"),
    ("date,kind,name\n2027-01-01,holiday,a\n2027-01-01,workday,b\n", "both as a holiday and as a working day"),
])
def test_a_bad_file_is_refused_and_changes_nothing(china_calendar, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = list(WorkCalendarDay.objects.order_by("date").values_list("date", "is_working", "source"))
    with pytest.raises(CommandError, match=message):
        call_command("calendar_load", str(path))
    assert CalendarYear.objects.get(year=2027).confirmed is False
    assert list(WorkCalendarDay.objects.order_by("date").values_list("date", "is_working", "source")) == before


def test_the_calendar_page_lists_the_years_and_whether_they_are_confirmed(manager, first_reviewer):
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        page = _client(manager).get("/manager/calendar/")
        assert page.status_code == 200
        years = {y["year"]: y["confirmed"] for y in page.context["years"]}
        assert years[2026] is True and years[2027] is False
        body = page.content.decode()
        assert 'data-year="2027" data-confirmed="no"' in body and 'data-year="2026" data-confirmed="yes"' in body
        assert _client(first_reviewer).get("/manager/calendar/").status_code == 403


def _calendar_task():
    return celery_app.tasks[beat_schedule()["sla-calendar-check"]["task"]]


def test_december_reminder_mails_each_manager_once_when_next_year_is_not_confirmed(managers, settings):
    settings.LANGUAGE_CODE = "en"
    with time_machine.travel(at(2026, 11, 30, 23), tick=False):
        assert _calendar_task().apply().get() == 0  # not December yet
    for hour in (9, 10):
        with time_machine.travel(at(2026, 12, 1, hour), tick=False):
            _calendar_task().apply().get()
    with time_machine.travel(at(2026, 12, 20, 9), tick=False):
        assert _calendar_task().apply().get() == 0  # once a year, not once a run
    rows = Message.objects.filter(template="calendar_unconfirmed")
    assert sorted(rows.values_list("recipient", flat=True)) == ["manager2@desk.example", "manager@desk.example"]
    builders.deliver_queued()
    subjects = [m.subject for m in mail.outbox]
    assert subjects == ["[Calendar] The 2027 holiday schedule is not confirmed"] * 2
    assert "manage.py calendar_load" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="calendar.remind", target_id="2027").count() == 1


def test_no_reminder_when_next_year_is_confirmed(managers, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(SCHEDULE_CSV, encoding="utf-8")
    call_command("calendar_load", str(path))
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        assert _calendar_task().apply().get() == 0
    assert not Message.objects.filter(template="calendar_unconfirmed").exists()
