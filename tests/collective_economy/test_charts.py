"""The shipped charts are data: both rules' accounts, their operating income, the old→new table, loaded
again idempotently, and the unified social credit code check (GB 32100)."""

import pytest
from django.core.exceptions import ValidationError

from collective_economy.models import AccountClass, Chart, ChartAccount, ChartMapping, Side
from collective_economy.services.charts import chart_data, chart_load, charts_load_shipped, operating_income_definition
from governance.validators import validate_credit_code


@pytest.mark.django_db
def test_both_charts_ship_with_their_accounts_and_operating_income():
    old, new = Chart.objects.get(code="2004"), Chart.objects.get(code="2023")
    assert old.accounts.count() == 34  # the 33 of the rules plus 241 专项应付款 (sources differ: data)
    assert new.accounts.count() == 42
    assert operating_income_definition(old) == "经营收入（501） ＋ 发包及上交收入（511） ＋ 投资收益（561）"
    assert operating_income_definition(new) == "经营收入（501） ＋ 投资收益（502）"
    contra = new.accounts.filter(account_class=AccountClass.ASSET, side=Side.CREDIT).values_list("code", flat=True)
    assert sorted(contra) == ["133", "152", "162"]


@pytest.mark.django_db
def test_every_balance_sheet_account_of_2004_maps_onto_the_2023_chart():
    old = Chart.objects.get(code="2004")
    unmapped = old.accounts.exclude(pk__in=ChartMapping.objects.values("source"))
    assert not unmapped.exists()
    assert ChartMapping.objects.get(source__chart=old, source__code="202").target.name == "应付款"


@pytest.mark.django_db
def test_loading_again_keeps_edits_out_and_marks_dropped_accounts_unused():
    account = ChartAccount.objects.get(chart__code="2023", code="501")
    account.name = "经营收入（改）"
    account.save()
    charts_load_shipped()
    assert ChartAccount.objects.get(pk=account.pk).name == "经营收入"  # the file wins; the row is the same
    data = chart_data("2023")
    data["accounts"] = [row for row in data["accounts"] if row[0] != "521"]
    chart_load(data)
    assert not ChartAccount.objects.get(chart__code="2023", code="521").is_active


@pytest.mark.django_db
def test_a_chart_file_with_a_mistake_is_refused_whole():
    data = chart_data("2023")
    data["code"] = "2030"
    data["accounts"][0][5] = True  # 库存现金 as operating income
    with pytest.raises(ValidationError, match="不是收入类科目"):
        chart_load(data)
    assert not Chart.objects.filter(code="2030").exists()


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_credit_codes_pass(code):
    validate_credit_code(code)


@pytest.mark.parametrize(("code", "message"), [
    ("91350100M000100Y4", "18位"),
    ("91350100M000100Y44", "第18位应为3"),
    ("91350100M0001O0Y43", "不能含“O”"),
])
def test_bad_credit_codes_say_what_is_wrong(code, message):
    with pytest.raises(ValidationError, match=message):
        validate_credit_code(code)
