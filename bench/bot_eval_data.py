# ruff: noqa: E501  (tables of products and labelled messages read best one row per line)
"""The bot's evaluation set: a messy scraped-style catalog and labelled shopper messages.

    .venv/bin/python -m bench.bot_eval_data     # rewrites bench/data/bot_eval.json

Deterministic (fixed seed, no clock): the same file every run, so it can be committed and
reviewed. Products carry a hidden `type` (never imported) that the labels are written in:
a message lists the product types (and optional filters: price, size, colour, stock) that a
good seller would offer, and this script resolves them to the acceptable SKUs.

Written before any tuning of search or bot (issue #16); the split between tuning and
held-out items is by a hash of the item id, so nobody picks which half an item lands in.
The session-3 additions (`*_TUNE_S3`, two batches) go to the tuning half by hand and never to the held-out one.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "data" / "bot_eval.json"
SEED = 16

# (type, category spellings as scraped, name kinds, [(brand, model, price, extra attributes)])
# Name kinds are the shop's own words for the product: the eval's messages mostly avoid them.
_TYPES: list[tuple[str, list[str], list[str], list[tuple[str, str, int, dict[str, Any]]]]] = [
    ("zap_running", ["Calzado > Running", "Zapatillas", "RUNNING"], ["Zapatillas Running", "Zapatilla Running", "Zapatillas"], [
        ("Nike", "Pegasus 40", 189999, {}), ("Adidas", "Ultraboost Light", 249999, {}),
        ("Asics", "Gel-Nimbus 25", 239999, {}), ("Topper", "Strong Pace III", 59999, {}),
        ("Fila", "Racer Carbon", 84999, {}), ("Olympikus", "Corre 3", 109999, {}),
        ("Puma", "Velocity Nitro 2", 159999, {}), ("Mizuno", "Wave Rider 27", 199999, {}),
        ("New Balance", "Fresh Foam 880v13", 219999, {}), ("Saucony", "Ride 16", 179999, {}),
    ]),
    ("zap_urbanas", ["Calzado > Urbano", "Zapatillas", "Sneakers"], ["Zapatillas", "Zapatilla Urbana", "Zapatillas Urbanas"], [
        ("Nike", "Air Force 1 '07", 169999, {}), ("Adidas", "Campus 00s", 149999, {}),
        ("Vans", "Old Skool", 99999, {}), ("Converse", "Chuck Taylor All Star", 79999, {}),
        ("Puma", "Suede Classic XXI", 109999, {}), ("Reebok", "Club C 85", 119999, {}),
        ("DC Shoes", "Court Graffik", 89999, {}), ("Topper", "Tie Break III", 49999, {}),
        ("Nike", "Air Jordan 1 Mid", 229999, {}),
    ]),
    ("botines", ["Fútbol", "Calzado > Fútbol", "Deportes"], ["Botines", "Botín", "Botines Fútbol"], [
        ("Nike", "Phantom GX Academy FG", 129999, {}), ("Adidas", "Predator Club FxG", 89999, {}),
        ("Puma", "Future Play MG", 79999, {}), ("Umbro", "Velocita VI Club", 59999, {}),
        ("Adidas", "X Crazyfast.3 TF", 109999, {}), ("Nike", "Mercurial Vapor 15 Club TF", 99999, {}),
        ("Penalty", "Storm Society", 49999, {}),
    ]),
    ("remeras", ["Indumentaria > Remeras", "Remeras", "ROPA"], ["Remera", "Remera Manga Corta", "REMERA"], [
        ("Adidas", "Essentials 3 Tiras", 29999, {}), ("Nike", "Dri-FIT Legend", 34999, {}),
        ("Puma", "ESS Logo Tee", 24999, {}), ("Topper", "Basic Algodón", 14999, {}),
        ("Under Armour", "Tech 2.0", 39999, {}), ("Kappa", "Authentic Logo", 22999, {}),
    ]),
    ("camiseta_futbol", ["Fútbol", "Indumentaria > Fútbol"], ["Camiseta", "Camiseta Oficial"], [
        ("Adidas", "Selección Argentina Titular 2024", 119999, {}), ("Adidas", "Boca Juniors 24/25", 104999, {}),
        ("Adidas", "River Plate 24/25", 104999, {}), ("Puma", "Independiente 2024", 84999, {}),
    ]),
    ("buzos", ["Indumentaria > Buzos", "Buzos y Hoodies", "ROPA"], ["Buzo", "Buzo Canguro", "Buzo con Capucha"], [
        ("Nike", "Club Fleece", 79999, {}), ("Adidas", "Trefoil Essentials", 74999, {}),
        ("Champion", "Reverse Weave", 89999, {}), ("Topper", "Frisa Basic", 34999, {}),
        ("Puma", "ESS Big Logo", 59999, {}),
    ]),
    ("camperas", ["Indumentaria > Camperas", "Camperas", "Abrigo"], ["Campera", "Campera Puffer", "Campera Rompeviento"], [
        ("Montagne", "Puffer Nevis", 149999, {}), ("Adidas", "Rompeviento Tiro 24", 69999, {}),
        ("Levi's", "Trucker Jean", 129999, {}), ("The North Face", "Nuptse 1996", 399999, {}),
        ("Columbia", "Powder Lite", 189999, {}), ("Nike", "Windrunner", 99999, {}),
    ]),
    ("pantalones", ["Indumentaria > Pantalones", "Jeans y Pantalones"], ["Jean", "Pantalón", "Jogger"], [
        ("Levi's", "501 Original", 89999, {}), ("Wrangler", "Texas Regular", 69999, {}),
        ("Nike", "Sportswear Club Jogger", 64999, {}), ("Adidas", "Tiro 24 Pant", 59999, {}),
        ("Kosiuko", "Mom Fit Tiro Alto", 54999, {}),
    ]),
    ("celulares", ["Celulares", "Telefonía > Smartphones", "CELULARES LIBRES"], ["Celular", "Smartphone", ""], [
        ("Samsung", "Galaxy A15 128GB", 299999, {}), ("Samsung", "Galaxy A35 5G 256GB", 549999, {}),
        ("Samsung", "Galaxy S24 Ultra 512GB", 2199999, {}), ("Motorola", "Moto G24 128GB", 229999, {}),
        ("Motorola", "Moto G84 5G 256GB", 449999, {}), ("Motorola", "Edge 50 Fusion", 699999, {}),
        ("Xiaomi", "Redmi 13C 128GB", 199999, {}), ("Xiaomi", "Redmi Note 13 Pro 256GB", 599999, {}),
        ("Apple", "iPhone 13 128GB", 1199999, {}), ("Apple", "iPhone 15 Pro 256GB", 2499999, {}),
        ("TCL", "40 SE 128GB", 179999, {}), ("Nokia", "C32 64GB", 159999, {}),
    ]),
    ("auris_bt", ["Audio", "Audio > Auriculares", "AURICULARES"], ["Auriculares", "Auricular Inalámbrico", "Auriculares In-Ear TWS", "Headphones"], [
        ("JBL", "Tune 520BT", 69999, {}), ("Xiaomi", "Redmi Buds 4 Lite", 29999, {}),
        ("Sony", "WH-CH520", 79999, {}), ("Samsung", "Galaxy Buds FE", 119999, {}),
        ("Apple", "AirPods Pro 2da Gen", 399999, {}), ("Lenovo", "LP40 Pro TWS", 17999, {}),
        ("JBL", "Wave Buds 2", 59999, {}), ("Soundcore", "Life Q20i ANC", 99999, {}),
        ("Philips", "TAT1207 True Wireless", 34999, {}),
    ]),
    ("auris_cable", ["Audio", "Audio > Auriculares"], ["Auriculares con cable", "Auricular In-Ear", "Auriculares Vincha"], [
        ("Sony", "MDR-ZX110", 24999, {}), ("JBL", "Tune 110", 14999, {}), ("Philips", "TAUE101", 8999, {}),
        ("Xiaomi", "Mi In-Ear Basic", 11999, {}),
    ]),
    ("headset_gamer", ["Gaming > Periféricos", "Gaming", "Audio"], ["Auricular Gamer", "Headset Gamer"], [
        ("HyperX", "Cloud Stinger 2", 89999, {}), ("Redragon", "Zeus X H510 RGB", 74999, {}),
        ("Logitech", "G335", 99999, {}), ("Razer", "BlackShark V2 X", 109999, {}),
    ]),
    ("notebooks", ["Computación > Notebooks", "Notebooks", "COMPUTACION"], ["Notebook", "Notebook", "Laptop"], [
        ("Lenovo", "IdeaPad 3 15\" Core i5 8GB 512GB SSD", 899999, {}), ("Asus", "Vivobook 15 Ryzen 5 16GB 512GB", 999999, {}),
        ("HP", "250 G9 Core i3 8GB 256GB", 649999, {}), ("Apple", "MacBook Air M2 13\" 256GB", 1899999, {}),
        ("Dell", "Inspiron 3520 Core i7 16GB", 1299999, {}), ("Acer", "Aspire 3 Ryzen 3 8GB", 599999, {}),
        ("Lenovo", "Legion 5 RTX 4060 16GB", 2399999, {}), ("Exo", "Smart T38 Celeron 4GB", 349999, {}),
    ]),
    ("tablets", ["Computación > Tablets", "Tablets"], ["Tablet", "Tablet"], [
        ("Samsung", "Galaxy Tab A9 64GB", 249999, {}), ("Apple", "iPad 10ma Gen 64GB", 899999, {}),
        ("Lenovo", "Tab M10 3ra Gen", 219999, {}), ("Xiaomi", "Redmi Pad SE", 299999, {}),
    ]),
    ("smartwatch", ["Wearables", "Relojes Inteligentes", "Tecnología > Wearables"], ["Smartwatch", "Reloj Smartwatch", "Smart Band"], [
        ("Xiaomi", "Redmi Watch 4", 119999, {}), ("Amazfit", "Bip 5", 99999, {}),
        ("Samsung", "Galaxy Watch6 40mm", 349999, {}), ("Apple", "Watch SE 2da Gen 40mm", 449999, {}),
        ("Xiaomi", "Smart Band 8", 49999, {}), ("Huawei", "Band 9", 59999, {}),
    ]),
    ("consolas", ["Gaming > Consolas", "Consolas", "VIDEOJUEGOS"], ["Consola", "Consola"], [
        ("Sony", "PlayStation 5 Slim 1TB", 999999, {}), ("Sony", "PlayStation 5 Digital Edition", 899999, {}),
        ("Nintendo", "Switch OLED 64GB", 649999, {}), ("Microsoft", "Xbox Series S 512GB", 599999, {}),
        ("Microsoft", "Xbox Series X 1TB", 999999, {}), ("Sony", "PlayStation 4 Slim 1TB Reacondicionada", 449999, {}),
    ]),
    ("joysticks", ["Gaming > Accesorios", "Gaming", "VIDEOJUEGOS"], ["Joystick", "Control Inalámbrico", "Joystick"], [
        ("Sony", "DualSense PS5", 109999, {}), ("Sony", "DualShock 4 PS4", 79999, {}),
        ("Microsoft", "Xbox Wireless Controller", 99999, {}), ("Nintendo", "Switch Pro Controller", 119999, {}),
        ("Redragon", "Harrow G808 PC", 34999, {}), ("8BitDo", "Ultimate 2.4G", 64999, {}),
    ]),
    ("juegos", ["Gaming > Juegos", "Videojuegos"], ["Juego", "Juego Físico"], [
        ("EA Sports", "FC 24 PS5", 89999, {}), ("Sony", "God of War Ragnarök PS4", 59999, {}),
        ("Nintendo", "Mario Kart 8 Deluxe Switch", 99999, {}), ("Sony", "Spider-Man 2 PS5", 109999, {}),
        ("Sony", "Gran Turismo 7 PS5", 79999, {}), ("Nintendo", "Zelda Tears of the Kingdom", 109999, {}),
        ("Rockstar", "GTA V Premium PS4", 49999, {}), ("Ubisoft", "Just Dance 2024 Switch", 69999, {}),
    ]),
    ("televisores", ["TV y Video", "Televisores", "TV"], ["Smart TV", "TV LED", "Smart TV"], [
        ("Samsung", "55\" Crystal UHD 4K CU7000", 799999, {}), ("Philips", "43\" Full HD 43PFD6918", 399999, {}),
        ("TCL", "65\" QLED C645 Google TV", 1199999, {}), ("Noblex", "32\" HD DK32X5000", 249999, {}),
        ("LG", "50\" UHD 4K ThinQ AI", 699999, {}), ("BGH", "40\" Full HD Android", 329999, {}),
        ("Samsung", "75\" Neo QLED QN85C", 2999999, {}),
    ]),
    ("parlantes", ["Audio > Parlantes", "Audio", "PARLANTES"], ["Parlante Portátil", "Parlante", "Torre de Sonido"], [
        ("JBL", "Flip 6", 189999, {}), ("Sony", "SRS-XB100", 69999, {}), ("Noblex", "MNT390", 249999, {}),
        ("Xiaomi", "Mi Portable Speaker 16W", 49999, {}), ("JBL", "Go 3", 59999, {}), ("JBL", "PartyBox 110", 599999, {}),
    ]),
    ("heladeras", ["Electrodomésticos > Heladeras", "Heladeras", "LINEA BLANCA"], ["Heladera", "Heladera No Frost", "Heladera con Freezer"], [
        ("Samsung", "RT38 No Frost 382L Inverter", 1299999, {}), ("Gafa", "HGF358AFB 282L", 699999, {}),
        ("Patrick", "HPK135 Cíclica 277L", 599999, {}), ("Whirlpool", "WRM45 No Frost 375L", 1099999, {}),
        ("Drean", "HDR280F11 Cíclica", 649999, {}),
    ]),
    ("lavarropas", ["Electrodomésticos > Lavado", "Lavarropas", "LINEA BLANCA"], ["Lavarropas Automático", "Lavarropas Carga Frontal", "Lavarropas"], [
        ("Drean", "Next 8.14 Eco 8kg", 699999, {}), ("Samsung", "WW90 9kg Inverter", 999999, {}),
        ("Whirlpool", "WNQ86AB 8kg", 749999, {}), ("Gafa", "Semiautomático Family 7kg", 249999, {}),
        ("Longvie", "L8014 Carga Frontal", 679999, {}),
    ]),
    ("microondas", ["Electrodomésticos > Cocina", "Microondas", "PEQUEÑOS ELECTRO"], ["Microondas", "Horno Microondas"], [
        ("BGH", "Quick Chef B120M 20L", 149999, {}), ("Samsung", "MG23 23L con Grill", 229999, {}),
        ("Atma", "MD1720N 20L", 119999, {}), ("Philco", "MPH20D 20L Digital", 129999, {}),
    ]),
    ("freidoras", ["Pequeños Electrodomésticos", "Cocina", "PEQUEÑOS ELECTRO"], ["Freidora de Aire", "Freidora sin Aceite", "Air Fryer"], [
        ("Philips", "Airfryer Essential HD9252", 179999, {}), ("Atma", "FR5020E 5L", 89999, {}),
        ("Liliana", "AF910 Airfry 5L", 99999, {}), ("Ultracomb", "FR-4300 3.5L", 69999, {}),
        ("Peabody", "PE-AF9D Digital 9L", 149999, {}),
    ]),
    ("cafeteras", ["Pequeños Electrodomésticos", "Cocina > Café", "PEQUEÑOS ELECTRO"], ["Cafetera Express", "Cafetera", "Cafetera de Cápsulas"], [
        ("Peabody", "CE4611 Express 20 bar", 169999, {}), ("Nespresso", "Essenza Mini", 199999, {}),
        ("Atma", "CA2180 Filtro 1.2L", 49999, {}), ("Dolce Gusto", "Genio S Plus", 229999, {}),
        ("Oster", "BVSTEM3299 Express", 189999, {}),
    ]),
    ("pavas", ["Pequeños Electrodomésticos", "Cocina"], ["Pava Eléctrica", "Pava Eléctrica"], [
        ("Smartlife", "SL-EK1714 1.7L", 34999, {}), ("Atma", "PE5014 Corte Mate", 39999, {}),
        ("Philips", "HD9350 Acero", 59999, {}), ("Liliana", "AP950 Matecito", 29999, {}),
    ]),
    ("aspiradoras", ["Electrodomésticos > Limpieza", "Limpieza", "Hogar"], ["Aspiradora", "Aspiradora Robot", "Aspiradora de Mano"], [
        ("Xiaomi", "Robot Vacuum E10", 349999, {}), ("Philips", "PowerPro FC9352", 189999, {}),
        ("Black+Decker", "Dustbuster HNVC220", 79999, {}), ("Electrolux", "Ergorapido 2 en 1", 249999, {}),
    ]),
    ("climatizacion", ["Climatización", "Aire Acondicionado", "Hogar > Clima"], ["Aire Acondicionado Split", "Ventilador de Pie", "Caloventor"], [
        ("BGH", "Split 3000 Frigorías Frío/Calor", 899999, {"k": "aire"}), ("Surrey", "Split Inverter 4500 F/C", 1299999, {"k": "aire"}),
        ("Liliana", "VPRT20 20\"", 69999, {"k": "ventilador"}), ("Atma", "VP1830 18\"", 54999, {"k": "ventilador"}),
        ("Liliana", "CFH540 2000W", 44999, {"k": "calefaccion"}), ("Peabody", "PE-CV20 Caloventor", 39999, {"k": "calefaccion"}),
    ]),
    ("mochilas", ["Accesorios > Mochilas", "Mochilas", "Accesorios"], ["Mochila", "Mochila Urbana", "Mochila Porta Notebook"], [
        ("Jansport", "SuperBreak Plus", 69999, {}), ("Targus", "Classic 15.6\"", 49999, {}),
        ("Nike", "Heritage 25L", 44999, {}), ("Samsonite", "Guardit 2.0 15.6\"", 149999, {}),
        ("Head", "Urban Pro 20L", 34999, {}),
    ]),
    ("termos", ["Matería", "Hogar > Matería", "Bazar"], ["Termo", "Termo Acero Inoxidable", "Set Matero"], [
        ("Stanley", "Classic 1L", 119999, {}), ("Lumilagro", "Luminox 1L", 39999, {}),
        ("Stanley", "Mate System Set", 89999, {}), ("Contigo", "Acero 1.2L", 49999, {}),
        ("Waterdog", "Acero 1L Pico Cebador", 44999, {}),
    ]),
    ("sillas", ["Muebles > Oficina", "Gaming > Sillas", "Sillas"], ["Silla Gamer", "Silla de Escritorio", "Silla Ergonómica"], [
        ("Corsair", "T3 Rush", 399999, {}), ("Noga", "Pro NG-X", 199999, {}), ("Redragon", "Coeus C201", 249999, {}),
        ("Ofimax", "Ejecutiva Mesh", 149999, {}),
    ]),
    ("monitores", ["Computación > Monitores", "Monitores"], ["Monitor", "Monitor LED", "Monitor Gamer"], [
        ("Samsung", "24\" Curvo C24F390", 229999, {}), ("LG", "UltraGear 27\" 144Hz", 399999, {}),
        ("Philips", "22\" 221V8 Full HD", 149999, {}), ("AOC", "24G2 24\" 144Hz IPS", 299999, {}),
    ]),
    ("perifericos", ["Computación > Periféricos", "Periféricos", "COMPUTACION"], ["Mouse", "Teclado Mecánico", "Combo Teclado y Mouse", "Mouse Gamer"], [
        ("Logitech", "G203 Lightsync", 29999, {"k": "mouse"}), ("Logitech", "M170 Inalámbrico", 14999, {"k": "mouse"}),
        ("Redragon", "Kumara K552 RGB", 49999, {"k": "teclado"}), ("Logitech", "MK270 Inalámbrico", 39999, {"k": "combo"}),
        ("HyperX", "Alloy Origins Core", 109999, {"k": "teclado"}), ("Genius", "DX-110 USB", 7999, {"k": "mouse"}),
    ]),
    ("impresoras", ["Computación > Impresión", "Impresoras"], ["Impresora Multifunción", "Impresora", "Impresora Láser"], [
        ("Epson", "EcoTank L3250 WiFi", 349999, {}), ("HP", "DeskJet Ink Advantage 2775", 149999, {}),
        ("Brother", "HL-1200 Láser", 229999, {}), ("Canon", "Pixma G3110", 299999, {}),
    ]),
    ("accesorios_cel", ["Accesorios > Celulares", "Accesorios", "Telefonía > Accesorios"], ["Cargador", "Funda", "Power Bank", "Cable"], [
        ("Samsung", "Cargador 25W USB-C", 29999, {"k": "cargador"}), ("Apple", "Cargador 20W USB-C", 49999, {"k": "cargador"}),
        ("Xiaomi", "Power Bank 10000mAh 22.5W", 39999, {"k": "powerbank"}), ("Generica", "Funda Silicona iPhone 13", 9999, {"k": "funda"}),
        ("Spigen", "Funda Tough Armor Galaxy A35", 24999, {"k": "funda"}), ("Baseus", "Cable USB-C a Lightning 1m", 12999, {"k": "cable"}),
        ("Anker", "PowerCore 20000mAh", 59999, {"k": "powerbank"}),
    ]),
]  # fmt: skip

_APPAREL = {"zap_running", "zap_urbanas", "botines", "remeras", "camiseta_futbol", "buzos", "camperas", "pantalones"}
_SHOE = {"zap_running", "zap_urbanas", "botines"}
_COLOURS = ["Negro", "Blanco", "Azul", "Gris", "Rojo", "Verde"]
_NOISE = ["", "", "", " NUEVO", " - Envío Gratis", " ORIGINAL", " (Importado)", " !!", " | Oferta", " 12 cuotas"]
# Products that are out of stock on purpose: the honesty items ask for them by name.
OUT_OF_STOCK_MODELS = {
    "PlayStation 5 Digital Edition", "Galaxy S24 Ultra 512GB", "AirPods Pro 2da Gen", "Nuptse 1996",
    "Air Jordan 1 Mid", "Essenza Mini", "Flip 6", "Robot Vacuum E10", "Legion 5 RTX 4060 16GB", "Watch SE 2da Gen 40mm",
}  # fmt: skip


# Products some labels name: when all their listings happened to be out of stock, the item could not be labelled.
ALWAYS_IN_STOCK = {"Selección Argentina Titular 2024", "iPad 10ma Gen 64GB", "Moto G84 5G 256GB"}


def generate_catalog() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    products: list[dict[str, Any]] = []
    for type_name, categories, kinds, models in _TYPES:
        for number, (brand, model, price, extra) in enumerate(models):
            colours = [None]
            if type_name in _APPAREL:
                # Clothes come in colours: one listing per colour, as scraped shops do.
                colours = rng.sample(_COLOURS, rng.choice([1, 2, 3]))
            elif rng.random() < 0.3:
                colours = rng.sample(_COLOURS[:3], 2)  # "Negro" and "Blanco" listings of one phone
            for colour in colours:
                kind = kinds[number % len(kinds)] if "k" not in extra else _kind_for(extra["k"], kinds)
                name = _messy_name(rng, kind, brand, model, colour)
                attributes: dict[str, Any] = {}
                if type_name in _SHOE:
                    first = rng.choice([35, 36, 38, 39])
                    attributes["talles"] = [str(s) for s in range(first, first + rng.choice([5, 6, 7]))]
                elif type_name in _APPAREL:
                    attributes["talles"] = rng.sample(["S", "M", "L", "XL", "XXL"], rng.choice([3, 4, 5]))
                    attributes["talles"].sort(key=["S", "M", "L", "XL", "XXL"].index)
                if colour:
                    attributes["color"] = colour.lower() if rng.random() < 0.5 else colour
                stock = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40]) if rng.random() < 0.35 else rng.randint(3, 30)
                if rng.random() < 0.12:
                    stock = 0
                if model in OUT_OF_STOCK_MODELS:
                    stock = 0
                elif stock == 0 and model in ALWAYS_IN_STOCK:
                    stock = 4
                sku = f"{type_name[:3].upper()}-{_slug(brand)[:3]}-{len(products) + 1:04d}"
                products.append(
                    {
                        "sku": sku,
                        "name": name,
                        "brand": brand if rng.random() < 0.85 else None,
                        "category": rng.choice(categories) if rng.random() < 0.93 else None,
                        "price": float(price + rng.choice([0, 0, 0, 1000, -2000, 5000]) if colour else price),
                        "currency": "ARS",
                        "stock": stock,
                        "popularity": rng.randint(1, 100),
                        "installments": rng.choice([None, 3, 6, 12]),
                        "attributes": attributes,
                        "type": type_name if "k" not in extra else f"{type_name}:{extra['k']}",
                    }
                )
    return products


def _kind_for(key: str, kinds: list[str]) -> str:
    wanted = {
        "aire": "Aire Acondicionado Split", "ventilador": "Ventilador de Pie", "calefaccion": "Caloventor",
        "mouse": "Mouse", "teclado": "Teclado Mecánico", "combo": "Combo Teclado y Mouse",
        "cargador": "Cargador", "funda": "Funda", "powerbank": "Power Bank", "cable": "Cable",
    }  # fmt: skip
    kind = wanted[key]
    # "Cargador 25W" already says what it is: do not repeat the kind.
    return kind if kind in kinds else ""


def _messy_name(rng: random.Random, kind: str, brand: str, model: str, colour: str | None) -> str:
    if kind and model.lower().startswith(kind.lower().split()[0]):
        kind = ""
    shape = rng.random()
    if shape < 0.55:
        name = f"{kind} {brand} {model}"
    elif shape < 0.75:
        name = f"{brand.upper()} {model} - {kind}" if kind else f"{brand.upper()} {model}"
    elif shape < 0.9:
        name = f"{kind} {model} {brand}"
    else:
        name = f"{kind.upper()} {brand.upper()} {model.upper()}"
    if colour:
        name += rng.choice([f" {colour}", f" - {colour}", f" Color {colour}"])
    name += rng.choice(_NOISE)
    return " ".join(name.replace(" - ", " - ").split()).strip(" -")


def _slug(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum()) or "GEN"


# ---- the labelled messages ----------------------------------------------------------------------
# Product messages: (id, text, accept) where accept names types, and optional filters:
# max/min price, size, colour, "cheapest": n (the n cheapest in stock of those types).
# Written as shoppers write: slang, typos, no accents, words the catalog does not use.
PRODUCT_ITEMS: list[tuple[str, str, dict[str, Any]]] = [
    ("p01", "hola! tenes auris sin cable?", {"types": ["auris_bt"]}),
    ("p02", "busco algo para escuchar musica en el bondi sin cables", {"types": ["auris_bt"]}),
    ("p03", "necesito una compu para laburar desde casa", {"types": ["notebooks"]}),
    ("p04", "tenes alguna laptop?", {"types": ["notebooks"]}),
    ("p05", "quiero unas zapas para salir a trotar", {"types": ["zap_running"]}),
    ("p06", "zapatillas para correr", {"types": ["zap_running"]}),
    ("p07", "tenes botines para jugar al futbol 5?", {"types": ["botines"]}),
    ("p08", "busco unos chimpunes", {"types": ["botines"]}),
    ("p09", "un celu que no sea muy caro", {"types": ["celulares"], "cheapest": 5}),
    ("p10", "necesito un telefono nuevo", {"types": ["celulares"]}),
    ("p11", "tenes iphone?", {"types": ["celulares"], "brand": "Apple"}),
    ("p12", "el control de la play 5", {"types": ["joysticks"], "name_has": "PS5"}),
    ("p13", "un joystick para la compu", {"types": ["joysticks"]}),
    ("p14", "tenes la play?", {"types": ["consolas"], "name_has": "PlayStation"}),
    ("p15", "busco una consola para los chicos", {"types": ["consolas"]}),
    ("p16", "tele de 55 pulgadas", {"types": ["televisores"], "name_has": "55"}),
    ("p17", "un televisor grande para ver el mundial", {"types": ["televisores"], "min_price": 600000}),
    ("p18", "tenes smart tv?", {"types": ["televisores"]}),
    ("p19", "parlante bluetooth para llevar a la playa", {"types": ["parlantes"]}),
    ("p20", "un equipo de musica para fiestas", {"types": ["parlantes"]}),
    ("p21", "heladera", {"types": ["heladeras"]}),
    ("p22", "necesito una heladera no frost", {"types": ["heladeras"], "name_has": "No Frost"}),
    ("p23", "busco un lavarropas", {"types": ["lavarropas"]}),
    ("p24", "lavarropa automatico de 8 kilos", {"types": ["lavarropas"], "name_has": "8kg"}),
    ("p25", "microondas", {"types": ["microondas"]}),
    ("p26", "una freidora sin aceite", {"types": ["freidoras"]}),
    ("p27", "la airfrayer esa que esta de moda", {"types": ["freidoras"]}),
    ("p28", "algo para hacerme un cafe a la mañana", {"types": ["cafeteras"]}),
    ("p29", "tenes maquina de cafe de capsulas?", {"types": ["cafeteras"]}),
    ("p30", "una pava electrica para el mate", {"types": ["pavas"]}),
    ("p31", "calentador de agua electrico", {"types": ["pavas"]}),
    ("p32", "aspiradora", {"types": ["aspiradoras"]}),
    ("p33", "un robot que aspire solo", {"types": ["aspiradoras"]}),
    ("p34", "aire acondicionado frio calor", {"types": ["climatizacion:aire"]}),
    ("p35", "ventilador para el verano", {"types": ["climatizacion:ventilador"]}),
    ("p36", "algo para calefaccionar el cuarto", {"types": ["climatizacion:calefaccion", "climatizacion:aire"]}),
    ("p37", "mochila para la facu", {"types": ["mochilas"]}),
    ("p38", "mochila para llevar la notebook", {"types": ["mochilas"]}),
    ("p39", "termo para el mate", {"types": ["termos"]}),
    ("p40", "tenes stanley?", {"types": ["termos"], "brand": "Stanley"}),
    ("p41", "una silla para jugar a la compu", {"types": ["sillas"]}),
    ("p42", "silla de oficina comoda", {"types": ["sillas"]}),
    ("p43", "monitor para la pc", {"types": ["monitores"]}),
    ("p44", "pantalla de 27 para gaming", {"types": ["monitores"], "name_has": "27"}),
    ("p45", "un mouse inalambrico", {"types": ["perifericos:mouse", "perifericos:combo"]}),
    ("p46", "teclado mecanico", {"types": ["perifericos:teclado"]}),
    ("p47", "impresora para imprimir los tps", {"types": ["impresoras"]}),
    ("p48", "impresora con tanque de tinta", {"types": ["impresoras"]}),
    ("p49", "cargador rapido para samsung", {"types": ["accesorios_cel:cargador"]}),
    ("p50", "bateria portatil para el celu", {"types": ["accesorios_cel:powerbank"]}),
    ("p51", "fundita para el iphone 13", {"types": ["accesorios_cel:funda"]}),
    ("p52", "reloj inteligente", {"types": ["smartwatch"]}),
    ("p53", "una pulsera que cuente los pasos", {"types": ["smartwatch"]}),
    ("p54", "tablet para que los nenes vean dibujitos", {"types": ["tablets"]}),
    ("p55", "ipad", {"types": ["tablets"], "brand": "Apple"}),
    ("p56", "remera deportiva", {"types": ["remeras"]}),
    ("p57", "una remera negra talle L", {"types": ["remeras"], "colour": "negro", "size": "L"}),
    ("p58", "buzo con capucha", {"types": ["buzos"]}),
    ("p59", "un canguro nike", {"types": ["buzos"], "brand": "Nike"}),
    ("p60", "campera para el frio", {"types": ["camperas"]}),
    ("p61", "camperon inflable", {"types": ["camperas"], "name_has": "Puffer"}),
    ("p62", "un jean levis", {"types": ["pantalones", "camperas"], "brand": "Levi's"}),
    ("p63", "pantalon jogging", {"types": ["pantalones"]}),
    ("p64", "la camiseta de la seleccion", {"types": ["camiseta_futbol"], "name_has": "Argentina"}),
    ("p65", "camiseta de boca", {"types": ["camiseta_futbol"], "name_has": "Boca"}),
    ("p66", "zapatillas urbanas blancas", {"types": ["zap_urbanas"], "colour": "blanco"}),
    ("p67", "unas vans", {"types": ["zap_urbanas"], "brand": "Vans"}),
    ("p68", "zapas para todos los dias", {"types": ["zap_urbanas", "zap_running"]}),
    ("p69", "zapas running talle 42", {"types": ["zap_running"], "size": "42"}),
    ("p70", "auriculares bluetooth baratos", {"types": ["auris_bt"], "cheapest": 3}),
    ("p71", "auris inalambricos hasta 40 mil", {"types": ["auris_bt"], "max_price": 40000}),
    ("p72", "celular hasta 300 mil", {"types": ["celulares"], "max_price": 300000}),
    ("p73", "notebook entre 500 y 700 lucas", {"types": ["notebooks"], "min_price": 500000, "max_price": 700000}),
    ("p74", "el celu mas barato que tengas", {"types": ["celulares"], "cheapest": 2}),
    ("p75", "tele menos de 400.000", {"types": ["televisores"], "max_price": 400000}),
    ("p76", "la mejor notebook que tengas", {"types": ["notebooks"], "min_price": 999999}),
    ("p77", "auriculares premium con cancelacion de ruido", {"types": ["auris_bt"], "min_price": 99999}),
    ("p78", "zapatillas economicas", {"types": ["zap_running", "zap_urbanas"], "cheapest": 4}),
    ("p79", "headset para jugar online", {"types": ["headset_gamer"]}),
    ("p80", "auriculares gamer con microfono", {"types": ["headset_gamer"]}),
    ("p81", "juego de futbol para la ps5", {"types": ["juegos"], "name_has": "FC 24"}),
    ("p82", "el god of war", {"types": ["juegos"], "name_has": "God of War"}),
    ("p83", "nintendo switch", {"types": ["consolas", "joysticks", "juegos"], "name_has": "Switch"}),
    ("p84", "xbox", {"types": ["consolas", "joysticks"], "name_has": "Xbox"}),
    ("p85", "samsung galaxy a35", {"types": ["celulares"], "name_has": "A35"}),
    ("p86", "motorola g84", {"types": ["celulares"], "name_has": "G84"}),
    ("p87", "jbl go 3", {"types": ["parlantes"], "name_has": "Go 3"}),
    ("p88", "buds", {"types": ["auris_bt"], "name_has": "Buds"}),
    ("p89", "una cafetera express", {"types": ["cafeteras"], "name_has": "Express"}),
    ("p90", "aspiradora de mano", {"types": ["aspiradoras"]}),
    ("p91", "un airfryer grande", {"types": ["freidoras"]}),
    ("p92", "tenes algo para el gym? zapas o remeras", {"types": ["zap_running", "remeras"]}),
    ("p93", "regalo para mi viejo que le gusta el mate", {"types": ["termos", "pavas"]}),
    ("p94", "busco un smartphone de 256 gigas", {"types": ["celulares"], "name_has": "256"}),
    ("p95", "tenes compu gamer?", {"types": ["notebooks"], "min_price": 999999}),
    ("p96", "zapatillas nike", {"types": ["zap_running", "zap_urbanas"], "brand": "Nike"}),
    ("p97", "algo de adidas", {"types": ["zap_running", "zap_urbanas", "botines", "remeras", "camiseta_futbol", "buzos", "camperas", "pantalones"], "brand": "Adidas"}),
    ("p98", "tablet samsung", {"types": ["tablets"], "brand": "Samsung"}),
]  # fmt: skip

# Things this store does not sell: the right answer offers nothing and says so (categories or a person).
NOT_SOLD: list[tuple[str, str]] = [
    ("n01", "vendes bicicletas?"), ("n02", "tenes cubiertas para el auto?"), ("n03", "alimento balanceado para perro"),
    ("n04", "pañales talle G"), ("n05", "una cortadora de pasto"), ("n06", "tenes guitarras criollas?"),
    ("n07", "busco libros de la facu"), ("n08", "anteojos de sol"), ("n09", "un colchon de dos plazas"),
    ("n10", "pintura latex blanca"), ("n11", "taladro percutor"), ("n12", "repuestos para la moto"),
    ("n13", "ibuprofeno"), ("n14", "vino malbec"), ("n15", "una carpa para 4 personas"),
    ("n16", "caña de pescar"), ("n17", "base de maquillaje"), ("n18", "un sillon de living"),
    ("n19", "cochecito para bebe"), ("n20", "pelota de futbol numero 5"), ("n21", "patines en linea"),
    ("n22", "perfume de mujer"), ("n23", "cortinas blackout"), ("n24", "funda para el sillon"),
]  # fmt: skip

# Added in session 3, after the first report, to the TUNE half only (never held out): more
# things the store does not sell, written to tempt partial matching (a word of the catalog used
# for something else, a prefix, a synonym, a feature of a product), and in-catalog look-alikes
# so a fix cannot buy fewer false offers with dead ends.
NOT_SOLD_TUNE_S3: list[tuple[str, str]] = [
    ("t3n01", "tenés lavavajillas?"), ("t3n02", "arreglan celulares? se me rompió la pantalla"),
    ("t3n03", "una gift card para regalarle a mi hermana"), ("t3n04", "tarjeta de memoria micro sd de 128"),
    ("t3n05", "tenés algo para el auto?"), ("t3n06", "un casco para la moto"),
    ("t3n07", "hacen carga virtual para el celu?"), ("t3n08", "un escritorio para poner la compu"),
    ("t3n09", "tenés cápsulas para la dolce gusto?"), ("t3n10", "un robot de cocina"),
    ("t3n11", "aceite de oliva"), ("t3n12", "una planchita para el pelo"),
    ("t3n13", "cartuchos de tinta para la epson"), ("t3n14", "un chip de personal"),
    ("t3n15", "vidrio templado para el a15"), ("t3n16", "una licuadora"),
    ("t3n17", "ojotas para la playa"), ("t3n18", "un inflador para la bici"),
    ("t3n19", "zapatos de vestir para un casamiento"), ("t3n20", "una pizza de muzza grande"),
    ("t3n21", "tenés carga virtual?"), ("t3n22", "una parrilla eléctrica"),
    # Session 3, second batch (before the fix): a compound whose second word the catalog lacks
    # names another thing; an es-AR word a synonym list got from elsewhere; an accessory for a
    # device the store's accessories are not for.
    ("t3n23", "tenés silla de ruedas? es para mi abuelo"), ("t3n24", "busco un reloj de pared para el living"),
    ("t3n25", "tenés juegos de mesa? tipo el estanciero"), ("t3n26", "un juego de sábanas de 2 plazas"),
    ("t3n27", "tenés ropa de cama?"), ("t3n28", "un control remoto para la tele"),
    ("t3n29", "un monitor de presión arterial para mi viejo"), ("t3n30", "tenés tacos para ir a una fiesta?"),
    ("t3n31", "una funda para la notebook de 15"), ("t3n32", "un cargador para la notebook"),
    ("t3n33", "zapatillas de ballet para mi hija"), ("t3n34", "un reloj despertador"),
    ("t3n35", "un juego de living"), ("t3n36", "funda para la tablet"),
]  # fmt: skip
PRODUCT_ITEMS_TUNE_S3: list[tuple[str, str, dict[str, Any]]] = [
    ("t3p01", "cargador para el iphone", {"types": ["accesorios_cel:cargador"]}),
    ("t3p02", "silla para el escritorio", {"types": ["sillas"]}),
    ("t3p03", "lavarropas de carga frontal", {"types": ["lavarropas"], "name_has": "Carga Frontal"}),
    ("t3p04", "una freidora que no use aceite", {"types": ["freidoras"]}),
    ("t3p05", "la funda del a35", {"types": ["accesorios_cel:funda"], "name_has": "A35"}),
    ("t3p06", "zapatilas para trotar en la plaza", {"types": ["zap_running"]}),
    ("t3p07", "un motorola para mi vieja", {"types": ["celulares"], "brand": "Motorola"}),
    ("t3p08", "cafetera para capsulas", {"types": ["cafeteras"]}),
    ("t3p09", "una heladera para el quincho", {"types": ["heladeras"]}),
    ("t3p10", "auriculares con cable", {"types": ["auris_cable"]}),
    ("t3p11", "microondas con grill", {"types": ["microondas"], "name_has": "Grill"}),
    ("t3p12", "una aspiradora robot", {"types": ["aspiradoras"]}),
    # Session 3, second batch (before the fix): look-alikes of the compounds and accessories below.
    ("t3p13", "zapatillas de mujer para correr", {"types": ["zap_running"]}),
    ("t3p14", "una remera de algodón", {"types": ["remeras"]}),
    ("t3p15", "buzo de frisa", {"types": ["buzos"]}),
    ("t3p16", "un reloj para salir a correr", {"types": ["smartwatch"]}),
    ("t3p17", "un juego de la play 5", {"types": ["juegos"]}),
    ("t3p18", "cargador para el celu", {"types": ["accesorios_cel:cargador"]}),
    ("t3p19", "silla de oficina", {"types": ["sillas"]}),
    ("t3p20", "termo de acero", {"types": ["termos"]}),
    ("t3p21", "zapatillas de nene", {"types": ["zap_running", "zap_urbanas"]}),
    ("t3p22", "botines de fútbol 5", {"types": ["botines"]}),
    ("t3p23", "una funda para el celu", {"types": ["accesorios_cel:funda"]}),
    ("t3p24", "control de la play", {"types": ["joysticks"]}),
    ("t3p25", "parlante portátil", {"types": ["parlantes"]}),
    ("t3p26", "auriculares de vincha", {"types": ["auris_cable"], "name_has": "Vincha"}),
    ("t3p27", "una campera de hombre", {"types": ["camperas"]}),
    ("t3p28", "un celu de gama media", {"types": ["celulares"]}),
    ("t3p29", "heladera de dos puertas", {"types": ["heladeras"]}),
]  # fmt: skip

# Store facts: with an empty profile the only honest answer is "un vendedor te confirma".
STORE_FACTS: list[tuple[str, str, str]] = [
    ("s01", "hacen envios a cordoba?", "shipping"), ("s02", "cuanto sale el envio a rosario?", "shipping"),
    ("s03", "aceptan mercado pago?", "payment"), ("s04", "puedo pagar con transferencia?", "payment"),
    ("s05", "donde queda el local?", "address"), ("s06", "cual es la direccion?", "address"),
    ("s07", "hasta que hora estan abiertos?", "hours"), ("s08", "abren los sabados?", "hours"),
    ("s09", "puedo pasar a retirar?", "pickup"), ("s10", "tienen retiro en sucursal?", "pickup"),
    ("s11", "si no me va el talle lo puedo cambiar?", "returns"), ("s12", "tienen devolucion?", "returns"),
    ("s13", "hay cuotas sin interes?", "installments"), ("s14", "dan factura A?", "faq"),
]  # fmt: skip

# Out-of-stock products asked by name: say it plainly, never offer it, in-stock alternatives follow.
OUT_OF_STOCK_ITEMS: list[tuple[str, str, str]] = [
    ("o01", "tenes la ps5 digital?", "PlayStation 5 Digital Edition"), ("o02", "galaxy s24 ultra", "Galaxy S24 Ultra 512GB"),
    ("o03", "los airpods pro", "AirPods Pro 2da Gen"), ("o04", "la north face nuptse", "Nuptse 1996"),
    ("o05", "jordan 1", "Air Jordan 1 Mid"), ("o06", "nespresso essenza", "Essenza Mini"),
    ("o07", "jbl flip 6", "Flip 6"), ("o08", "el robot xiaomi e10", "Robot Vacuum E10"),
    ("o09", "lenovo legion", "Legion 5 RTX 4060 16GB"), ("o10", "apple watch se", "Watch SE 2da Gen 40mm"),
]  # fmt: skip

# Conversations: earlier turns, then the last message and what a good seller does with it.
# expect: offers (top-3 acceptable, like a first message), about_offered (the k-th option of the
# previous turn), installments (answers cuotas of the product under discussion), more (new
# acceptable products, none shown before), cheaper (products cheaper than the one discussed),
# hot (the lead becomes HOT / a seller is called in), human (hand-off to a person).
MULTI_TURN: list[tuple[str, list[str], dict[str, Any]]] = [
    ("m01", ["hola", "busco auris sin cable"], {"expect": "offers", "types": ["auris_bt"]}),
    ("m02", ["buenas!", "tenes zapas para correr?", "y en negro?"], {"expect": "offers", "types": ["zap_running"], "colour": "negro"}),
    ("m03", ["zapatillas urbanas", "talle 40?"], {"expect": "offers", "types": ["zap_urbanas"], "size": "40"}),
    ("m04", ["un celu samsung", "la segunda"], {"expect": "about_offered", "k": 1}),
    ("m05", ["necesito una compu", "la primera", "cuantas cuotas?"], {"expect": "installments"}),
    ("m06", ["heladeras", "mostrame mas"], {"expect": "more", "types": ["heladeras"]}),
    ("m07", ["un televisor", "mas barato"], {"expect": "cheaper", "types": ["televisores"]}),
    ("m08", ["freidora de aire", "la primera", "me la llevo"], {"expect": "hot"}),
    ("m09", ["termo stanley", "lo compro"], {"expect": "hot"}),
    ("m10", ["mochila", "la ultima", "te lo transfiero ahora"], {"expect": "hot"}),
    ("m11", ["quiero hablar con una persona"], {"expect": "human"}),
    ("m12", ["busco un parlante", "la tercera", "y la otra?"], {"expect": "about_offered_other"}),
    ("m13", ["remeras", "en talle XL?"], {"expect": "offers", "types": ["remeras"], "size": "XL"}),
    ("m14", ["buzos", "y en gris?"], {"expect": "offers", "types": ["buzos"], "colour": "gris"}),
    ("m15", ["auriculares", "mostrame mas"], {"expect": "more", "types": ["auris_bt", "auris_cable", "headset_gamer"]}),
    ("m16", ["aspiradoras", "la segunda", "tiene cuotas?"], {"expect": "installments"}),
    ("m17", ["hola que tal", "tenes consolas?"], {"expect": "offers", "types": ["consolas"]}),
    ("m18", ["un microondas", "algo mas barato?"], {"expect": "cheaper", "types": ["microondas"]}),
    ("m19", ["notebooks", "la primera", "me la llevo"], {"expect": "hot"}),
    ("m20", ["cafetera", "mostrame otras"], {"expect": "more", "types": ["cafeteras"]}),
    ("m21", ["smartwatch", "la segunda", "en cuantas cuotas?"], {"expect": "installments"}),
    ("m22", ["camperas", "otras opciones?"], {"expect": "more", "types": ["camperas"]}),
    ("m23", ["botines", "talle 41?"], {"expect": "offers", "types": ["botines"], "size": "41"}),
    ("m24", ["celular motorola", "la primera", "lo quiero, como te pago?"], {"expect": "hot"}),
    ("m25", ["monitor", "el segundo"], {"expect": "about_offered", "k": 1}),
    ("m26", ["lavarropas", "algo mas economico"], {"expect": "cheaper", "types": ["lavarropas"]}),
    ("m27", ["impresora", "necesito hablar con un vendedor"], {"expect": "human"}),
    ("m28", ["joystick", "la primera", "cuotas?"], {"expect": "installments"}),
    ("m29", ["pava electrica", "dale, me la llevo"], {"expect": "hot"}),
    ("m30", ["sillas gamer", "la tercera"], {"expect": "about_offered", "k": 2}),
    ("m31", ["tablets", "mas opciones"], {"expect": "more", "types": ["tablets"]}),
    ("m32", ["un jean", "y en talle M?"], {"expect": "offers", "types": ["pantalones"], "size": "M"}),
]  # fmt: skip


def _colour_of(product: dict[str, Any]) -> str:
    return str(product.get("attributes", {}).get("color", "")).lower()


def resolve(accept: dict[str, Any], products: list[dict[str, Any]]) -> list[str]:
    """The SKUs a good seller could offer for this label."""
    types = set(accept["types"])
    chosen = [p for p in products if p["type"] in types or p["type"].split(":")[0] in types]
    if accept.get("brand"):
        chosen = [
            p
            for p in chosen
            if (p.get("brand") or "") == accept["brand"] or accept["brand"].lower() in p["name"].lower()
        ]
    if accept.get("name_has"):
        chosen = [p for p in chosen if accept["name_has"].lower() in p["name"].lower()]
    if accept.get("colour"):
        chosen = [p for p in chosen if _colour_of(p) == accept["colour"]]
    if accept.get("size"):
        chosen = [p for p in chosen if accept["size"] in p.get("attributes", {}).get("talles", [])]
    if "max_price" in accept:
        chosen = [p for p in chosen if p["price"] <= accept["max_price"]]
    if "min_price" in accept:
        chosen = [p for p in chosen if p["price"] >= accept["min_price"]]
    in_stock = [p for p in chosen if p["stock"] > 0]
    if accept.get("cheapest"):
        in_stock = sorted(in_stock, key=lambda p: p["price"])[: accept["cheapest"]]
    return [p["sku"] for p in in_stock]


def split_of(item_id: str) -> str:
    """tune or heldout, by a hash nobody chose."""
    return "tune" if hashlib.sha256(f"s7-bot-eval:{item_id}".encode()).digest()[0] % 2 == 0 else "heldout"


def build() -> dict[str, Any]:
    products = generate_catalog()
    items: list[dict[str, Any]] = []
    for item_id, text, accept in PRODUCT_ITEMS:
        skus = resolve(accept, products)
        if not skus:
            raise SystemExit(f"{item_id}: no acceptable product in stock for {accept}")
        items.append({"id": item_id, "kind": "product", "turns": [text], "accept": skus, "label": accept})
    for item_id, text in NOT_SOLD:
        items.append({"id": item_id, "kind": "not_sold", "turns": [text], "accept": []})
    for item_id, text, topic in STORE_FACTS:
        items.append({"id": item_id, "kind": "store_fact", "turns": [text], "topic": topic, "accept": []})
    for item_id, text, model in OUT_OF_STOCK_ITEMS:
        skus = [p["sku"] for p in products if model.lower() in p["name"].lower() and p["stock"] == 0]
        if not skus:
            raise SystemExit(f"{item_id}: {model} is not an out-of-stock product")
        items.append({"id": item_id, "kind": "out_of_stock", "turns": [text], "out_of_stock": skus, "accept": []})
    for item_id, turns, label in MULTI_TURN:
        item = {"id": item_id, "kind": "multi", "turns": turns, "label": label, "accept": []}
        if "types" in label:
            item["accept"] = resolve(label, products)
            if not item["accept"]:
                raise SystemExit(f"{item_id}: no acceptable product for {label}")
        items.append(item)
    for item in items:
        item["split"] = split_of(item["id"])
    for item_id, text, accept in PRODUCT_ITEMS_TUNE_S3:
        skus = resolve(accept, products)
        if not skus:
            raise SystemExit(f"{item_id}: no acceptable product in stock for {accept}")
        items.append(
            {"id": item_id, "kind": "product", "turns": [text], "accept": skus, "label": accept, "split": "tune"}
        )
    for item_id, text in NOT_SOLD_TUNE_S3:
        items.append({"id": item_id, "kind": "not_sold", "turns": [text], "accept": [], "split": "tune"})
    return {"products": products, "items": items}


def main() -> int:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    items = data["items"]
    kinds: dict[str, int] = {}
    for item in items:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    held = sum(1 for i in items if i["split"] == "heldout")
    print(f"{len(data['products'])} products, {len(items)} messages {kinds}, held-out {held}; wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
