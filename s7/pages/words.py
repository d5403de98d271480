"""Small es-AR wording helpers shared by the admin pages."""

from __future__ import annotations


def count(n: int, one: str, many: str) -> str:
    """`count(1, "respuesta", "respuestas")` → "1 respuesta"; 0 and 2+ take the plural."""
    return f"{n} {one if n == 1 else many}"
