"""The arithmetic of a price change in the middle of a period (no processes needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from devstripe.prorations import add_interval, price_change, prorated

DAY = 86_400


def at(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())


def price(price_id: str, amount: int, interval: str = "month") -> dict:
    return {
        "id": price_id,
        "object": "price",
        "currency": "usd",
        "unit_amount": amount,
        "product": "prod_news",
        "recurring": {"interval": interval, "interval_count": 1},
    }


def item(amount: int, start: int, end: int, quantity: int = 1) -> dict:
    return {
        "id": "si_1",
        "price": price("price_old", amount),
        "quantity": quantity,
        "current_period_start": start,
        "current_period_end": end,
    }


def test_a_month_and_a_year_later_fall_on_the_same_day_or_the_months_last():
    assert add_interval(at(2026, 1, 15), "month") == at(2026, 2, 15)
    assert add_interval(at(2026, 1, 31), "month") == at(2026, 2, 28)
    assert add_interval(at(2028, 1, 31), "month") == at(2028, 2, 29)
    assert add_interval(at(2026, 12, 31, 10), "month") == at(2027, 1, 31, 10)
    assert add_interval(at(2028, 2, 29), "year") == at(2029, 2, 28)
    assert add_interval(at(2026, 3, 1), "month", 3) == at(2026, 6, 1)
    assert add_interval(at(2026, 3, 1), "week", 2) == at(2026, 3, 15)


def test_the_part_after_a_moment_is_rounded_half_up():
    start, end = 0, 30 * DAY
    assert prorated(900, start, end, 0) == 900
    assert prorated(900, start, end, end) == 0
    assert prorated(900, start, end, 15 * DAY) == 450
    assert prorated(900, start, end, 20 * DAY) == 300
    assert prorated(1000, start, end, 20 * DAY) == 333  # 333.33
    assert prorated(1000, start, end, 10 * DAY) == 667  # 666.67
    assert prorated(1, 0, 2, 1) == 1  # exactly half: up
    assert prorated(-1000, start, end, 10 * DAY) == -667
    assert prorated(900, start, end, -DAY) == 900  # before the period: all of it
    assert prorated(900, start, end, 31 * DAY) == 0


def test_an_upgrade_halfway_credits_half_the_old_price_and_charges_half_the_new():
    start = at(2026, 11, 1)
    end = add_interval(start, "month")  # 30 days
    credit, charge = price_change(
        item(900, start, end), price("price_new", 1900), start + 15 * DAY, "Monthly", "Premium"
    )
    assert (credit.amount, charge.amount) == (-450, 950)
    assert credit.amount + charge.amount == 500  # half the price difference
    assert credit.price["id"] == "price_old" and charge.price["id"] == "price_new"
    assert credit.proration and charge.proration
    assert (credit.period_start, credit.period_end) == (start + 15 * DAY, end)
    assert (charge.period_start, charge.period_end) == (start + 15 * DAY, end)
    assert credit.description == "Unused time on Monthly after 16 Nov 2026"
    assert charge.description == "Remaining time on Premium after 16 Nov 2026"


def test_a_change_at_the_start_of_the_period_bills_the_whole_difference():
    start, end = at(2026, 11, 1), at(2026, 12, 1)
    lines = price_change(
        item(900, start, end, quantity=2), price("price_new", 1900), start, "A", "B"
    )
    assert [line.amount for line in lines] == [-1800, 3800]
    assert [line.quantity for line in lines] == [2, 2]


def test_a_change_two_thirds_through_rounds_each_line_on_its_own():
    start = at(2026, 11, 1)
    end = start + 30 * DAY
    lines = price_change(
        item(1000, start, end), price("price_new", 2000), start + 20 * DAY, "A", "B"
    )
    assert [line.amount for line in lines] == [-333, 667]  # 333.33 and 666.67


def test_a_price_on_another_cycle_starts_a_new_period_at_the_full_price():
    start, end = at(2026, 11, 1), at(2026, 12, 1)
    moment = start + 15 * DAY
    credit, charge = price_change(
        item(900, start, end), price("price_year", 9000, "year"), moment, "Monthly", "Yearly"
    )
    assert credit.amount == -prorated(900, start, end, moment)
    assert charge.amount == 9000 and not charge.proration
    assert (charge.period_start, charge.period_end) == (moment, add_interval(moment, "year"))
