#!/usr/bin/env python3
"""test/dashboard/check.py: checks on what Chromium made of obs.dashboard_html().

  check.py png FILE WIDTH HEIGHT      the screenshot is WIDTH x HEIGHT and not blank
  check.py dom FILE                   the DOM Chromium dumped: every panel, no script,
                                      the payloads shown as text, the title unchanged
  check.py html FILE                  the same structural checks on the page as served
  check.py crop IN OUT                IN without its empty bottom rows, as an RGB PNG
                                      with 5 bits per channel (the README screenshot)

Prints "ok - ..." / "not ok - ..." lines; exits 1 when any check failed.
Standard library only: the PNG is decoded here (zlib and the five filters).
"""
import html.parser
import struct
import sys
import zlib

failed = 0


def report(ok, what):
    global failed
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failed += 1


def png_read(path):
    """(width, height, bytes per pixel, rows of raw pixel bytes) of an 8-bit RGB(A) PNG"""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("unsupported PNG: depth %d colour %d interlace %d" % (depth, colour, interlace))
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif f == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def check_png(path, width, height):
    w, h, bpp, rows = png_read(path)
    report((w, h) == (width, height), "screenshot is %dx%d (%dx%d)" % (width, height, w, h))
    counts = {}
    for row in rows:
        for x in range(0, len(row), bpp):
            px = row[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    total = w * h
    top = max(counts.values())
    report(len(counts) >= 100, "screenshot has %d distinct colours (at least 100)" % len(counts))
    report(top / total < 0.75, "its commonest colour covers %.0f%% of it (under 75%%)" % (100.0 * top / total))
    # the panels' colours are there: the donut's green and the heatmap's darkest blue
    for name, rgb in (("success green", b"\x2e\x9d\x5b"), ("heatmap blue", b"\x08\x51\x9c"),
                      ("header navy", b"\x1f\x2a\x44")):
        report(counts.get(rgb, 0) >= 50, "screenshot shows the %s (%d pixels)" % (name, counts.get(rgb, 0)))


def crop(src, dst):
    """src without its bottom rows that are all one colour, RGB, 5 bits per channel, zlib 9"""
    w, h, bpp, rows = png_read(src)
    last = h
    while last > 1 and rows[last - 1] == rows[-1]:
        last -= 1
    last = min(h, last + 12)
    levels = [round(i * 255 / 31) for i in range(32)]
    poster = bytes(min(levels, key=lambda v: abs(v - b)) for b in range(256))
    out = bytearray()
    for row in rows[:last]:
        rgb = bytearray(w * 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = row[0::bpp], row[1::bpp], row[2::bpp]
        out += b"\x00" + bytes(rgb).translate(poster)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    with open(dst, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, last, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(out), 9)) + chunk(b"IEND", b""))
    print("%s: %dx%d" % (dst, w, last))


class Page(html.parser.HTMLParser):
    """start tags with their attributes, text by enclosing element id, the title"""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.ids, self.text, self.title, self.stack = [], set(), [], None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        for k, v in attrs:
            if k == "id":
                self.ids.add(v)
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "title" and "head" in self.stack:
            self.title = (self.title or "") + data
        self.text.append(data)


PANELS = ["flow-success", "error-rate", "latency-heatmap", "service-performance", "task-performance",
          "slowest-tasks", "throughput-tasks", "bottleneck-tasks", "active-alerts", "ingest-health",
          "sink-health", "recent-errors"]
HEADINGS = ["Flow success", "Error-rate trend", "Latency heatmap", "Service performance", "Task performance",
            "Active alerts", "Ingest health", "Sink health"]
AXES = ["error rate (%)", "latency (ms)", "span duration (ms)", "samples per cell:", "success rate",
        "runs by final state", "alert threshold", "error rate:"]
SCRIPT = "<script>document.title='pwned'</script>"
IMG = "\"><img src=x onerror=\"document.title='pwned'\">"


def check_page(path, what):
    page = Page()
    page.feed(open(path, encoding="utf-8").read())
    page.close()
    text = "".join(page.text)
    names = [t for t, _ in page.tags]
    report(page.title == "obs dashboard", "%s: document title is \"obs dashboard\" (%r)" % (what, (page.title or "")[:80]))
    for bad in ("script", "img", "iframe", "object", "embed", "link", "base", "form", "foreignobject"):
        report(bad not in names, "%s: no <%s> element (%d)" % (what, bad, names.count(bad)))
    handlers = [(t, k) for t, attrs in page.tags for k, _ in attrs if k.startswith("on")]
    report(not handlers, "%s: no event-handler attribute %s" % (what, handlers[:3]))
    links = [(t, k, v) for t, attrs in page.tags for k, v in attrs
             if k in ("src", "href", "xlink:href", "action", "formaction", "background")]
    report(not links, "%s: no attribute that loads anything %s" % (what, links[:3]))
    missing = [p for p in PANELS if p not in page.ids]
    report(not missing, "%s: every panel is present by id (missing: %s)" % (what, missing))
    missing = [h for h in HEADINGS if h not in text]
    report(not missing, "%s: every panel heading is present (missing: %s)" % (what, missing))
    missing = [a for a in AXES if a not in text]
    report(not missing, "%s: axis titles, units and legends are present (missing: %s)" % (what, missing))
    svgs = names.count("svg")
    report(svgs >= 4, "%s: %d inline SVG charts (at least 4)" % (what, svgs))
    # the payloads are shown, as text: a message, a flow name, a service name, a task name
    report(text.count(SCRIPT) >= 2, "%s: the <script> payload is shown as text %d times" % (what, text.count(SCRIPT)))
    titles = [v for _, attrs in page.tags for k, v in attrs if k == "title" and v]
    report(any(IMG in t for t in titles) and IMG[2:] in text,
           "%s: the attribute-breaking payload stays inside its attribute and is shown as text" % what)


def main():
    cmd = sys.argv[1]
    if cmd == "png":
        check_png(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd in ("dom", "html"):
        check_page(sys.argv[2], "DOM" if cmd == "dom" else "page")
    elif cmd == "crop":
        crop(sys.argv[2], sys.argv[3])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
