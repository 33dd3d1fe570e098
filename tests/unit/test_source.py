"""The strict YAML reader: every hostile or sloppy input becomes a clean problem with a line."""

from __future__ import annotations

import pytest

from govcloud.model.errors import InputError
from govcloud.model.source import MAX_FILE_BYTES, load_yaml_bytes


def problems_of(text: str | bytes) -> list:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as caught:
        load_yaml_bytes("doc.yaml", raw)
    return caught.value.problems


def test_values_and_lines() -> None:
    doc = load_yaml_bytes("doc.yaml", "a: 1\nb:\n  - x\n  - name: 长沙\n".encode())
    assert doc.data == {"a": 1, "b": ["x", {"name": "长沙"}]}
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("b", 1, "name")) == 4
    # a missing field points at its nearest existing parent
    assert doc.line_of(("b", 1, "missing")) == 4


def test_yaml_1_2_core_scalars() -> None:
    doc = load_yaml_bytes("d.yaml", b"a: no\nb: on\nc: 0755\nd: true\ne: ~\nf: 1.5\ng: 2027-06-30\nh: '12'\ni: 1_000\n")
    assert doc.data == {"a": "no", "b": "on", "c": 755, "d": True, "e": None, "f": 1.5, "g": "2027-06-30", "h": "12", "i": "1_000"}


def test_duplicate_keys_name_both_lines() -> None:
    [problem] = problems_of("zone: a\nname: x\nzone: b\n")
    assert (problem.line, problem.field) == (3, "zone")
    assert "duplicate key 'zone'" in problem.message and "line 1" in problem.message


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    found = problems_of(bomb)
    assert found and all("anchors and aliases are not allowed" in p.message for p in found)
    assert found[0].line == 2


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("a: !!python/object:os.system x\n", "YAML tags are not allowed"),
        ("a: !custom x\n", "YAML tags are not allowed"),
        ("base: {x: 1}\nother:\n  <<: {x: 2}\n", "merge keys"),
        ("? [a, b]\n: 1\n", "mapping keys must be plain strings"),
        ("a: [1, 2\n", "YAML syntax error"),
        ("a: 1\n---\nb: 2\n", "YAML syntax error"),
        ("a:\n\tb: 1\n", "YAML syntax error"),
    ],
)
def test_refused_constructs(text: str, fragment: str) -> None:
    found = problems_of(text)
    assert any(fragment in p.message for p in found), found


def test_non_utf8_names_the_line() -> None:
    [problem] = problems_of(b"name: ok\ndepartment: \xb3\xa4\xc9\xb3\n")
    assert problem.line == 2 and "not valid UTF-8" in problem.message


def test_oversized_file() -> None:
    [problem] = problems_of(b"a: " + b"x" * MAX_FILE_BYTES + b"\n")
    assert "limit is" in problem.message


def test_deep_nesting() -> None:
    found = problems_of("a: " + "[" * 60 + "]" * 60 + "\n")
    assert any("nesting deeper" in p.message for p in found)


@pytest.mark.parametrize("literal", ["9" * 5000, "-" + "1" * 4301, "1" * 101, "1" * 60 + "." + "1" * 60, "1e999", "-1e999"])
def test_numbers_out_of_range_name_the_field(literal: str) -> None:
    """Python refuses to convert an integer of more than 4,300 digits (ValueError): the loader
    reports a number out of range instead, with its line and field."""
    [problem] = problems_of(f"quotas:\n  pods: {literal}\n")
    assert (problem.line, problem.field) == (2, "quotas.pods") and "out of range" in problem.message


def test_long_numbers_in_quotes_stay_text() -> None:
    assert load_yaml_bytes("d.yaml", f"a: '{'9' * 5000}'\n".encode()).data == {"a": "9" * 5000}
    assert load_yaml_bytes("d.yaml", f"a: {'9' * 100}\n".encode()).data == {"a": int("9" * 100)}


def test_bom_and_empty() -> None:
    assert load_yaml_bytes("d.yaml", "\ufeffa: 1\n".encode()).data == {"a": 1}
    assert load_yaml_bytes("d.yaml", b"").data is None


@pytest.mark.parametrize("hidden", ["\x85", "\u2028", "\u2029", "\x9b", "\u202e", "\u2066"])
def test_characters_yaml_would_read_otherwise_are_refused_where_they_stand(hidden: str) -> None:
    """A raw NEL or line separator is a line break to YAML 1.1: `name: 'a<NEL>  b'` would load as
    'a b', so the file would not say what the model reads; a bidi control reorders what it shows."""
    text = f"department:\n  slug: edu\n  name: '岳阳{hidden}  0'\n"
    with pytest.raises(InputError) as error:
        load_yaml_bytes("t.yaml", text.encode("utf-8"))
    [problem] = error.value.problems
    assert problem.line == 3 and problem.field == ("" if hidden == "\x9b" else "department.name") and f"U+{ord(hidden):04X} at column 12" in problem.message  # \x9b: refused by YAML before any value


def test_a_hidden_character_in_a_comment_or_a_key_is_refused_too() -> None:
    for text, line, field in [("# 说明\u202e\nname: x\n", 1, ""), ("a:\n  k\u202e: 1\n", 2, "a"), ("a: 1\nb: \x01\n", 2, "")]:
        with pytest.raises(InputError) as error:
            load_yaml_bytes("t.yaml", text.encode("utf-8"))
        [problem] = error.value.problems
        assert (problem.line, problem.field) == (line, field) and "not allowed in an inventory file" in problem.message


def test_chinese_text_and_tabs_in_comments_stay_welcome() -> None:
    assert load_yaml_bytes("t.yaml", "# 说明\t注释\nname: 岳阳市教育局\n".encode()).data == {"name": "岳阳市教育局"}
