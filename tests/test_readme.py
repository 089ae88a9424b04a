"""README.md's serving example, exactly as written, answered by the served champion over HTTP."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


def readme_serving_example() -> tuple[str, dict]:
    """The path and JSON body of the README's `curl` to the model server."""
    text = README.read_text()
    curl = re.search(r"curl -s (http://\S+) .*? -d '(.*?)'", text, flags=re.S)
    assert curl, "README.md has no `curl ... -d '<json>'` serving example"
    return curl.group(1), json.loads(curl.group(2))


def test_the_readme_example_is_one_complete_raw_lead(interaction_mapping):
    url, body = readme_serving_example()
    assert url.endswith("/invocations")
    (lead,) = body["dataframe_records"]
    origin = [
        "created_date",
        "city_mapped",
        "first_platform_c",
        "first_utm_medium_c",
        "first_utm_source_c",
        "total_leads_droppped",
        "referred_lead",
    ]
    assert list(lead) == [*origin, *interaction_mapping["interaction_type"]]


@pytest.mark.slow
def test_the_served_model_scores_the_readme_example(served_champion):
    url, body = readme_serving_example()
    request = urllib.request.Request(
        url.replace("http://127.0.0.1:5001", served_champion),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        (answer,) = json.loads(response.read())["predictions"]
    assert answer["status"] == "scored", answer
    assert 1 <= answer["score"] <= 99 and answer["tier"] in {"hot", "warm", "cold"}
    for k in (1, 2, 3):
        assert answer[f"reason_{k}"].endswith(("raises the score.", "lowers the score."))
