"""Two Markdown texts compared as rendered HTML: the newer markup with changed words marked.

Both texts are rendered and sanitised (hotline.kit.markdown) and compared line by line (the
renderer puts each block on a line of its own), then word by word within changed lines. The
output keeps every tag of the newer text, so it is as well formed as that; a deleted run of whole
elements (a paragraph, a list item) keeps its tags, other deleted tags are dropped. Each changed
run is an <ins> or <del> that starts with visually hidden text naming the change, so a screen
reader says it too. The result is sanitised again.
"""

import difflib
import re
from html import escape

import nh3

from hotline.kit.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
)

# A tag or a run of non-space text, each with the whitespace after it.
_TOKEN = re.compile(r"(?:<[^>]*>|[^<\s]+)\s*")
_TAG = re.compile(r"<(/?)([a-zA-Z0-9]+)[^>]*?(/?)>")
_VOID = {"br", "hr"}
# Changed lines that keep less than this share of the shorter side's words were rewritten: shown
# as wholly removed, then wholly added.
_REWRITTEN = 0.5


def markdown_diff(old: str, new: str, *, added: str, removed: str) -> str:
    """The new Markdown rendered, with words added since old in <ins> and removed in <del>;
    added/removed: the hidden text that introduces each run (e.g. "Tilføjet:")."""
    # Lines first (the renderer puts each block on its own line), then words within changed lines.
    before = render_markdown(old).splitlines(keepends=True)
    after = render_markdown(new).splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(after[j1:j2])
        else:
            old_part, new_part = _tokens("".join(before[i1:i2])), _tokens("".join(after[j1:j2]))
            out.append(_changed_lines(old_part, new_part, added=added, removed=removed))
    return nh3.clean(
        "".join(out),
        tags=ALLOWED_TAGS | {"ins", "del", "span"},
        attributes={**ALLOWED_ATTRIBUTES, "span": {"class"}},
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _changed_lines(before: list[str], after: list[str], *, added: str, removed: str) -> str:
    """Changed lines: word by word, or wholly removed then wholly added when rewritten."""
    old_words = [_key(t) for t in before if not _is_tag(t)]
    new_words = [_key(t) for t in after if not _is_tag(t)]
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    # Rewritten: most words of either side are gone (so a paragraph added after an edited one
    # does not make the edit look like a rewrite).
    kept_share = kept / min(len(old_words), len(new_words)) if old_words and new_words else 1
    if kept_share < _REWRITTEN and _balanced(before):
        return _marked(before, "del", removed) + _marked(after, "ins", added)
    return _word_diff(before, after, added=added, removed=removed)


def _word_diff(before: list[str], after: list[str], *, added: str, removed: str) -> str:
    out: list[str] = []
    for tag, i1, i2, j1, j2 in _opcodes([_key(t) for t in before], [_key(t) for t in after]):
        if tag == "equal":
            out.extend(after[j1:j2])
            continue
        gone = before[i1:i2]
        if gone:
            out.append(_marked(gone if _balanced(gone) else _words(gone), "del", removed))
        if j2 > j1:
            out.append(_marked(after[j1:j2], "ins", added))
    return "".join(out)


def _tokens(html: str) -> list[str]:
    return _TOKEN.findall(html.lstrip())


def _key(token: str) -> str:
    return token.rstrip()


def _is_tag(token: str) -> bool:
    return token.startswith("<")


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, with an unchanged run of words folded into the changes around it when
    it is no longer than either of them (as diff-match-patch's semantic cleanup does), so a
    rewritten sentence reads as one deletion and one insertion, not a patchwork of shared words."""
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()

    def size(op) -> int:
        _, i1, i2, j1, j2 = op
        return max(len("".join(old[i1:i2])), len("".join(new[j1:j2])))

    folded = True
    while folded:
        folded = False
        for k in range(1, len(ops) - 1):
            tag, i1, i2, j1, j2 = ops[k]
            if tag != "equal" or any(_is_tag(token) for token in old[i1:i2]):
                continue
            if size(ops[k]) <= size(ops[k - 1]) and size(ops[k]) <= size(ops[k + 1]):
                ops[k - 1 : k + 2] = [
                    ("replace", ops[k - 1][1], ops[k + 1][2], ops[k - 1][3], ops[k + 1][4])
                ]
                folded = True
                break
    return ops


def _balanced(tokens: list[str]) -> bool:
    """Whether the tokens' tags open and close each other (whole elements only)."""
    open_tags: list[str] = []
    for token in tokens:
        match = _TAG.match(token) if _is_tag(token) else None
        if match is None:
            continue
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _VOID or self_closing:
            continue
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            return False
    return not open_tags


def _words(tokens: list[str]) -> list[str]:
    """The words of tokens without their tags; a dropped tag still separates the words."""
    words: list[str] = []
    for token in tokens:
        if not _is_tag(token):
            words.append(token)
        elif words and not words[-1][-1].isspace():
            words[-1] += " "
    return words


def _marked(tokens: list[str], element: str, label: str) -> str:
    """Tokens with each run of words between tags wrapped in <element>, its label hidden first."""
    out: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        if not run:
            return
        text = "".join(run)
        words, space = text.rstrip(), text[len(text.rstrip()) :]
        hidden = f'<span class="sr-only">{escape(label)} </span>'
        out.append(f"<{element}>{hidden}{words}</{element}>{space}")
        run.clear()

    for token in tokens:
        if _is_tag(token):
            close_run()
            out.append(token)
        else:
            run.append(token)
    close_run()
    return "".join(out)
