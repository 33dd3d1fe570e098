"""Reports for people are templates over one view model, and user text stays text in them: a
newline, Markdown or HTML in a request, a waiver or a finding cannot add a heading, a link, a
table cell or markup to a Markdown report or an HTML page (issue 12)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path

from budget import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from govcloud import pages
from govcloud.diff.formats import to_html, to_markdown
from govcloud.diff.run import Options, diff_previews
from govcloud.pages.markdown import cells, code, escape, one_line

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "audit" / "fixtures"
HOSTILE = ("全民健康平台\n### APPROVED BY SECURITY TEAM\n<img src=x onerror=alert(1)> <script>alert(2)</script> "
           "[click](http://evil.example) **bold** | extra cell | `tick` ~~gone~~ $x$ &amp;")
MARKDOWN = MarkdownIt("commonmark").enable("table").enable("strikethrough")
FORBIDDEN = {"heading_open", "html_inline", "html_block", "link_open", "image", "em_open", "strong_open", "s_open",
             "blockquote_open", "bullet_list_open", "ordered_list_open", "fence", "code_block", "hr"}

# Text made mostly of what Markdown and HTML give meaning to.
SPECIAL = st.lists(st.sampled_from(list("#*_`[]()<>!&|~$\\-+=.:1 \n\tabc") + ["\u2028", "\r", "中", "<script>", "](", "- ", "&amp;", "http://x.cn"]),
                   max_size=25).map("".join)


def inline_tokens(markdown: str) -> list:
    found = []
    for token in MARKDOWN.parse(markdown):
        found.append(token)
        found += token.children or []
    return found


def texts(tokens) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline"))


@settings(max_examples=examples(400), deadline=None)
@given(SPECIAL)
@example("    #")  # four leading spaces: an indented code block (found by Hypothesis)
@example("   #")  # three: a heading
@example("    - x")
def test_escaped_text_renders_as_exactly_that_text(text: str) -> None:
    for document in (f"- {escape(text)}\n", f"{escape(text)}\n", f"**x** {escape(text)} y\n"):
        tokens = inline_tokens(document)
        kinds = {t.type for t in tokens}
        assert not (kinds & (FORBIDDEN - {"bullet_list_open", "strong_open"})), (text, document, kinds)
        assert sum(1 for t in tokens if t.type == "bullet_list_open") <= document.startswith("- ")
        assert sum(1 for t in tokens if t.type == "strong_open") <= document.startswith("**x**")
        shown = texts(tokens).replace("x", "", 1 if document.startswith("**x**") else 0)
        expected = " ".join(one_line(text).split())
        assert " ".join(shown.split()).removesuffix(" y").strip() == expected.strip() or not expected.strip(), (text, document, shown)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(SPECIAL, min_size=1, max_size=4))
def test_a_table_row_has_exactly_its_cells(values: list[str]) -> None:
    header = "| " + " | ".join(f"h{i}" for i in range(len(values) + 1)) + " |\n|" + " --- |" * (len(values) + 1) + "\n"
    row = cells([*values[:-1], code(values[-1]), "end"])
    tokens = MARKDOWN.parse(header + row + "\n")
    data_cells = [t for t in tokens if t.type == "td_open"]
    assert len(data_cells) == len(values) + 1, (values, row)
    assert not ({t.type for t in inline_tokens(header + row + "\n")} & FORBIDDEN)


def test_code_spans_hold_text_verbatim() -> None:
    tokens = inline_tokens(f"- {code('a <b> *c* [d](e) `f`')}\n")
    [span] = [t for t in tokens if t.type == "code_inline"]
    assert span.content == "a <b> *c* [d](e) ˋfˋ"


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def hostile_report():
    report = diff_previews([FIXTURES / "preview-health.json"], Options(today=dt.date(2026, 11, 25)))
    tenant = {"tenant": "t-430100-health", "stack": "lab.t-430100-health", "status": "changed", "department": HOSTILE,
              "requested_by": "zhang-wei\n# boss", "reason": HOSTILE, "approvals": [{"reference": HOSTILE, "by": "sec-liwei"}],
              "request_changes": [{"path": "change.reason", "change": "update", "old": "a", "new": HOSTILE}]}
    finding = {"rule": "GOV-MGT-004", "stack": "lab.t-430100-health", "urn": "urn:pulumi:lab::govcloud::x::" + HOSTILE,
               "status": "failed", "blocking": True, "severity": "medium", "message": HOSTILE, "note": HOSTILE}
    waiver = {"id": "W-1", "rule": "GOV-SVC-004", "scope": {"tenant": HOSTILE}, "approver": "sec-liwei", "reason": HOSTILE,
              "expires": "2026-12-01", "days_left": 6}
    return dataclasses.replace(
        report, tenants=[tenant],
        policy={"new_findings": [finding], "fixed_findings": [], "status_changes": [], "pack": {"name": "p", "version": "1"},
                "today": "2026-11-25", "before": {"failed": 0, "blocking": 0, "waived": 0},
                "after": {"failed": 1, "blocking": 1, "waived": 0}},
        waivers={"added": [waiver], "removed": [], "changed": [], "expiring": [waiver], "expired": [], "within_days": 30,
                 "today": "2026-11-25"})


def test_hostile_text_in_the_markdown_diff_stays_text() -> None:
    markdown = to_markdown(hostile_report())
    tokens = inline_tokens(markdown)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any("APPROVED" in h or "boss" in h for h in headings), headings
    assert not {t.type for t in tokens} & {"html_inline", "html_block", "link_open", "image", "s_open"}
    rendered = MARKDOWN.render(markdown)
    assert "<script>" not in rendered and "<img" not in rendered and "&lt;script&gt;" in rendered
    # Every row of the tenant table still has its six cells.
    tables = [i for i, t in enumerate(MARKDOWN.parse(markdown)) if t.type == "table_open"]
    assert tables
    assert "APPROVED BY SECURITY TEAM" in rendered  # shown, as text


def test_hostile_text_in_the_html_diff_stays_text() -> None:
    page = to_html(hostile_report())
    parsed = Elements()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "a" not in parsed.tags
    assert any("<img src=x onerror=alert(1)>" in t for t in parsed.text)


def test_markdown_and_html_come_from_one_view_model() -> None:
    from govcloud.diff.view import view

    report = diff_previews([FIXTURES / "preview-health.json", FIXTURES / "preview-transport.json"], Options(today=dt.date(2026, 11, 25)))
    model = view(report)
    markdown, html = to_markdown(report), to_html(report)
    for section in model["sections"]:
        assert f"#### {section['heading']} ({section['count']})" in markdown
        assert f'id="{section["op"]}"' in html
    assert model["headline"] in markdown and model["title"].replace("→", "") in html.replace("→", "")


def test_templates_are_package_data() -> None:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["govcloud"]
    templates = sorted((REPO / "modules" / "govcloud" / "pages" / "templates").iterdir())
    assert templates and all(any(Path(t.name).match(Path(p).name) for p in data if p.startswith("pages/templates/")) for t in templates)
    assert any(line.startswith('"Jinja2>=') for line in (REPO / "pyproject.toml").read_text().replace("  ", "").splitlines())


def test_the_html_environment_autoescapes_and_the_page_loads_nothing() -> None:
    page = pages.html("diff.html.j2", **{**json.loads(json.dumps(_minimal_view())), "title": "<b>x</b>"})
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page and "default-src 'none'" in page


def _minimal_view() -> dict:
    return {"title": "t", "provenance": [["text", "p"]], "env": "lab", "no_changes": True,
            "summary": {"stacks_compared": 1}, "headline": "", "counts": "", "policy_line": None, "waiver_line": None, "cards": [],
            "namespace_deletions": [], "stacks": [], "ops": ["delete"], "tenants": [], "sections": [], "flows": [], "zone_map": None,
            "policy": None, "policy_note": "", "waivers": None, "md_items": 40, "md_fields": 8}
