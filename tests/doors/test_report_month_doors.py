"""The month of a monthly report is checked once (``complaint_slices.check_month``, issue 13):
the portal's report page and GraphQL ``complaintStatistics`` refuse the same months with the
same message."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("year", "month"), [(2025, 13), (1999, 5), (2101, 1), (2025, 0)])
def test_R_COMP_8_a_bad_month_is_refused_alike_in_both_doors(world, login, api, year, month):
    page = login(world.gm).get(f"/admin/reports/complaints?month={year:04d}-{month:02d}")
    assert page.status_code == 400  # bad input: a message, nothing shown
    assert "请按 YYYY-MM 格式输入月份。" in page.get_data(as_text=True)
    out = api(world.gm)(f"{{ complaintStatistics(year: {year}, month: {month}) {{ total }} }}")
    assert out["data"] == {"complaintStatistics": None}
    [error] = out["errors"]
    assert error["extensions"]["field"] == "month"
    assert error["message"] == "请按 YYYY-MM 格式输入月份。"  # the reader's language


def test_R_COMP_8_a_good_month_is_answered_in_both_doors(world, login, api):
    page = login(world.gm).get("/admin/reports/complaints?month=2025-03")
    assert page.status_code == 200 and "请按 YYYY-MM" not in page.get_data(as_text=True)
    out = api(world.gm)("{ complaintStatistics(year: 2025, month: 3) { total } }")
    assert "errors" not in out and out["data"]["complaintStatistics"]["total"] == 0
