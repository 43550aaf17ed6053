"""Rule text is rendered to HTML that can carry no script, no image and no unsafe link."""

from html.parser import HTMLParser

import pytest

from hotline.kit.markdown import render_markdown


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
def test_dangerous_payloads_are_neutralised(payload):
    elements = _elements(render_markdown(payload))
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
