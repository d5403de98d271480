"""Real small files for media tests: a PNG any browser decodes, a one-page PDF, an OGG header."""

from __future__ import annotations

from s7.whatsapp import sandbox


def png(width: int = 8, height: int = 6, rgb: tuple[int, int, int] = (220, 40, 40)) -> bytes:
    """A valid PNG any browser decodes (the sandbox's sample-photo maker)."""
    return sandbox.sample_photo(width, height, rgb)


def pdf(text: str = "Lista de precios") -> bytes:
    body = f"BT /F1 18 Tf 40 120 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def ogg() -> bytes:
    """Enough of an Ogg Opus stream to be typed as audio (content is not decoded by the tests)."""
    return b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
