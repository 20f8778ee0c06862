"""`roll import`: every personal link, to the voter page (`--page-url`) or to an app
(votestore://), holds the secret in the fragment only — nothing of it in the path or the query,
which reach a server and its logs (issue 22: the app link had it in the query)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ops.cli.roll import personal_link

SECRET = "ab" * 32


def test_page_link_keeps_the_secret_in_the_fragment() -> None:
    link = personal_link("시장-2026", SECRET, "https://vote.example.org/")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path, parts.query) == ("https", "vote.example.org", "/", "")
    assert SECRET not in link.split("#", 1)[0]
    assert parse_qs(parts.fragment) == {"c": [SECRET], "e": ["시장-2026"]}


def test_without_a_page_the_app_link_keeps_the_secret_in_the_fragment_too() -> None:
    link = personal_link("e 1/x", SECRET, None)
    assert SECRET not in link.split("#", 1)[0]
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path, parts.query) == ("votestore", "cast", "", "")
    assert parse_qs(parts.fragment) == {"c": [SECRET], "e": ["e 1/x"]}
