"""The one-pass builder gives exactly what the checked path gives: same data, same errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.render import yamlload
from driftwatch.render.yamlbuild import UnusualDocumentError
from driftwatch.render.yamlload import ParsedDoc, YamlLoadError, load_documents

CORPUS = Path(__file__).resolve().parents[1] / "badinput" / "manifests"

CASES = {
    "scalars": (
        "a: 1\nb: 0x1F\nc: 0o17\nd: 1_000\ne: -2.5e3\nf: .inf\ng: .NaN\nh: true\ni: off\n"
        "j: ~\nk: null\nl: 2024-01-02T03:04:05Z\nm: !!binary aGk=\nn: '1'\no: \"yes\"\n"
        "p: |\n  block\n  text\nq: >\n  folded\nr: 1:30\ns: !!str 5\nt: !!int '7'\n"
    ),
    "keys": "1: a\ntrue: b\nnull: c\n2024-01-01: d\n? x\n: e\n'1.5': f\n",
    "nested": "a:\n- b: [1, {c: [d, e]}]\n- - - deep\n- {}\n- []\n",
    "stream": "---\na: 1\n---\n---\n- x\n...\n--- scalar\n",
    "merge-inline": "a:\n  <<: {x: 1, y: 2}\n  y: 3\n",
    "set": "a: !!set {x, y}\n",
    "omap": "a: !!omap [x: 1, y: 2]\n",
    "custom-tag": "a: !Ref foo\n",
    "python-tag": "a: !!python/name:os.system\n",
    "complex-key": "? [a, b]\n: c\n",
    "duplicate": "a: 1\nb:\n  c: 1\n  c: 2\n",
    "deep": "".join("  " * i + f"k{i}:\n" for i in range(120)) + "  " * 120 + "v\n",
    "equal-depth": "".join("  " * i + f"k{i}:\n" for i in range(99)) + "  " * 99 + "v\n",
    "value-key": "a:\n  =: 1\n",
}


def _checked_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> object:
        raise UnusualDocumentError

    monkeypatch.setattr(yamlload, "build", refuse)


def _outcome(text: str, name: str) -> tuple[list[ParsedDoc], list[str]]:
    docs, errors = load_documents(text, name)
    return docs, [str(e) for e in errors]


def _same(a: object, b: object) -> bool:
    """Equal, with NaN equal to itself and the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and a != a:
        return b != b
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, ParsedDoc):
        assert isinstance(b, ParsedDoc)
        return (a.index, a.line, a.item_lines) == (b.index, b.line, b.item_lines) and _same(
            a.data, b.data
        )
    return a == b


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_and_checked_paths_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _outcome(CASES[name], name)
    _checked_only(monkeypatch)
    checked = _outcome(CASES[name], name)
    assert _same(fast[0], checked[0]), (fast[0], checked[0])
    assert fast[1] == checked[1]


def _parsed_corpus() -> list[tuple[str, str]]:
    """The corpus files the YAML parser sees (not JSON, not refused for their encoding)."""
    out = []
    for path in sorted(CORPUS.glob("*.yaml")):
        try:
            out.append((path.name, yamlload.read_text(path, path.name)))
        except YamlLoadError:
            continue
    return out


PARSED_CORPUS = _parsed_corpus()


def test_the_corpus_is_there() -> None:
    assert len(PARSED_CORPUS) >= 15


@pytest.mark.parametrize(("name", "text"), PARSED_CORPUS, ids=[n for n, _ in PARSED_CORPUS])
def test_bad_input_corpus_gets_the_same_errors(
    name: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _outcome(text, name)
    _checked_only(monkeypatch)
    checked = _outcome(text, name)
    assert fast[1] == checked[1]
    assert _same(fast[0], checked[0])


def test_deep_and_duplicate_errors_name_the_line() -> None:
    _, errors = load_documents(CASES["duplicate"], "d.yaml")
    assert [(e.message, e.line) for e in errors] == [("duplicate key 'c'", 4)]
    _, errors = load_documents(CASES["deep"], "deep.yaml")
    assert [e.message for e in errors] == ["nesting deeper than 100 levels"]
