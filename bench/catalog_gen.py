"""A deterministic, realistic-looking Argentine store catalog of any size, for benchmarks.

Names combine real category words, brands, models, colours and variants so the vocabulary
(and therefore the search work) looks like a scraped catalog, not random strings.
"""

from __future__ import annotations

import json
import random
from typing import Any

_FAMILIES: list[dict[str, Any]] = [
    {
        "category": "Zapatillas",
        "brands": {
            "Nike": ["Air Max 90", "Air Force 1", "Revolution 6", "Pegasus 40", "Court Vision", "Downshifter 12"],
            "Adidas": ["Forum Low", "Superstar", "Grand Court", "Runfalcon 3", "Ultraboost", "Samba OG"],
            "Puma": ["Suede Classic", "Smash V2", "RS-X", "Carina", "Caven"],
            "Topper": ["Rail", "Costa", "Strong Pace", "Fast"],
            "Fila": ["Disruptor", "Racer", "Float Prime"],
            "New Balance": ["574", "327", "9060", "Fresh Foam"],
            "Vans": ["Old Skool", "Authentic", "Sk8-Hi"],
            "Converse": ["Chuck Taylor", "Run Star", "One Star"],
        },
        "sizes": [str(s) for s in range(35, 46)],
        "price": (45_000, 260_000),
        "installments": [3, 6, 12],
    },
    {
        "category": "Celulares",
        "brands": {
            "Samsung": ["Galaxy A15", "Galaxy A25", "Galaxy A35", "Galaxy A55", "Galaxy S23", "Galaxy S24"],
            "Motorola": ["Moto G24", "Moto G54", "Moto G84", "Edge 40", "Razr 40"],
            "Apple": ["iPhone 13", "iPhone 14", "iPhone 15", "iPhone 15 Pro"],
            "Xiaomi": ["Redmi Note 13", "Redmi 13C", "Poco X6"],
        },
        "variants": ["64GB", "128GB", "256GB"],
        "price": (180_000, 2_400_000),
        "installments": [6, 12, 18],
    },
    {
        "category": "Consolas",
        "brands": {
            "Sony": ["PlayStation 5", "PlayStation 5 Slim", "PlayStation 4"],
            "Microsoft": ["Xbox Series S", "Xbox Series X"],
            "Nintendo": ["Switch OLED", "Switch Lite"],
        },
        "variants": ["Digital", "Lectora", "Bundle"],
        "price": (450_000, 1_300_000),
        "installments": [6, 12],
    },
    {
        "category": "Joysticks",
        "brands": {
            "Sony": ["Joystick DualSense", "Joystick DualShock 4"],
            "Microsoft": ["Joystick Xbox Wireless"],
            "Redragon": ["Joystick Harrow", "Joystick Saturn"],
        },
        "price": (30_000, 140_000),
        "installments": [3, 6],
    },
    {
        "category": "Auriculares",
        "brands": {
            "JBL": ["Auriculares Tune 520BT", "Auriculares Wave Buds", "Auriculares Quantum 100"],
            "Sony": ["Auriculares WH-CH520", "Auriculares WF-C500"],
            "Xiaomi": ["Auriculares Redmi Buds 4"],
            "HyperX": ["Auriculares Cloud Stinger"],
        },
        "price": (20_000, 250_000),
        "installments": [3, 6],
    },
    {
        "category": "Notebooks",
        "brands": {
            "Lenovo": ["Notebook IdeaPad 3", "Notebook IdeaPad Slim 5", "Notebook ThinkPad E14"],
            "HP": ["Notebook 15-fd", "Notebook Pavilion 14"],
            "Asus": ["Notebook Vivobook 15", "Notebook TUF Gaming F15"],
            "Dell": ["Notebook Inspiron 15"],
        },
        "variants": ["8GB 256GB", "16GB 512GB", "Ryzen 5", "Core i5", "Core i7"],
        "price": (600_000, 2_200_000),
        "installments": [6, 12],
    },
    {
        "category": "Televisores",
        "brands": {
            "Samsung": ["Smart TV Crystal UHD", "Smart TV QLED"],
            "LG": ["Smart TV UHD ThinQ", "Smart TV OLED"],
            "TCL": ["Smart TV Google TV"],
            "Philips": ["Smart TV Ambilight"],
        },
        "variants": ['32"', '43"', '50"', '55"', '65"'],
        "price": (220_000, 1_800_000),
        "installments": [6, 12],
    },
    {
        "category": "Ropa",
        "brands": {
            "Nike": ["Buzo Club Fleece", "Remera Dri-FIT", "Campera Windrunner"],
            "Adidas": ["Buzo Essentials", "Remera Trefoil", "Pantalón Tiro"],
            "Levi's": ["Jean 501", "Jean 511 Slim", "Campera de Jean Trucker"],
            "Sector": ["Hoodie Oversize", "Remera Básica", "Buzo Canguro Liso", "Jogger Frisa"],
        },
        "sizes": ["XS", "S", "M", "L", "XL", "XXL"],
        "price": (12_000, 160_000),
        "installments": [3, 6],
    },
    {
        "category": "Hogar",
        "brands": {
            "Philips": ["Pava Eléctrica", "Licuadora", "Freidora de Aire"],
            "Atma": ["Cafetera", "Tostadora"],
            "Liliana": ["Ventilador de Pie", "Caloventor"],
            "Gafa": ["Heladera No Frost"],
        },
        "price": (25_000, 1_200_000),
        "installments": [3, 6, 12],
    },
    {
        "category": "Mochilas",
        "brands": {
            "Jansport": ["Mochila SuperBreak", "Mochila Big Student"],
            "Head": ["Mochila Urbana"],
            "Samsonite": ["Mochila Notebook 15.6"],
        },
        "price": (30_000, 180_000),
        "installments": [3, 6],
    },
]
_PREFIX = {"Zapatillas": "Zapatillas", "Celulares": "Celular", "Consolas": "Consola"}
COLORS = ["Negro", "Blanco", "Gris", "Azul", "Rojo", "Verde", "Beige", "Rosa", "Violeta", "Celeste", "Bordó"]
LINES = ["", "Edición 2024", "Edición 2025", "Importado", "Outlet", "Pack", "Premium", "Kids", "Mujer", "Hombre"]


def generate_products(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` products with unique SKUs; about 15 % out of stock."""
    rng = random.Random(seed)
    products: list[dict[str, Any]] = []
    serial = 0
    while len(products) < count:
        family = rng.choice(_FAMILIES)
        brand = rng.choice(list(family["brands"]))
        model = rng.choice(family["brands"][brand])
        color = rng.choice(COLORS)
        variant = rng.choice(family.get("variants", [""]))
        line = rng.choice(LINES)
        serial += 1
        category = family["category"]
        # Scraped names carry manufacturer references: they make the vocabulary realistically large.
        reference = (
            f"Ref. {rng.choice('ABCDEFGHJKLMNPRSTUVWXZ')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXZ')}"
            f"{rng.randint(100, 99999)}"
            if rng.random() < 0.6
            else ""
        )
        name = " ".join(f"{_PREFIX.get(category, '')} {brand} {model} {variant} {color} {line} {reference}".split())
        low, high = family["price"]
        attributes: dict[str, Any] = {"color": color.lower()}
        if "sizes" in family:
            attributes["talles"] = sorted(
                rng.sample(family["sizes"], k=rng.randint(2, len(family["sizes"]))),
                key=lambda s: family["sizes"].index(s),
            )
        products.append(
            {
                "sku": f"{category[:3].upper()}-{serial:06d}",
                "name": name,
                "brand": brand,
                "category": category,
                "price": round(rng.uniform(low, high), -2) - 1,
                "currency": "ARS",
                "stock": 0 if rng.random() < 0.15 else rng.randint(1, 40),
                "popularity": rng.randint(0, 100),
                "installments": rng.choice(family["installments"]),
                "description": f"{name}. Garantía oficial.",
                "attributes": attributes,
            }
        )
    return products


def generate_catalog_bytes(count: int, seed: int = 7) -> bytes:
    return json.dumps({"products": generate_products(count, seed)}, ensure_ascii=False).encode()
