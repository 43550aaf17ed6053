"""Borgerservice hours: Danish holidays, exceptions, and "open now" in Danish, DST included."""

from datetime import UTC, date, datetime, time

import pytest

from hotline.kit.dates import COPENHAGEN
from hotline.municipalities.hours import (
    DayException,
    HoursFormatError,
    Period,
    Schedule,
    danish_holidays,
    easter_sunday,
    format_day_hours,
    parse_day_hours,
    status_at,
    upcoming_deviations,
)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=COPENHAGEN)


def weekdays(*spans: str) -> Schedule:
    """Monday to Friday with the given hours ("10.00-15.00" or "10.00-12.00, 13.00-17.00")."""
    hours = parse_day_hours(", ".join(spans))
    return Schedule(weekly={day: list(hours) for day in range(5)})


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (1818, date(1818, 3, 22)),
        (2000, date(2000, 4, 23)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, easter):
    assert easter_sunday(year) == easter


def test_danish_holidays_2026():
    days = danish_holidays(2026)
    assert days[date(2026, 4, 2)] == "skærtorsdag"
    assert days[date(2026, 4, 3)] == "langfredag"
    assert days[date(2026, 4, 6)] == "2. påskedag"
    assert days[date(2026, 5, 14)] == "Kristi himmelfartsdag"
    assert days[date(2026, 5, 25)] == "2. pinsedag"
    assert days[date(2026, 6, 5)] == "grundlovsdag"
    assert days[date(2026, 12, 24)] == "juleaftensdag"
    assert days[date(2026, 12, 31)] == "nytårsaftensdag"
    assert len(days) == 13


def test_store_bededag_is_a_holiday_until_2023_only():
    assert danish_holidays(2023)[date(2023, 5, 5)] == "store bededag"
    assert "store bededag" not in danish_holidays(2024).values()
    assert date(2024, 4, 26) not in danish_holidays(2024)


def test_open_now_until_closing():
    status = status_at(weekdays("10.00-15.00"), local(2025, 11, 25, 10, 30))
    assert status.open_now
    assert status.text == "Åben nu til kl. 15.00"
    assert status.closes_at == local(2025, 11, 25, 15, 0)


def test_after_friday_closing_it_opens_monday():
    status = status_at(weekdays("10.00-15.00"), local(2025, 11, 21, 16, 0))
    assert not status.open_now
    assert status.text == "Åbner mandag 24. november kl. 10.00"
    assert status.next_opens_at == local(2025, 11, 24, 10, 0)


def test_before_opening_today_and_in_the_evening_tomorrow():
    schedule = weekdays("10.00-15.00")
    assert status_at(schedule, local(2025, 11, 24, 8, 0)).text == "Åbner i dag kl. 10.00"
    evening = status_at(schedule, local(2025, 11, 24, 19, 0)).text
    assert evening == "Åbner i morgen, tirsdag 25. november, kl. 10.00"


def test_closing_time_itself_is_closed():
    status = status_at(weekdays("10.00-15.00"), local(2025, 11, 25, 15, 0))
    assert not status.open_now


def test_lunch_break_between_two_periods():
    schedule = weekdays("10.00-12.00", "13.00-17.00")
    assert status_at(schedule, local(2025, 11, 25, 11, 0)).text == "Åben nu til kl. 12.00"
    assert status_at(schedule, local(2025, 11, 25, 12, 30)).text == "Åbner i dag kl. 13.00"


def test_a_holiday_is_closed_and_says_why():
    # Wednesday 24 December 2025; 25 and 26 are holidays, then the weekend.
    status = status_at(weekdays("10.00-15.00"), local(2025, 12, 24, 11, 0))
    assert not status.open_now
    assert status.closed_today_because == "juleaftensdag"
    assert status.text == "Lukket i dag (juleaftensdag). Åbner mandag 29. december kl. 10.00"


def test_grundlovsdag_is_closed_by_default():
    status = status_at(weekdays("10.00-15.00"), local(2026, 6, 5, 11, 0))
    assert status.text.startswith("Lukket i dag (grundlovsdag).")


def test_an_exception_opens_a_holiday_or_shortens_a_day():
    schedule = weekdays("10.00-15.00")
    eve = date(2025, 12, 23)
    schedule.exceptions[eve] = DayException(eve, (Period(time(10), time(12)),), "lillejuleaften")
    grundlov = date(2026, 6, 5)
    schedule.exceptions[grundlov] = DayException(grundlov, (Period(time(10), time(12)),))
    assert status_at(schedule, local(2025, 12, 23, 11, 0)).text == "Åben nu til kl. 12.00"
    # It was open today, so not "closed today"; the holidays and the weekend follow.
    assert status_at(schedule, local(2025, 12, 23, 12, 30)).text == (
        "Åbner mandag 29. december kl. 10.00"
    )
    assert status_at(schedule, local(2026, 6, 5, 11, 0)).open_now


def test_an_exception_closes_an_ordinary_day():
    schedule = weekdays("10.00-15.00")
    day = date(2025, 11, 25)
    schedule.exceptions[day] = DayException(day, (), "personalemøde")
    status = status_at(schedule, local(2025, 11, 25, 11, 0))
    assert status.text == (
        "Lukket i dag (personalemøde). Åbner i morgen, onsdag 26. november, kl. 10.00"
    )


def test_summer_and_winter_time():
    schedule = weekdays("10.00-15.00")
    # Monday 30 March 2026, the day after the clocks went forward: 08.30 UTC is 10.30 CEST.
    summer = status_at(schedule, datetime(2026, 3, 30, 8, 30, tzinfo=UTC))
    assert summer.open_now
    assert summer.closes_at.astimezone(UTC) == datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
    # Monday 23 March 2026, winter time: 08.30 UTC is 09.30 CET, not yet open.
    winter = status_at(schedule, datetime(2026, 3, 23, 8, 30, tzinfo=UTC))
    assert winter.text == "Åbner i dag kl. 10.00"
    # Sunday 25 October 2026 the clocks go back: Monday opens at 10.00 CET = 09.00 UTC.
    autumn = status_at(schedule, datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert autumn.next_opens_at.astimezone(UTC) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_nothing_open_for_three_weeks():
    status = status_at(Schedule(weekly={}), local(2025, 11, 24, 10, 0))
    assert status.text == "Lukket de næste 21 dage"


def test_upcoming_deviations_list_holidays_and_exceptions():
    schedule = weekdays("10.00-15.00")
    found = dict(upcoming_deviations(schedule, local(2025, 12, 20, 12, 0)))
    assert found["onsdag 24. december"] == "lukket (juleaftensdag)"
    assert found["torsdag 25. december"] == "lukket (juledag)"
    assert "mandag 22. december" not in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.00-15.00", "10.00–15.00"),
        ("10:00 – 15:00", "10.00–15.00"),
        ("13.00-17.00, 9.00-12.00", "09.00–12.00, 13.00–17.00"),
        ("lukket", "lukket"),
        ("", "lukket"),
    ],
)
def test_parse_and_format_day_hours(text, expected):
    assert format_day_hours(parse_day_hours(text)) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("10-15", "span"),
        ("25.00-26.00", "time"),
        ("15.00-10.00", "order"),
        ("9.00-12.00, 11.00-13.00", "overlap"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(text, kind):
    with pytest.raises(HoursFormatError) as caught:
        parse_day_hours(text)
    assert caught.value.kind == kind
