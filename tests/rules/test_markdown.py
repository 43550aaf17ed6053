"""Rule text is rendered to HTML that can carry no script, no image and no unsafe link; two
versions are compared as rendered text."""

from html.parser import HTMLParser

import pytest

from hotline.kit.markdown import render_markdown
from hotline.kit.markdown_diff import markdown_diff

ADDED = '<span class="sr-only">Tilføjet: </span>'
REMOVED = '<span class="sr-only">Slettet: </span>'


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "![](http://evil/x.png)",
        '<iframe src="http://evil/"></iframe>',
        '<a href="http://x" onclick="alert(1)">x</a>',
        "[x](JaVaScRiPt:alert(1))",
        '<p style="color:red">x</p>',
    ],
)
@pytest.mark.parametrize("render", [render_markdown, lambda text: _diff("Før.", text)])
def test_dangerous_payloads_are_neutralised(payload, render):
    elements = _elements(render(payload))
    tags = {tag for tag, _ in elements}
    assert not tags & {"script", "img", "iframe", "style"}
    for _, attrs in elements:
        for name, value in attrs:
            assert not name.startswith("on") and name != "style"
            if name == "href":
                assert value.startswith(("http://", "https://", "mailto:"))


def _elements(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The real elements of an HTML fragment (tag, attributes), ignoring escaped text."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_javascript_link_is_not_a_link():
    assert "<a" not in render_markdown("[x](javascript:alert(1))")


def test_image_is_dropped_entirely():
    assert render_markdown("![alt](http://evil/x.png)").strip() in ("<p></p>", "")


def test_safe_markdown_keeps_structure_and_links_get_rel():
    html = render_markdown(
        "## Overskrift\n\n**fed** og *kursiv* [borger.dk](https://www.borger.dk/)\n\n"
        "- punkt\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[mail](mailto:a@b.dk)"
    )
    assert "<h2>Overskrift</h2>" in html
    assert "<strong>fed</strong>" in html and "<em>kursiv</em>" in html
    assert '<a href="https://www.borger.dk/" rel="noopener noreferrer">borger.dk</a>' in html
    assert "<li>punkt</li>" in html
    assert "<td>1</td>" in html
    assert 'href="mailto:a@b.dk"' in html


def test_raw_html_is_shown_as_text():
    assert "&lt;b&gt;" in render_markdown("<b>x</b>")


def _diff(old: str, new: str) -> str:
    return markdown_diff(old, new, added="Tilføjet:", removed="Slettet:")


def test_diff_marks_changed_words_in_the_rendered_text():
    html = _diff(
        "Bestil **tid** på Dokk1.\n\nMedbring pas.",
        "Bestil **tid** i Borgerservice.\n\nMedbring pas.",
    )

    assert html.startswith("<p>Bestil <strong>tid</strong> ")
    assert f"<del>{REMOVED}på Dokk1.</del><ins>{ADDED}i Borgerservice.</ins></p>" in html
    assert "<p>Medbring pas.</p>" in html  # unchanged, unmarked


def test_diff_keeps_whole_deleted_and_added_blocks():
    html = _diff("- a\n- b\n- c\n\nSlut.", "- a\n- c\n- d")

    assert f"<li><del>{REMOVED}b</del></li>" in html and f"<li><ins>{ADDED}d</ins></li>" in html
    assert "<li>a</li>" in html and "<li>c</li>" in html
    assert f"<p><del>{REMOVED}Slut.</del></p>" in html


def test_diff_of_equal_texts_marks_nothing():
    assert _diff("Samme *tekst*.", "Samme *tekst*.") == render_markdown("Samme *tekst*.")


def test_diff_shows_a_rewritten_text_as_removed_blocks_then_added_ones():
    html = _diff(
        "Gammel tekst om pas.\n\n| Alder | Pris |\n|---|---|\n| 0–11 år | 150 kr. |", "Ny."
    )

    assert f"<p><del>{REMOVED}Gammel tekst om pas.</del></p>" in html
    assert f"<td><del>{REMOVED}150 kr.</del></td>" in html  # the table stays a table
    assert html.rstrip().endswith(f"<p><ins>{ADDED}Ny.</ins></p>")
