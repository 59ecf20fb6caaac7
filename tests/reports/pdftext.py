"""Just enough PDF reading to test a matplotlib-written report: pages, sizes and text.

matplotlib writes each page's content as one Flate-compressed stream; each text object is
``q <matrix> cm BT /Fn size Tf ... [ (chunk) kern (chunk) ] TJ ... ET Q``. With TrueType
fonts (``pdf.fonttype`` 42, ``/Subtype /Type0``) a chunk is UTF-16BE, with Type 3 fonts one
byte a character; either way the first font subset holds the first 256 code points, and any
other character lives in another subset and comes out here as U+FFFD (``UNKNOWN``).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

UNKNOWN = "\ufffd"

_OBJ = re.compile(rb"(\d+) 0 obj\n(.*?)\nendobj", re.S)
_TEXT_OBJECT = re.compile(
    rb"([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) cm\s*BT(.*?)ET", re.S
)
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


@dataclass(frozen=True)
class TextRun:
    """One string drawn on a page, at (``x_pt``, ``y_pt``) from the bottom left."""

    x_pt: float
    y_pt: float
    text: str


@dataclass(frozen=True)
class Page:
    """A page's size (points) and its text runs, in drawing order."""

    width_pt: float
    height_pt: float
    runs: list[TextRun]

    @property
    def text(self) -> str:
        """Every run on its own line."""
        return "\n".join(run.text for run in self.runs)


def _literal_strings(data: bytes) -> list[bytes]:
    """The ``( ... )`` strings in ``data``, unescaped (PDF 1.7, 7.3.4.2)."""
    found: list[bytes] = []
    i = 0
    while i < len(data):
        if data[i] != ord("("):
            i += 1
            continue
        depth, i, out = 1, i + 1, bytearray()
        while depth:
            c = data[i]
            if c == ord("\\"):
                nxt = data[i + 1]
                if ord("0") <= nxt <= ord("7"):
                    digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4])
                    assert digits is not None
                    out.append(int(digits.group(0), 8) & 0xFF)
                    i += 1 + len(digits.group(0))
                    continue
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if c == ord("("):
                depth += 1
            elif c == ord(")"):
                depth -= 1
                if not depth:
                    break
            out.append(c)
            i += 1
        found.append(bytes(out))
        i += 1
    return found


def _decode(chunk: bytes, two_byte: bool) -> str:
    text = chunk.decode("utf-16-be", errors="replace") if two_byte else chunk.decode("latin-1")
    return "".join(UNKNOWN if ord(c) < 0x20 else c for c in text)


def _two_byte_fonts(objects: dict[int, bytes], page: bytes) -> dict[bytes, bool]:
    """The page's font names (``F1``...) and whether each is a two-byte (Type0) font."""
    resources = re.search(rb"/Resources (\d+) 0 R", page)
    assert resources is not None
    fonts = re.search(rb"/Font (\d+) 0 R", objects[int(resources.group(1))])
    if fonts is None:
        return {}
    return {
        name: b"/Subtype /Type0" in objects[int(number)]
        for name, number in re.findall(rb"/(F\d+) (\d+) 0 R", objects[int(fonts.group(1))])
    }


def _text(body: bytes, two_byte: dict[bytes, bool]) -> str:
    """The strings of one text object, decoded in the font each is set in."""
    parts = re.split(rb"/(F\d+) [-\d.]+ Tf", body)
    out = []
    for name, segment in zip(parts[1::2], parts[2::2], strict=True):
        out += [_decode(s, two_byte[name]) for s in _literal_strings(segment)]
    return "".join(out)


def read_pdf(data: bytes) -> list[Page]:
    """The pages of a PDF written by matplotlib, in order."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    kids = re.search(rb"/Type /Pages /Kids \[([^\]]*)\]", data)
    assert kids is not None, "no page tree"
    pages = []
    for number in re.findall(rb"(\d+) 0 R", kids.group(1)):
        page = objects[int(number)]
        box = re.search(rb"/MediaBox \[ ?([-\d. ]+?) ?\]", page)
        contents = re.search(rb"/Contents (\d+) 0 R", page)
        assert box is not None and contents is not None
        x0, y0, x1, y1 = (float(v) for v in box.group(1).split())
        stream = re.search(rb"stream\n(.*)\nendstream", objects[int(contents.group(1))], re.S)
        assert stream is not None
        content = zlib.decompress(stream.group(1))
        fonts = _two_byte_fonts(objects, page)
        runs = [
            TextRun(float(m.group(5)), float(m.group(6)), _text(m.group(7), fonts))
            for m in _TEXT_OBJECT.finditer(content)
        ]
        pages.append(Page(x1 - x0, y1 - y0, runs))
    return pages


def visible(text: str) -> str:
    """``text`` as :func:`read_pdf` can give it back (characters past U+00FF unknown)."""
    return "".join(c if ord(c) < 0x100 else UNKNOWN for c in text)
