"""What the bot says: one customer message in, at most one short reply (≤ 3 options) out.

`respond` is the database side: it scores purchase intent, stays silent unless the chat is
the bot's (re-checked right before queuing, so a seller's takeover never races a reply),
and queues through the one send path. `decide` is the conversation logic, a plain function
of the catalog, the remembered state and the message, so it reads top to bottom.

Remembered per conversation (`Conversation.bot_state`): the options offered last
(`offered`, so "la segunda" means something), the product being discussed (`focus`, so
"¿cuotas?" does), and the last search (`query`, `shown`) for "ver otras opciones".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from s7.clock import now
from s7.domain import catalog
from s7.domain.bot import cards, replies
from s7.domain.bot.replies import Reply, say
from s7.domain.bot.understand import PRODUCT_TOPICS, Understood, load_vocabulary, understand
from s7.domain.catalog import SearchHit, SearchHits
from s7.domain.catalog.index import load_settings
from s7.domain.chats import assignment, conversations, intent, messages
from s7.domain.models import Conversation, Message, User
from s7.domain.store import hours as store_hours
from s7.domain.store import profile as store_profile
from s7.domain.text_es import fold, fold_word, plain

log = logging.getLogger(__name__)

_SILENT_TYPES = frozenset({"reaction", "sticker", "location", "contacts", "system", "unsupported"})
_AUDIO_TYPES = frozenset({"audio", "voice"})
_PICTURE_TYPES = frozenset({"image"})
_GENERIC_TOPICS = frozenset({"pickup", "shipping", "payment"})
_SWITCH_SCORE = 90  # with a question pending, a new product must match this well to change the subject
_PICK_SCORE = 90  # typing an offered product's name picks it when it matches this well, and alone
_SIZE_SCAN = 12  # how many matches to look through for ones in the size asked


@dataclass
class Plan:
    reply: Reply | None
    state: dict[str, Any]
    hand_off: str | None = None  # reason for asking a seller in; None = the bot carries on


class CatalogView:
    """The catalog as the bot sees it, bound to one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, query: str, *, limit: int = 3, in_stock_only: bool = False) -> SearchHits:
        return catalog.search(self.session, query, limit=limit, in_stock_only=in_stock_only)

    def get_many(self, skus: list[str]) -> dict[str, SearchHit]:
        return catalog.products_by_sku(self.session, skus)

    def get(self, sku: str | None) -> SearchHit | None:
        return self.get_many([sku]).get(sku) if sku else None

    def categories(self) -> list[str]:
        return catalog.categories(self.session)

    def profile(self) -> store_profile.Profile:
        return store_profile.current(self.session)


# ---- the database side --------------------------------------------------------------------------
def respond(session: Session, conversation: Conversation, message: Message) -> None:
    """Called by the WhatsApp processor for every new customer message."""
    if message.direction != "in" or message.author != "customer":
        return
    selection = _selection_id(message)
    scored = intent.score(message.text or "")
    points = scored.points + (intent.SELECTION_POINTS if selection else 0)
    reason = scored.reason or ("eligió una opción" if selection else "")
    if not conversations.bot_may_speak(session, conversation):
        _add_intent(session, conversation, points, reason)  # a seller's chat still gets warmer
        if conversation.mode == "BOT_ON" and conversation.awaiting_human_since is not None:
            _acknowledge_wait(session, conversation, message)
        return

    plan = decide(CatalogView(session), dict(conversation.bot_state or {}), message.text or "", selection, message.type)
    reply = plan.reply
    turns_hot = _becomes_hot(conversation, points)
    open_now = store_hours.is_open(session=session)
    # With auto-assignment on and no seller free, never promise "ya te escribe un vendedor".
    nobody = open_now and bool(plan.hand_off or turns_hot) and not assignment.someone_can_take(session)
    if reply is not None and plan.hand_off is None and turns_hot:
        # The bot goes quiet once the lead is HOT, so say now that a seller is coming, in the
        # same sentence: no question left hanging above it, no buttons nobody answers until then.
        reply = Reply(f"{_without_question(reply.text)} {_hot_promise(open_now, nobody)}".strip())
    elif reply is not None and plan.hand_off is not None and not open_now:
        reply = _closed_now(session, reply)
    elif reply is not None and plan.hand_off is not None and nobody:
        reply = Reply(say("nobody_now"))
    conversation.bot_state = plan.state  # a new dict: JSON columns track assignment, not mutation
    if reply is not None and conversations.bot_may_speak(session, conversation):
        _send(session, conversation, reply)
    _add_intent(session, conversation, points, reason)
    if plan.hand_off:
        conversations.request_human(session, conversation, reason=plan.hand_off)
    if plan.hand_off or (turns_hot and conversation.lead == "HOT"):
        assignment.auto_assign(session, conversation, reason=plan.hand_off or "lead caliente")


def _hot_promise(open_now: bool, nobody: bool) -> str:
    """What the bot says as a lead turns HOT: a seller is coming, or when one will answer."""
    if not open_now and (when := store_profile.opening_text(now())):
        return say("hot_handoff_closed", when=when)
    return say("nobody_now") if nobody else say("hot_handoff")


def _without_question(text: str) -> str:
    """ "… Hay stock. ¿Te lo reservo?" → "… Hay stock." (a seller is about to take over)."""
    cut = text.rfind("¿")
    return text[:cut].rstrip() if cut > 0 and text.rstrip().endswith("?") else text


def _closed_now(session: Session, reply: Reply) -> Reply:
    """A hand-off outside opening hours says when someone will answer: by day and hour."""
    when = store_profile.opening_text(now(), session)
    if not when or reply.text != say("human"):
        return reply if not when else Reply(f"{reply.text} Abrimos {when}.", reply.options, reply.as_list)
    return Reply(say("human_closed", when=when), reply.options, reply.as_list)


def _acknowledge_wait(session: Session, conversation: Conversation, message: Message) -> None:
    """The customer writes while waiting for a seller: say once per waiting period that someone
    is coming (naming the seller when one is assigned; when closed, when the store opens)."""
    waiting_since = conversation.awaiting_human_since
    state = dict(conversation.bot_state or {})
    key = waiting_since.isoformat() if waiting_since else ""
    if state.get("acknowledged") == key or message.type in _SILENT_TYPES:
        return
    if not store_hours.is_open(session=session) and (when := store_profile.opening_text(now(), session)):
        text = say("waiting_ack_closed", when=when)
    elif conversation.assigned_to and (seller := session.get(User, conversation.assigned_to)) is not None:
        text = say("waiting_ack_seller", seller=seller.name.split()[0] if seller.name else "un vendedor")
    else:
        text = say("waiting_ack")
    state["acknowledged"] = key
    conversation.bot_state = state
    # The chat is still the bot's (BOT_ON) while it waits: the send gate lets this one out.
    _send(session, conversation, Reply(text))


def _selection_id(message: Message) -> str | None:
    """The id of a tapped button or list row (the processor keeps it in `options`)."""
    for option in message.options or []:
        if isinstance(option, dict) and option.get("id"):
            return str(option["id"])
    return None


def _becomes_hot(conversation: Conversation, points: int) -> bool:
    if points <= 0 or conversation.lead not in ("NONE", "WARM"):
        return False
    return (conversation.intent_score or 0) + points >= intent.HOT


def _add_intent(session: Session, conversation: Conversation, points: int, reason: str) -> None:
    if points > 0:
        conversations.add_intent(session, conversation, points, reason=reason)


def _send(session: Session, conversation: Conversation, reply: Reply) -> None:
    try:
        if reply.image_url:
            cards.queue_card(session, conversation, reply, author="bot")  # the product's photo as the header
        else:
            messages.queue_outbound(
                session,
                conversation,
                author="bot",
                text=reply.text,
                options=reply.options or None,
                as_list=reply.as_list,
            )
    except messages.WindowClosed:
        log.info("bot reply to conversation %s dropped: 24-hour window closed", conversation.id)
    except messages.InvalidMessage:
        # Our options broke a WhatsApp rule (a bug here, or an odd catalog name): say it plainly.
        log.exception("bot reply with options rejected for conversation %s; sending text only", conversation.id)
        messages.queue_outbound(session, conversation, author="bot", text=reply.text)


# ---- the conversation logic ---------------------------------------------------------------------
def decide(
    view: CatalogView, state: dict[str, Any], text: str, selection: str | None = None, kind: str = "text"
) -> Plan:
    """The reply to one message, given what was offered before (pure apart from catalog reads)."""
    return _Turn(view, dict(state), understand(text), text, kind).plan(selection)


@dataclass
class _Wish:
    """What narrows a search: colour, size, price range, order. Remembered for follow-ups."""

    colour: str | None = None
    size: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    sort: str | None = None  # "cheap" | "premium"

    @classmethod
    def of(cls, said: Understood) -> _Wish:
        sort = said.sort or ("cheap" if said.cheaper else None)
        return cls(said.colour, said.size, said.min_price, said.max_price, sort)

    @classmethod
    def remembered(cls, state: dict[str, Any]) -> _Wish:
        return cls(**{k: v for k, v in (state.get("wish") or {}).items() if k in cls.__dataclass_fields__})

    def merged(self, newer: _Wish) -> _Wish:
        return _Wish(**{k: getattr(newer, k) or getattr(self, k) for k in self.__dataclass_fields__})

    def narrows(self) -> bool:
        return any(getattr(self, k) for k in self.__dataclass_fields__)

    def as_state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def fits(self, hit: SearchHit) -> bool:
        return (
            (self.colour is None or _has_colour(hit, self.colour))
            and (self.size is None or replies.has_size(hit, self.size))
            and (self.min_price is None or hit.price >= self.min_price)
            and (self.max_price is None or hit.price <= self.max_price)
        )

    def words(self) -> str:
        """ "en negro, en talle 42, hasta $ 50.000" (empty when nothing narrows)."""
        parts = []
        if self.colour:
            parts.append(say("filter_colour", colour=self.colour))
        if self.size:
            parts.append(say("filter_size", size=self.size))
        if self.min_price and self.max_price:
            parts.append(say("filter_range", min=replies.money(self.min_price), max=replies.money(self.max_price)))
        elif self.max_price:
            parts.append(say("filter_max", max=replies.money(self.max_price)))
        elif self.min_price:
            parts.append(say("filter_min", min=replies.money(self.min_price)))
        return ", ".join(parts)


def _has_colour(hit: SearchHit, colour: str) -> bool:
    wanted = fold(colour)
    values = " ".join(
        str(v) for k, v in (hit.attributes or {}).items() if plain(str(k)) in ("color", "colores", "colour")
    )
    return bool(set(wanted) & set(fold(f"{hit.name} {values}")))


def _model_key(hit: SearchHit) -> frozenset[str]:
    """The words that tell models apart: the name without colours and shop noise."""
    colours = set(load_vocabulary().colours)
    noise = {"color", "nuevo", "original", "oferta", "importado", "envio", "gratis", "cuota"}
    return frozenset(w for w in fold(hit.name) if w not in colours and w not in noise)


def _distinct(hits: list[SearchHit], limit: int) -> list[SearchHit]:
    """Up to `limit` options that differ: one listing per model (not three colours of one)."""
    chosen: list[SearchHit] = []
    keys: list[frozenset[str]] = []
    for hit in hits:
        key = _model_key(hit)
        if any(len(key ^ other) <= 1 for other in keys):
            continue
        chosen.append(hit)
        keys.append(key)
        if len(chosen) == limit:
            break
    return chosen


_SORT_MARGIN = 10  # score points below the closest match still ordered by price
_SCAN = 40  # matches looked through to filter by colour, size or price and to pick distinct models


@dataclass
class _Turn:
    view: CatalogView
    state: dict[str, Any]
    said: Understood
    text: str
    kind: str
    hand_off: str | None = field(default=None)

    def plan(self, selection: str | None) -> Plan:
        reply = self._on_selection(selection) if selection else None
        if reply is None:
            reply = self._on_text()
        if reply is not None and self.said.greeting and not reply.text.startswith(say("greeting_prefix").strip()):
            reply = Reply(
                say("greeting_prefix") + reply.text, reply.options, reply.as_list
            )  # "hola, ..." → "¡Hola! ..."
        return Plan(reply, self.state, self.hand_off)

    # ---- taps ---------------------------------------------------------------------------------
    def _on_selection(self, selection: str) -> Reply | None:
        kind, _, value = selection.partition(":")
        if kind == "p":
            hit = self.view.get(value)
            return self._about(hit) if hit else None
        focus = self.view.get(self.state.get("focus"))
        if value == "human":
            return self._human()
        if value == "more":
            return self._more()
        if value == "buy" and focus:
            return self._buy(focus)
        if value == "alternatives" and focus:
            return replies.out_of_stock(focus, self._alternatives(focus))
        if value == "installments" and focus:
            return replies.installments(focus)
        return None  # an old or unknown button: read its title as text

    # ---- typed text ---------------------------------------------------------------------------
    def _on_text(self) -> Reply | None:
        said = self.said
        if not self.text.strip():
            return self._media()
        if said.human:
            return self._human()
        faq = store_profile.faq_answer(self.view.profile(), self.text)
        if faq:
            return Reply(faq)
        picked = self._picked()
        if picked is not None:
            return self._about(picked)
        focus = self.view.get(self.state.get("focus"))
        query = _follow_up(said.query, focus)
        product_query = _is_product_query(_without_colour(query))
        store_topics = [t for t in said.store_topics if not (t == "installments_policy" and (focus or product_query))]
        if not store_topics and "installments" in said.topics and focus is None and not product_query:
            store_topics = ["installments_policy"]  # "¿cuotas?" with no product in view
            if not store_profile.fact(self.view.profile(), "installments_policy"):
                return replies.plain_text("which_product")  # each product's cuotas are known: ask which
        if store_topics:
            answer = self._store(store_topics)
            if focus is not None and said.topics & (PRODUCT_TOPICS | {"buy"}) and self.hand_off is None:
                about = self._about(focus)  # "¿tenés en 42? la paso a buscar": both answered, fact first
                return Reply(f"{answer.text} {about.text}", about.options, about.as_list)
            return answer
        if said.other:
            return self._other(focus)
        if said.more and not product_query:
            return self._more()
        wish = _Wish.of(said)
        if not product_query and (wish.narrows() or said.cheaper) and (self.state.get("query") or focus):
            if focus is not None and said.size and not said.colour and not said.cheaper:
                return self._about(focus)  # "¿talle 42?" about the product being discussed
            return self._refine(wish, focus)
        if product_query:
            found = self._find(query, wish)
            if found is not None:
                return found
        if said.topics:
            return self._topics(focus)
        if said.greeting:
            return replies.plain_text("greeting")
        if said.thanks:
            return replies.plain_text("thanks")
        if said.bye:
            return replies.plain_text("bye")
        if product_query:
            return self._nothing(query, None)
        return replies.plain_text("fallback", "human")

    def _topics(self, focus: SearchHit | None) -> Reply:
        topics = self.said.topics
        if focus is not None and topics & (PRODUCT_TOPICS | {"buy"}):
            return self._about(focus)
        if "buy" in topics:
            return replies.plain_text("buy_which")
        return replies.plain_text("which_product")

    def _store(self, topics: list[str]) -> Reply:
        """Store questions: only what the profile says; a missing fact goes to a seller."""
        profile = self.view.profile()
        facts = [f for f in (store_profile.fact(profile, t) for t in topics[:2]) if f]
        if len(facts) < len(topics[:2]) or not facts:
            self.hand_off = f"pregunta algo de la tienda que no está cargado ({', '.join(topics)})"
            return Reply(" ".join([*facts, say("store_unknown")]))
        shipping = profile.get("shipping", {})
        if "shipping" in topics and shipping.get("mode") == "coordinate":
            self.hand_off = "quiere coordinar un envío"
            return Reply(say("store_coordinate", fact=" ".join(facts)))
        return Reply(" ".join(facts))

    def _media(self) -> Reply | None:
        if self.kind in _SILENT_TYPES:
            return None
        if self.kind in _AUDIO_TYPES:
            return replies.plain_text("media_audio")
        if self.kind in _PICTURE_TYPES:
            return replies.plain_text("media_image")
        if self.kind == "order":
            self.hand_off = "mandó un pedido del catálogo de WhatsApp"
            return replies.plain_text("human")
        return replies.plain_text("media_other")

    def _human(self) -> Reply:
        self.hand_off = "pidió una persona"
        return replies.plain_text("human")

    # ---- products -----------------------------------------------------------------------------
    def _about(self, hit: SearchHit) -> Reply:
        """Answer what was asked about one product (or show it), truthfully about stock."""
        self.state["focus"] = hit.sku
        topics = self.said.topics
        if not hit.in_stock:
            return self._offer_instead(hit)
        if "buy" in topics:
            return self._buy(hit)
        if "sizes" in topics:
            return replies.sizes(hit, self.said.size)
        asked = topics & PRODUCT_TOPICS
        if asked == {"installments"}:
            return replies.installments(hit)
        if asked == {"price"}:
            return replies.price(hit)
        if asked == {"stock"}:
            return replies.stock(hit)
        return replies.detail(hit)

    def _buy(self, hit: SearchHit) -> Reply:
        if not hit.in_stock:
            return self._offer_instead(hit)
        self.hand_off = f"quiere comprar {hit.name} ({hit.sku})"
        return replies.plain_text("buy", name=hit.name)

    def _find(self, query: str, wish: _Wish, *, exclude: frozenset[str] = frozenset()) -> Reply | None:
        """A product question: the closest products, narrowed and ordered as asked, ≤ 3 that differ.
        None when nothing in the catalog is related (the caller answers the other topics, or says so)."""
        hits = self.view.search(query, limit=_SCAN)
        if hits.best is None:
            if self.said.topics and self.view.get(self.state.get("focus")) is not None:
                return None  # "¿tiene cuotas el modelo ese?": about the product in view
            return self._nothing(query, hits)
        if _for_something_unknown(query, hits):
            return self._nothing(query, hits)
        best = hits.best
        in_stock = [h for h in hits if h.in_stock and h.sku not in exclude]
        asked_for_it = best.score >= 90 and (not in_stock or best.score > in_stock[0].score)
        if not best.in_stock and asked_for_it and not (wish.min_price or wish.max_price or wish.sort):
            # The closest product has none: say so, then offer what can really be sold.
            self.state.update(focus=best.sku, query=query)
            return self._offer_instead(best)
        fitting = [h for h in in_stock if wish.fits(h)]
        unmet = wish.narrows() and not fitting and bool(in_stock)
        pool = fitting if fitting else in_stock
        if unmet and (wish.max_price or wish.min_price):
            target = wish.max_price or wish.min_price or 0
            pool = sorted(in_stock, key=lambda h: abs(h.price - target))
        if wish.sort:
            # Order by price among the products that are what was asked (not the fundas of "celu").
            closest = max(h.score for h in pool)
            pool = [h for h in pool if h.score >= closest - _SORT_MARGIN]
            pool.sort(key=lambda h: (h.price if wish.sort == "cheap" else -h.price, -h.score))
        options = _distinct(pool, replies.MAX_OPTIONS)
        if not options:
            return self._nothing(query, hits)
        self.state.update(query=_without_colour(query), wish=wish.as_state())  # the colour lives in the wish
        if len(options) == 1 or (not wish.sort and _one_clear_match(options)):
            self.state.update(offered=[options[0].sku], shown=[h.sku for h in options])
            return self._about(options[0])
        self.state.update(offered=[h.sku for h in options], shown=[h.sku for h in options], focus=None)
        return replies.results(options, self._intro(hits, wish, unmet))

    def _intro(self, hits: SearchHits, wish: _Wish, unmet: bool) -> str:
        narrowing = wish.words()
        if unmet:
            return say("results_unmet", filters=narrowing[:1].upper() + narrowing[1:])
        what = " ".join(hits.matched) if hits.dropped and hits.matched else ""
        prefix = f"De {what}, " if what else ""
        if narrowing:
            prefix = (prefix + narrowing + ", ") if prefix else narrowing[:1].upper() + narrowing[1:] + ", "
        if wish.sort in ("cheap", "premium"):
            text = say(f"results_{wish.sort}", prefix=prefix)
            return text[:1].upper() + text[1:]
        if narrowing:
            return say("results_filtered", filters=prefix.rstrip(", "))
        if what:
            return say("results_what", what=what)
        return say("results")

    def _nothing(self, query: str, hits: SearchHits | None) -> Reply:
        """Nothing related is sold: say so, name what the store does sell, offer a person."""
        categories = self.view.categories()[:5]
        head = hits.unknown_head if hits is not None else None
        if not categories:
            return replies.plain_text("no_results_empty", "human")
        listed = ", ".join(categories[:-1]) + " y " + categories[-1] if len(categories) > 1 else categories[0]
        words = [w for w in query.split() if w not in load_settings().stopwords]
        shown = head if head else " ".join(words) if 0 < len(words) <= 3 else ""
        if shown:
            return replies.plain_text("no_results", "human", query=shown, categories=listed)
        return replies.plain_text("no_results_generic", "human", categories=listed)

    def _refine(self, wish: _Wish, focus: SearchHit | None) -> Reply:
        """ "¿y en negro?", "¿talle 42?", "más barato" about the last list (or product) shown."""
        query = self.state.get("query") or (focus.name if focus else "")
        merged = _Wish.remembered(self.state).merged(wish)
        if self.said.cheaper:
            shown = self.view.get_many(list(self.state.get("offered") or self.state.get("shown") or []))
            prices = [h.price for h in shown.values()] or ([focus.price] if focus else [])
            if prices:
                merged.max_price = int(min(prices)) - 1
                merged.min_price = None
            merged.sort = None
            hits = [h for h in self.view.search(query, limit=_SCAN, in_stock_only=True) if merged.fits(h)]
            hits.sort(key=lambda h: -h.price)  # the closest below what was shown first
            options = _distinct(hits, replies.MAX_OPTIONS)
            if not options:
                return replies.plain_text("no_cheaper", "human")
            self.state.update(query=query, wish=merged.as_state(), offered=[h.sku for h in options], focus=None)
            self.state["shown"] = list(self.state.get("shown") or []) + [h.sku for h in options]
            if len(options) == 1:
                return self._about(options[0])
            return replies.results(options, say("results_cheaper"))
        return self._find(query, merged) or replies.plain_text("which_product")

    def _offer_instead(self, hit: SearchHit) -> Reply:
        alternatives = self._alternatives(hit)
        self.state.update(offered=[h.sku for h in alternatives], shown=[h.sku for h in alternatives])
        return replies.out_of_stock(hit, alternatives)

    def _alternatives(self, hit: SearchHit) -> list[SearchHit]:
        """In-stock products like this one: same words first, then same brand and category."""
        found: dict[str, SearchHit] = {}
        brand = set(plain(hit.brand or "").split())
        kind = next((w for w in plain(hit.name).split() if w not in brand), "")  # "cafetera" of the name
        for query in (hit.name, f"{kind} {hit.brand or ''}", kind, hit.category or ""):
            if len(found) >= _SCAN or not query.strip():
                continue
            for other in self.view.search(query, limit=_SCAN, in_stock_only=True):
                if other.sku != hit.sku:
                    found.setdefault(other.sku, other)
        return _distinct(list(found.values()), replies.MAX_OPTIONS)

    def _more(self) -> Reply:
        focus = self.view.get(self.state.get("focus"))
        query, shown = self.state.get("query"), list(self.state.get("shown") or [])
        if not query:
            if focus is None:
                return replies.plain_text("which_product")
            query = focus.name
            shown = [focus.sku]
        wish = _Wish.remembered(self.state)
        shown_hits = self.view.get_many(shown)
        seen_keys = [_model_key(h) for h in shown_hits.values()]
        pool = [
            h
            for h in self.view.search(query, limit=_SCAN + len(shown), in_stock_only=True)
            if h.sku not in shown and wish.fits(h) and not any(len(_model_key(h) ^ k) <= 1 for k in seen_keys)
        ]
        fresh = _distinct(pool, replies.MAX_OPTIONS)
        if not fresh:
            return replies.plain_text("no_more_results", "human")
        self.state.update(query=query, offered=[h.sku for h in fresh], shown=shown + [h.sku for h in fresh])
        self.state["focus"] = None
        if len(fresh) == 1:
            return self._about(fresh[0])
        return replies.results(fresh, say("results_more"))

    def _other(self, focus: SearchHit | None) -> Reply:
        """ "¿y la otra?": the option(s) offered besides the one being discussed."""
        offered = [s for s in (self.state.get("offered") or []) if s != (focus.sku if focus else None)]
        if not offered:
            return self._more()
        products = self.view.get_many(offered)
        others = [products[s] for s in offered if s in products]
        if len(others) == 1:
            return self._about(others[0])
        self.state.update(offered=[h.sku for h in others], focus=None)
        return replies.results(others, say("other_which"))

    def _picked(self) -> SearchHit | None:
        """An offered option chosen by position ("la segunda") or by typing its name."""
        offered = list(self.state.get("offered") or [])
        if not offered:
            return None
        said = self.said
        if said.ordinal is not None:
            if -len(offered) <= said.ordinal < len(offered):
                return self.view.get(offered[said.ordinal])
            return None
        words = [w for w in said.query.split() if w not in load_settings().stopwords]
        if not words or len(words) > 5:
            return None
        products = self.view.get_many(offered)
        spoken = " ".join(fold(" ".join(words)))
        scored = sorted(
            ((fuzz.token_set_ratio(spoken, " ".join(fold(p.name))), p) for p in products.values()),
            key=lambda sp: -sp[0],
        )
        if scored and scored[0][0] >= _PICK_SCORE and (len(scored) == 1 or scored[1][0] < scored[0][0] - 5):
            return scored[0][1]
        return None


def _follow_up(query: str, focus: SearchHit | None) -> str:
    """ "¿y el 13?" right after the iPhone 15: the product being discussed, with the new number."""
    words = query.split()
    if focus is None or not any(w.isdigit() for w in words) or _is_product_query(query):
        return query
    numbers = [w for w in words if w.isdigit()]
    return " ".join([w for w in plain(focus.name).split() if not w.isdigit()] + numbers)


def _for_something_unknown(query: str, hits: SearchHits) -> bool:
    """ "funda para el sillón" when no sillón is sold, "funda para la notebook" when the fundas are
    for phones: fundas for phones would be a false offer. An accessory is defined by what it is
    for; when that word is unknown, or names a kind of product the accessories are not for, nothing fits."""
    if not hits.dropped and not hits.for_other:
        return False
    accessories = load_vocabulary().accessories
    if not any(fold_word(w) in accessories for w in hits.matched):
        return False
    words = plain(query).split()
    after_para = words[words.index("para") + 1 :] if "para" in words else []
    return bool(hits.for_other) or any(w in hits.dropped for w in after_para)


def _without_colour(query: str) -> str:
    colours = load_vocabulary().colours
    return " ".join(w for w in query.split() if fold_word(w) not in colours)


def _one_clear_match(hits: list[SearchHit]) -> bool:
    """One product stands out (a specific name was asked for), rather than a family of equals."""
    if len(hits) == 1:
        return True
    return hits[0].score == 100 and hits[1].score < 85


def _is_product_query(query: str) -> bool:
    """Some word that could name a product: not filler, not only numbers."""
    stopwords = load_settings().stopwords
    return any(w not in stopwords and not w.isdigit() and len(w) > 1 for w in query.split())
