"""The docs hold together: links land, cited pages and sections exist, commands name real things."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", flags=re.M)
# `docs/page.md` or `docs/page.md, "Section"` as code and configuration cite them.
CITATION = re.compile(r"docs/(\w+\.md)(?:, \"([^\"]+)\")?")


def headings(page: Path) -> list[str]:
    """The page's headings as written, code blocks left out."""
    return HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.replace(" ", "-")


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_anchors_follow_githubs_rule():
    assert anchor("Batch scoring") == "batch-scoring"
    assert anchor("Identity: which lead a row is") == "identity-which-lead-a-row-is"
    assert anchor("score_new: what is due") == "score_new-what-is-due"
    assert anchor("A local Airflow: `make airflow`") == "a-local-airflow-make-airflow"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_lands_on_a_file_and_a_heading(page):
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif fragment and fragment not in {anchor(h) for h in headings(linked)}:
            broken.append(f"{target}: no heading with anchor #{fragment} in {linked.name}")
    assert broken == []


def test_every_page_of_docs_is_linked_from_the_readme():
    linked = {Path(target.partition("#")[0]).name for target in relative_links(PAGES[0])}
    assert {page.name for page in PAGES[1:]} <= linked


def test_code_and_configuration_cite_pages_and_sections_that_exist():
    cited_from = [PROJECT_ROOT / "Makefile", *PROJECT_ROOT.glob("conf/**/*.yml")]
    cited_from += [*PROJECT_ROOT.glob("src/**/*.py"), *PAGES]
    missing = []
    for source in cited_from:
        for page_name, section in CITATION.findall(source.read_text(encoding="utf-8")):
            page = PROJECT_ROOT / "docs" / page_name
            if not page.exists():
                missing.append(f"{source.name} cites docs/{page_name}")
            elif section and not any(h.startswith(section) for h in headings(page)):
                missing.append(f'{source.name} cites docs/{page_name}, "{section}"')
    assert missing == []


def test_documented_pipelines_and_make_targets_exist():
    # Keys are package names (and `train`, a composition); old keys are aliases, not taught.
    keys = {path.name for path in (PROJECT_ROOT / "src/lead_scoring/pipelines").iterdir()}
    keys |= {"train"}
    targets = set(re.findall(r"^([\w-]+):", (PROJECT_ROOT / "Makefile").read_text(), re.M))
    unknown = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        unknown += [
            f"{page.name}: --pipeline={key}"
            for key in re.findall(r"--pipeline=(\w+)", text)
            if key not in keys
        ]
        unknown += [
            f"{page.name}: make {target}"
            for target in re.findall(r"\bmake ([a-z][\w-]*)", text)
            if target not in targets
        ]
    assert unknown == []
