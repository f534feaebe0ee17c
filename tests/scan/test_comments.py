"""Comments are blanked for the gate; code, strings and line numbers are kept."""

from __future__ import annotations

import pytest

from mageguard.scan.comments import without_comments


@pytest.mark.parametrize(
    ("source", "kind", "kept", "dropped"),
    [
        (b"<?php // api.openai.com\n$a = 1;", "php", b"$a = 1;", b"openai"),
        (b"<?php /** OpenAI::client() */ class A {}", "php", b"class A {}", b"OpenAI"),
        (b"<?php # api.anthropic.com\n", "php", b"<?php", b"anthropic"),
        (b"<?php $u = 'https://api.openai.com/v1'; // note", "php", b"api.openai.com", b"note"),
        (b'<?php $s = "a // not a comment";', "php", b"// not a comment", b""),
        (b"<?php #[Attribute] class A {}", "php", b"#[Attribute]", b""),
        (b"// fetch('https://api.openai.com')\nfetch(url);", "js", b"fetch(url);", b"openai"),
        (b"const u = `https://api.openai.com/${p}`; /* x */", "js", b"api.openai.com", b"x */"),
        (b"<config><!-- api.openai.com --><a>1</a></config>", "xml", b"<a>1</a>", b"openai"),
    ],
)
def test_comments_are_blanked_and_code_kept(
    source: bytes, kind: str, kept: bytes, dropped: bytes
) -> None:
    out = without_comments(source, kind)
    assert kept in out
    if dropped:
        assert dropped not in out


def test_lengths_and_line_breaks_are_preserved() -> None:
    source = b"<?php\n/* one\n two */\n$a = 1;\n"
    out = without_comments(source, "php")
    assert len(out) == len(source)
    assert out.count(b"\n") == source.count(b"\n")


def test_an_unterminated_comment_runs_to_the_end_of_the_file() -> None:
    assert b"openai" not in without_comments(b"<?php $a = 1; /* openai", "php")


def test_a_large_file_is_handled_without_a_parser() -> None:
    big = b"<?php return [\n" + b"  'example.com' => true, // api.openai.com\n" * 100_000 + b"];"
    assert b"openai" not in without_comments(big, "php")
