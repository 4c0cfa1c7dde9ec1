"""One CSV-injection rule for every export (issue 13): the portal's list export, the report CSV
(both doors) and the credit XLSX use portal.services.cells."""

from decimal import Decimal

from admin_views import export
from portal.services import cells, credit_reports, reports


def test_every_export_uses_the_one_rule():
    assert export.neutralise is cells.csv_cell
    assert reports._cell is cells.csv_cell
    assert credit_reports._xlsx_cell is cells.xlsx_cell


def test_text_that_would_run_as_a_formula_is_neutralised():
    for text in ("=1+1", "+1", "-1+A1", "@SUM(A1)", "\tx", "\rx"):
        assert cells.csv_cell(text) == "'" + text
        assert cells.xlsx_cell(text) == "'" + text
    assert cells.csv_cell("正常文本") == "正常文本"
    assert cells.csv_cell(None) == ""


def test_numbers_are_written_as_numbers():
    assert cells.csv_cell(Decimal("-12.50")) == "-12.50"
    assert cells.csv_cell(-3) == "-3"
    assert cells.xlsx_cell(Decimal("-12.50")) == -12.5
