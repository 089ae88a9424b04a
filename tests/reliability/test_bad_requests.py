"""Bad requests to the served model (`mlflow models serve`): a bad record is quarantined alone,
and a request refused as a whole gets a 400 with one message, no stack trace and no server path.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pandas as pd
import pytest

from tests.reliability.conftest import LABEL

pytestmark = pytest.mark.slow


def post(url: str, body: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/invocations", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text)
        except json.JSONDecodeError:
            return error.code, {"message": text}


@pytest.fixture(scope="module")
def answers(trained_project, served_champion, export_cells):
    """Each bad request's status and answer, from the session's server of the champion."""
    leads = export_cells.drop(columns=LABEL).head(6)
    records = [
        {name: (value if value != "" else None) for name, value in record.items()}
        for record in leads.to_dict(orient="records")
    ]
    mixed = [dict(record) for record in records]
    mixed[1]["total_leads_droppped"] = 10**30
    mixed[2]["city_mapped"] = {"name": "pune"}
    mixed[3]["first_platform_c"] = ["Level1", "Level2"]
    missing = [{k: v for k, v in r.items() if k != "whatsapp_chat_click"} for r in records]
    columns = list(leads.columns)
    duplicate = {
        "columns": [*columns, "city_mapped"],
        "data": [[*row, "delhi"] for row in leads.to_numpy().tolist()],
    }
    deep = '{"dataframe_records": [{"city_mapped": ' + "[" * 5000 + "]" * 5000 + "}]}"
    bodies = {
        "mixed": json.dumps({"dataframe_records": mixed}),
        "missing_field": json.dumps({"dataframe_records": missing}),
        "duplicate_column": json.dumps({"dataframe_split": duplicate}),
        "deep": deep,
    }
    found = {name: post(served_champion, body) for name, body in bodies.items()}
    return {"answers": found, "project": trained_project, "records": records}


def test_one_bad_record_is_quarantined_alone_and_the_others_are_scored(answers):
    status, answer = answers["answers"]["mixed"]
    assert status == 200, answer
    predictions = pd.DataFrame(answer["predictions"])
    assert predictions["status"].tolist() == ["scored", "quarantined", "quarantined"] + [
        "quarantined",
        "scored",
        "scored",
    ]
    reasons = predictions["quarantine_reason"].tolist()
    assert reasons[1].startswith("total_leads_droppped: whole number 0-1000 (got 1000000000")
    assert reasons[2] == "city_mapped: one value expected, got a JSON object"
    assert reasons[3] == "first_platform_c: one value expected, got a JSON list"
    assert predictions["lead_id"].tolist() == [r["Unnamed: 0"] for r in answers["records"]]


@pytest.mark.parametrize(
    ("request_name", "message"),
    [
        # As docs/serving.md says it.
        ("missing_field", "The lead export lacks 1 required column(s): whatsapp_chat_click."),
        ("duplicate_column", "The lead export has the column 'city_mapped' twice"),
        ("deep", "The request's JSON is nested too deeply to hold leads"),
    ],
)
def test_a_refused_request_is_a_400_with_one_message_and_no_trace_or_path(
    request_name, message, answers
):
    status, answer = answers["answers"][request_name]
    assert status == 400, answer
    text = json.dumps(answer)
    assert message in answer["message"]
    assert "stack_trace" not in answer
    assert "Traceback" not in text
    for path in (str(answers["project"]), "site-packages", "/work/", "/tmp/"):
        assert path not in text


def test_the_docs_quote_the_missing_field_message_the_server_sends(answers, project_root):
    docs = (project_root / "docs" / "serving.md").read_text()
    _, answer = answers["answers"]["missing_field"]
    quoted = "`The lead export lacks 1 required column(s): …`"
    assert quoted in docs
    assert quoted.strip("`").removesuffix("…") in answer["message"]
    assert "`400 BAD_REQUEST`" in docs
