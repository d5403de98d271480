"""Search: the user's ranking (in stock → match → popularity), typos, synonyms, no weak matches."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from s7.config import Settings
from s7.db import session_scope
from s7.domain import catalog
from s7.domain.catalog.index import IndexedProduct, SearchIndex
from s7.domain.models import Product

P = IndexedProduct
SHOP = [
    P(1, "AM90-BL", "Zapatillas Nike Air Max 90 Blanco", "Nike", "Zapatillas", {"talles": ["40", "42"]}, 4, 80),
    P(2, "AM90-NG", "Zapatillas Nike Air Max 90 Negro", "Nike", "Zapatillas", {"talles": ["41"]}, 0, 99),
    P(3, "REV6", "Zapatillas Nike Revolution 6", "Nike", "Zapatillas", {"talles": ["42"]}, 9, 30),
    P(4, "FORUM", "Zapatillas Adidas Forum Low", "Adidas", "Zapatillas", {"talles": ["40"]}, 5, 70),
    P(5, "PS5", "Consola PlayStation 5 Slim", "Sony", "Consolas", {}, 2, 95),
    P(6, "PS4", "Consola PlayStation 4 Slim", "Sony", "Consolas", {}, 3, 60),
    P(7, "A55", "Celular Samsung Galaxy A55 256GB", "Samsung", "Celulares", {"color": "lila"}, 3, 85),
    P(8, "MOTO", "Celular Motorola Moto G54", "Motorola", "Celulares", {}, 8, 40),
    P(9, "HOOD", "Hoodie Oversize Sector 7", "Sector 7", "Buzos", {"talles": ["M", "L"]}, 4, 20),
    P(10, "BUZO", "Buzo Canguro Liso", "Sector 7", "Buzos", {}, 4, 90),
    P(11, "PANT", "Pantalón Adidas Tiro", "Adidas", "Pantalones", {}, 6, 50),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(SHOP)


def skus(index: SearchIndex, query: str, **options: object) -> list[str]:
    return [m.sku for m in index.rank(query, limit=10, **options).matches]  # type: ignore[arg-type]


def test_in_stock_comes_before_a_better_match_out_of_stock(index: SearchIndex) -> None:
    # The black Air Max matches every word but has none; the white one matches 4 of 5.
    ranked = skus(index, "air max 90 negro")
    assert ranked[0] == "AM90-BL"
    assert ranked[-1] == "AM90-NG"


def test_match_quality_comes_before_popularity(index: SearchIndex) -> None:
    # Revolution is less popular than the Air Max but it is what was asked for.
    assert skus(index, "nike revolution")[0] == "REV6"


def test_popularity_breaks_ties_between_equal_matches(index: SearchIndex) -> None:
    assert skus(index, "zapatillas") == ["AM90-BL", "FORUM", "REV6", "AM90-NG"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zapatiyas adidas", "FORUM"),  # y for ll
        ("sapatillas adidas", "FORUM"),  # s for z
        ("zapatilas adidas", "FORUM"),  # a letter missing
        ("ADIDAS FÓRUM", "FORUM"),  # case and accents
        ("samsumg galaxy", "A55"),  # a real typo
        ("pantalon", "PANT"),  # no accent
        ("pantalones adidas", "PANT"),  # plural
        ("celulares motorola", "MOTO"),
        ("airmax blanco", "AM90-BL"),  # words glued together
    ],
)
def test_typos_accents_and_plurals_still_find_the_product(index: SearchIndex, query: str, expected: str) -> None:
    assert skus(index, query)[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("play 5", "PS5"), ("ps5", "PS5"), ("celu samsung", "A55"), ("buzo oversize", "HOOD"), ("hoodie liso", "BUZO")],
)
def test_synonyms_from_the_data_file(index: SearchIndex, query: str, expected: str) -> None:
    assert skus(index, query)[0] == expected


def test_a_word_itself_ranks_above_its_synonym(index: SearchIndex) -> None:
    assert skus(index, "hoodie")[:2] == ["HOOD", "BUZO"]
    assert skus(index, "buzo")[:2] == ["BUZO", "HOOD"]  # both say buzo (hoodie ≡ buzo): popularity


@pytest.mark.parametrize("query", ["heladera", "iphone", "qwerty asdf", "", "   ", "de la", "pintura blanca"])
def test_weak_or_no_matches_are_not_offered(index: SearchIndex, query: str) -> None:
    assert skus(index, query) == []


def test_a_word_no_product_has_is_dropped_and_said(index: SearchIndex) -> None:
    # Was: "zapatillas puma" found nothing, a dead end while four pairs of zapatillas were there.
    ranking = index.rank("zapatillas puma para la facu", limit=10)
    assert [m.sku for m in ranking.matches] == ["AM90-BL", "FORUM", "REV6", "AM90-NG"]
    assert ranking.dropped == ["puma", "facu"] and ranking.matched == ["zapatillas"]


@pytest.mark.parametrize("query", ["pintura latex blanca", "cubiertas para la moto", "caña de pescar", "libros nike"])
def test_what_describes_an_unsold_thing_does_not_pass_for_a_match(index: SearchIndex, query: str) -> None:
    ranking = index.rank(query, limit=10)
    assert ranking.matches == [] and ranking.unknown_head is not None


@pytest.mark.parametrize(
    ("query", "expected"),
    [("algo para jugar a la play", "PS5"), ("un celu", "A55"), ("remerita", None), ("buzito liso", "BUZO")],
)
def test_generic_heads_diminutives_and_slang(index: SearchIndex, query: str, expected: str | None) -> None:
    found = skus(index, query)
    assert (found[0] if found else None) == expected


def test_a_model_number_does_not_drag_in_other_models(index: SearchIndex) -> None:
    assert skus(index, "playstation 5") == ["PS5"]


def test_attributes_are_searched_below_the_name(index: SearchIndex) -> None:
    assert skus(index, "samsung lila") == ["A55"]
    assert skus(index, "zapatillas talle 42")[:2] == ["AM90-BL", "REV6"]


def test_in_stock_only_leaves_out_what_cannot_be_sold(index: SearchIndex) -> None:
    assert "AM90-NG" not in skus(index, "air max", in_stock_only=True)


def test_best_is_the_closest_match_whatever_its_stock(index: SearchIndex) -> None:
    ranking = index.rank("air max 90 negro", limit=3)
    assert ranking.best is not None and ranking.best.sku == "AM90-NG" and not ranking.best.in_stock
    assert ranking.matches[0].sku == "AM90-BL"


def test_limit_is_respected(index: SearchIndex) -> None:
    assert len(index.rank("zapatillas", limit=2).matches) == 2


def test_an_exact_sku_comes_first_then_the_word_matches(index: SearchIndex) -> None:
    assert skus(index, "am90-ng") == ["AM90-NG"]
    assert skus(index, "buzo") == ["BUZO", "HOOD"]  # "BUZO" is also a SKU
    assert skus(index, "am90-ng", in_stock_only=True) == []


def test_synonyms_are_editable_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from s7.domain.catalog.index import DATA_DIR, load_settings

    for name in ("search.json", "synonyms.json"):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    synonyms = json.loads((tmp_path / "synonyms.json").read_text(encoding="utf-8"))
    synonyms["replace"]["compu gamer"] = "playstation"
    (tmp_path / "synonyms.json").write_text(json.dumps(synonyms), encoding="utf-8")
    custom = SearchIndex(SHOP, load_settings(tmp_path))
    assert [m.sku for m in custom.rank("compu gamer", limit=1).matches] == ["PS5"]


# ---- through the database: the one function the bot, the API and the panel call -------------
def _import(products: list[dict[str, object]]) -> None:
    with session_scope() as session:
        catalog.import_catalog(session, json.dumps({"products": products}).encode(), "c.json")


def test_search_returns_current_product_data_with_a_score(any_db: Settings) -> None:
    _import(
        [
            {"sku": "PS5", "name": "Consola PlayStation 5", "price": "$ 999.999", "stock": 2, "installments": 12},
            {"sku": "PS4", "name": "Consola PlayStation 4", "price": 599999, "stock": 0},
        ]
    )
    with session_scope() as session:
        hits = catalog.search(session, "play 5")
    assert [(h.sku, h.score, h.in_stock, h.installments, str(h.price)) for h in hits] == [
        ("PS5", 100, True, 12, "999999.00")
    ]
    assert hits.best is not None and hits.best.sku == "PS5"
    assert hits[0].to_dict()["price"] == 999999.0


def test_an_import_refreshes_the_index(any_db: Settings) -> None:
    _import([{"sku": "A", "name": "Parlante JBL Flip 6", "price": 1000, "stock": 0}])
    with session_scope() as session:
        assert [h.in_stock for h in catalog.search(session, "parlante")] == [False]
    _import(
        [
            {"sku": "A", "name": "Parlante JBL Flip 6", "price": 1000, "stock": 3},
            {"sku": "B", "name": "Parlante JBL Go 3", "price": 500, "stock": 1},
        ]
    )
    with session_scope() as session:
        assert [(h.sku, h.stock) for h in catalog.search(session, "parlante jbl")] == [("A", 3), ("B", 1)]
        assert [h.sku for h in catalog.search(session, "parlante", in_stock_only=True, limit=1)] == ["A"]


def test_a_stale_index_is_noticed_and_rebuilt(any_db: Settings) -> None:
    _import([{"sku": "A", "name": "Mochila Jansport", "price": 1000, "stock": 3}])
    with session_scope() as session:
        assert len(catalog.search(session, "mochila")) == 1
        # Another process removed and re-created rows behind this process's back.
        session.execute(Product.__table__.delete())
        session.add(Product(sku="B", name="Mochila Head", price=2000, stock=1))
    with session_scope() as session:
        assert [h.sku for h in catalog.search(session, "mochila")] == ["B"]
        assert session.scalar(select(Product.sku)) == "B"


def test_search_in_the_importing_session_sees_the_new_values(any_db: Settings) -> None:
    _import([{"sku": "A", "name": "Parlante JBL Go 3", "price": 500, "stock": 1}])
    with session_scope() as session:
        assert catalog.search(session, "parlante")[0].stock == 1  # loads the product into the session
        data = json.dumps([{"sku": "A", "name": "Parlante JBL Go 3", "price": 450, "stock": 9}]).encode()
        catalog.import_catalog(session, data, "c.json")
        [hit] = catalog.search(session, "parlante")
        assert (hit.stock, str(hit.price)) == (9, "450.00")


def test_what_a_product_is_for_counts_less_than_what_it_is() -> None:
    shop = [
        P(1, "NB", "Notebook Lenovo IdeaPad 3", "Lenovo", "Notebooks", {}, 4, 10),
        P(2, "MOC", "Mochila para Notebook 15.6", "Samsonite", "Mochilas", {}, 4, 99),
        P(3, "F1", "Funda Silicona iPhone 13", "Generica", "Celulares", {}, 9, 90),
        P(4, "F2", "Funda Tough Armor Galaxy", "Spigen", "Celulares", {}, 9, 80),
        P(5, "CEL", "Samsung Galaxy A15", "Samsung", "Celulares", {}, 3, 5),
    ]
    index = SearchIndex(shop)
    # The mochila is for notebooks; the fundas are filed under Celulares, but they are fundas.
    assert [m.sku for m in index.rank("notebook", limit=5).matches] == ["NB"]
    assert [m.sku for m in index.rank("celulares", limit=5).matches] == ["CEL"]
    assert [m.sku for m in index.rank("mochila notebook", limit=5).matches][0] == "MOC"


# ---- things the store does not sell must not pass for a partial match -------------------------
HOME = [
    P(1, "FR1", "Freidora sin Aceite Atma FR5020E 5L", "Atma", "Cocina", {}, 5, 50),
    P(2, "FR2", "Freidora de Aire Philips Airfryer Essential", "Philips", "Cocina", {}, 5, 60),
    P(3, "HEL", "Heladera con Freezer Patrick HPK135", "Patrick", "Heladeras", {}, 5, 40),
    P(4, "HEL2", "Heladera No Frost Gafa HGF358", "Gafa", "Heladeras", {}, 5, 45),
    P(5, "LAV1", "Lavarropas Carga Frontal Samsung WW90", "Samsung", "Lavado", {}, 5, 30),
    P(6, "LAV2", "Lavarropas Carga Frontal Longvie L8014", "Longvie", "Lavado", {}, 5, 35),
    P(7, "LAV3", "Lavarropas Automático Drean Next 8.14", "Drean", "Lavado", {}, 5, 70),
    P(8, "ASP1", "Aspiradora Robot Philips PowerPro", "Philips", "Limpieza", {}, 5, 80),
    P(9, "ASP2", "Aspiradora de Mano Black Decker Dustbuster", "Black Decker", "Limpieza", {}, 5, 20),
    P(10, "SIL1", "Silla de Escritorio Noga Pro", "Noga", "Sillas", {}, 5, 25),
    P(11, "SIL2", "Silla Gamer Corsair T3", "Corsair", "Sillas", {}, 5, 65),
    P(12, "NB", "Notebook Lenovo IdeaPad 3", "Lenovo", "Notebooks", {}, 5, 10),
    P(13, "NB2", "Notebook HP 250 G9", "HP", "Notebooks", {}, 5, 15),
    P(14, "IPH", "Celular Apple iPhone 13 128GB", "Apple", "Celulares", {}, 5, 90),
    P(15, "CEL", "Celular Samsung Galaxy A15", "Samsung", "Celulares", {}, 5, 85),
    P(16, "TE1", "Termo Stanley Classic 1L", "Stanley", "Matería", {}, 5, 55),
    P(17, "TE2", "Set Matero Stanley Mate System", "Stanley", "Matería", {}, 5, 56),
    P(18, "AU1", "Auriculares JBL Tune 520BT", "JBL", "Audio", {}, 5, 75),
    P(19, "AU2", "Auriculares Sony WH-CH520", "Sony", "Audio", {}, 5, 74),
]


@pytest.fixture(scope="module")
def home() -> SearchIndex:
    return SearchIndex(HOME)


@pytest.mark.parametrize(
    "query",
    [
        "aceite de oliva",  # the freidora is "sin aceite": what it lacks is not what it is
        "un robot de cocina",  # the aspiradora is a robot, but nothing robot is for the kitchen
        "un escritorio para poner la compu",  # a desk; the silla is "de escritorio", the notebook no desk
        "tenés carga virtual?",  # "carga" only describes a lavarropas; "virtual" nobody has
        "tenés algo para el auto?",  # "auto" is only the start of "automático"
        "un casco para la moto",  # a helmet: "cascos" is Spain's word for auriculares, not ours
    ],
)
def test_a_word_of_the_catalog_used_for_something_else_offers_nothing(home: SearchIndex, query: str) -> None:
    assert [m.sku for m in home.rank(query, limit=10).matches] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("una freidora que no use aceite", "FR1"),
        ("heladera con freezer", "HEL"),
        ("lavarropas de carga frontal", "LAV2"),
        ("silla para el escritorio", "SIL1"),
        ("una aspiradora robot", "ASP1"),
        ("un iphone usado", "IPH"),  # a model named by the brand's own word still counts
        ("zapatillas para la oficina", None),
        ("algo para el mate", "TE2"),
        ("auriculares inalambricos", "AU1"),  # a word no product has, after one that says what it is
        ("un galaxy para mi vieja", "CEL"),  # what it is for is not what it is
    ],
)
def test_look_alikes_that_are_sold_are_still_found(home: SearchIndex, query: str, expected: str | None) -> None:
    found = [m.sku for m in home.rank(query, limit=10).matches]
    assert (found[0] if found else None) == expected


# ---- a compound, a synonym from elsewhere, an accessory for another device ---------------------
GADGETS = [
    P(1, "SIL1", "Silla Gamer Corsair T3", "Corsair", "Sillas", {}, 5, 50),
    P(2, "SIL2", "Silla de Escritorio Noga Pro", "Noga", "Sillas", {}, 5, 40),
    P(3, "JU1", "Juego FC 24 PS5", "EA", "Videojuegos", {}, 5, 60),
    P(4, "JU2", "Juego Mario Kart 8 Switch", "Nintendo", "Videojuegos", {}, 5, 55),
    P(5, "RE1", "Reloj Smartwatch Xiaomi Band 8", "Xiaomi", "Wearables", {}, 5, 30),
    P(6, "RE2", "Reloj Smartwatch Amazfit Bip 5", "Amazfit", "Wearables", {}, 5, 35),
    P(7, "JOY", "Control Inalámbrico Sony DualSense PS5", "Sony", "Gaming", {}, 5, 70),
    P(8, "JOY2", "Control Inalámbrico Xbox Wireless", "Microsoft", "Gaming", {}, 5, 65),
    P(9, "ZA1", "Zapatillas Running Nike Pegasus", "Nike", "Calzado", {}, 5, 80),
    P(10, "ZA2", "Zapatillas Urbanas Vans Old Skool", "Vans", "Calzado", {}, 5, 75),
    P(11, "BOT", "Botines Adidas Predator Club", "Adidas", "Fútbol", {}, 5, 45),
    P(12, "BOT2", "Botines Nike Phantom Academy", "Nike", "Fútbol", {}, 5, 44),
    P(13, "REM", "Remera Topper Basic Algodón", "Topper", "Remeras", {}, 5, 20),
    P(14, "REM2", "Remera Nike Dri-FIT", "Nike", "Remeras", {}, 5, 21),
    P(15, "FUN", "Funda Silicona iPhone 13", "Generica", "Accesorios > Celulares", {}, 5, 25),
    P(16, "FUN2", "Funda Tough Armor Galaxy A35", "Spigen", "Accesorios > Celulares", {}, 5, 26),
    P(17, "CAR", "Cargador 20W USB-C", "Apple", "Accesorios > Celulares", {}, 5, 27),
    P(18, "CAR2", "Cargador 25W USB-C", "Samsung", "Accesorios > Celulares", {}, 5, 28),
    P(19, "NB", "Notebook Lenovo IdeaPad 3", "Lenovo", "Notebooks", {}, 5, 90),
    P(20, "NB2", "Notebook HP 250 G9", "HP", "Notebooks", {}, 5, 91),
    P(21, "CEL", "Celular Samsung Galaxy A15", "Samsung", "Celulares", {}, 5, 85),
    P(22, "CEL2", "Celular Motorola Moto G24", "Motorola", "Celulares", {}, 5, 86),
    P(23, "HEL", "Heladera No Frost Gafa", "Gafa", "Heladeras", {}, 5, 10),
    P(24, "HEL2", "Heladera con Freezer Patrick", "Patrick", "Heladeras", {}, 5, 11),
    P(25, "TAB", "Tablet Samsung Galaxy Tab A9", "Samsung", "Tablets", {}, 5, 12),
    P(26, "TAB2", "Tablet Lenovo Tab M10", "Lenovo", "Tablets", {}, 5, 13),
    P(27, "PAR", "Parlante Portátil JBL Flip 6", "JBL", "Audio", {}, 5, 14),
]


@pytest.fixture(scope="module")
def gadgets() -> SearchIndex:
    return SearchIndex(GADGETS)


@pytest.mark.parametrize(
    ("query", "thing"),
    [
        ("tenés silla de ruedas?", "silla de ruedas"),  # a chair, but not one the store sells
        ("un reloj de pared para el living", "reloj de pared"),
        ("juegos de mesa", "juegos de mesa"),  # board games, not video games
        ("un juego de sábanas", "juego de sabanas"),
        ("un control remoto para la tele", "control remoto"),  # a remote, not a joystick
        ("zapatillas de ballet", "zapatillas de ballet"),
    ],
)
def test_a_compound_with_a_word_the_catalog_lacks_names_another_thing(
    gadgets: SearchIndex, query: str, thing: str
) -> None:
    ranking = gadgets.rank(query, limit=10)
    assert ranking.matches == []
    assert ranking.unknown_head == thing  # the bot says "No encontré …" and lists what it sells


@pytest.mark.parametrize(
    "query",
    [
        "tenés tacos para la fiesta?",  # in Argentina a taco is a heel, not a botín
        "un case para la pc",  # a case is a PC's gabinete as often as a phone's funda
        "una portatil",  # an adjective here: "parlante portátil", "batería portátil"
    ],
)
def test_a_word_that_means_something_else_here_is_no_synonym(gadgets: SearchIndex, query: str) -> None:
    found = {m.sku for m in gadgets.rank(query, limit=10).matches}
    assert not found & {"BOT", "BOT2", "FUN", "FUN2", "NB", "NB2"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zapatillas de mujer", {"ZA1", "ZA2"}),  # who it is for
        ("zapatillas de nene para correr", {"ZA1"}),
        ("remera de algodón", {"REM"}),  # what it is made of
        ("silla de oficina", {"SIL1", "SIL2"}),  # where it is used
        ("heladera de dos puertas", {"HEL", "HEL2"}),  # how many
        ("un juego de terror", {"JU1", "JU2"}),  # a genre of game
        ("botines de césped", {"BOT", "BOT2"}),
        ("juego de la play", {"JU1"}),  # "de la …": whose, not a compound
        ("silla de escritorio", {"SIL2"}),
        ("un reloj para salir a correr", {"RE1", "RE2"}),
        ("control de la play", {"JOY"}),
        ("parlante portátil", {"PAR"}),
    ],
)
def test_look_alikes_of_a_compound_are_still_found(gadgets: SearchIndex, query: str, expected: set[str]) -> None:
    found = [m.sku for m in gadgets.rank(query, limit=10).matches]
    assert found and found[0] in expected


@pytest.mark.parametrize(
    ("query", "other"),
    [
        ("funda para la notebook", ["notebook"]),  # the fundas here are for phones
        ("un cargador de notebook", ["notebook"]),
        ("funda para la tablet", ["tablet"]),
        ("funda para el celu", []),
        ("cargador para el celu", []),
        ("cargador para el iphone", []),  # a model, not a kind: the bot may still offer chargers
    ],
)
def test_what_an_accessory_is_for_must_be_what_the_products_are_for(
    gadgets: SearchIndex, query: str, other: list[str]
) -> None:
    ranking = gadgets.rank(query, limit=10)
    assert ranking.for_other == other
    # A notebook is what the funda is for, not the funda asked for.
    assert not {m.sku for m in ranking.matches} & {"NB", "NB2", "TAB", "TAB2", "CEL", "CEL2"}


def test_a_warmed_index_still_sees_a_catalog_another_process_imported(any_db: Settings) -> None:
    from s7.domain.catalog.search import warm

    with session_scope() as session:
        warm(session)  # the processor child at start: an empty catalog
    with session_scope() as session:  # another process imports it (Core: no invalidation here)
        session.connection().execute(
            Product.__table__.insert().values(sku="A", name="Mochila Jansport", price=1000, stock=3, attributes={})
        )
    with session_scope() as session:
        assert [h.sku for h in catalog.search(session, "mochila")] == ["A"]
