"""Reports for people, from templates: self-contained HTML pages and Markdown.

Every page and Markdown report is a Jinja2 template under ``templates/`` (package data), fed
a view model: plain data prepared for display, shared by a report's HTML and Markdown forms.
Nothing is escaped by hand:

- HTML templates (``*.html.j2``) autoescape every value; markup built in Python is wrapped in
  ``Markup`` only where it is built from escaped parts (the zone map is a template too).
- Markdown templates (``*.md.j2``) escape every value as Markdown and inline HTML
  (``markdown.escape``); ``code``, ``cells`` and ``join`` make safe Markdown from values.

Pages are offline and self-contained: inline CSS, inline SVG, an inline script at most, and a
Content-Security-Policy that forbids loading anything.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from ..text import plural
from . import markdown


def value_text(value: Any) -> str:
    """A JSON value as people read it in a diff (strings quoted, maps and lists compact)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def _common(env: jinja2.Environment) -> jinja2.Environment:
    env.globals.update(plural=plural)
    env.filters.update(value_text=value_text, pretty=pretty)
    return env


@cache
def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("govcloud.pages", "templates"), autoescape=True, extensions=["jinja2.ext.do"],
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _common(env)


@cache
def markdown_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("govcloud.pages", "templates"), autoescape=False, extensions=["jinja2.ext.do"],
                             finalize=markdown.finalize, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    # ``markdown`` marks a macro's output as safe: every value inside it was escaped already.
    env.filters.update(code=markdown.code, cells=markdown.cells, join_md=markdown.join, markdown=markdown.MarkdownText)
    return _common(env)


def html(template: str, **view: Any) -> str:
    return html_environment().get_template(template).render(**view)


def html_fragment(template: str, **view: Any) -> Markup:
    """A rendered HTML template to place inside another page (already escaped throughout)."""
    return Markup(html(template, **view))


def markdown_text(template: str, **view: Any) -> str:
    return markdown_environment().get_template(template).render(**view)
