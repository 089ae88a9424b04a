"""The end-of-run summary and the model report's stamp, from the facts a run saved."""

from __future__ import annotations

from collections import Counter

from lead_scoring.run_summary import format_summary, stamp_report, trained_on_html


def test_a_scoring_summary_counts_leads_and_tiers_and_names_the_files():
    facts = {
        "batch_tally": {"read": 1000, "scored": 990, "quarantined": 10},
        "tiers": Counter(hot=200, warm=500, cold=290),
        "scoring_model_version": {"name": "lead_scoring", "version": "3"},
        "model_aliases": ["champion"],
        "drift_alerts": ["city_tier"],
    }
    block = format_summary(
        "inference", facts, {"Call list (best first)": "data/08_reporting/call_list.csv"}, None
    ).splitlines()
    assert " inference run summary " in block[0] and set(block[-1]) == {"="}
    assert block[1:-1] == [
        "Leads read 1,000, scored 990, quarantined 10",
        "Tiers: hot 200 (20%), warm 500 (51%), cold 290 (29%)",
        "Model: lead_scoring version 3, alias champion",
        "Drift: 1 feature(s) drifting (city_tier)",
        "Call list (best first): data/08_reporting/call_list.csv",
    ]


def test_the_report_is_stamped_once_under_its_title(tmp_path):
    report = tmp_path / "model_report.html"
    report.write_text("<html><body>\n<h1>Lead scoring model report</h1>\n<p>rest</p></body>")
    trained = {"path": "/data/my.csv", "rows": 1234, "first": "2021-07-01", "last": "2022-02-28"}
    model = {"name": "lead_scoring", "version": "4", "aliases": ["champion"]}
    for _ in range(2):
        assert stamp_report(report, trained_on_html(trained, model))
    page = report.read_text()
    assert page.count('class="trained-on"') == 1
    assert page.index("<h1>") < page.index("trained-on") < page.index("<p>rest</p>")
    assert "your export <code>/data/my.csv</code>: 1,234 valid leads" in page
    assert "version <strong>4</strong>, alias <strong>champion</strong>" in page
    assert not stamp_report(tmp_path / "missing.html", "<p></p>")
