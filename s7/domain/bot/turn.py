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

from s7.domain import catalog
from s7.domain.bot import replies
from s7.domain.bot.replies import Reply, say
from s7.domain.bot.understand import PRODUCT_TOPICS, Understood, understand
from s7.domain.catalog import SearchHit, SearchHits
from s7.domain.catalog.index import load_settings
from s7.domain.chats import conversations, intent, messages
from s7.domain.models import Conversation, Message
from s7.domain.text_es import fold, plain

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
        return

    plan = decide(CatalogView(session), dict(conversation.bot_state or {}), message.text or "", selection, message.type)
    reply = plan.reply
    if reply is not None and plan.hand_off is None and _becomes_hot(conversation, points):
        # The bot goes quiet once the lead is HOT, so say now that a seller is coming;
        # buttons would only invite taps nobody answers until then.
        reply = Reply(
            f"{reply.text}\n{say('hot_handoff')}", list(reply.options) if reply.as_list else [], reply.as_list
        )
    conversation.bot_state = plan.state  # a new dict: JSON columns track assignment, not mutation
    if reply is not None and conversations.bot_may_speak(session, conversation):
        _send(session, conversation, reply)
    _add_intent(session, conversation, points, reason)
    if plan.hand_off:
        conversations.request_human(session, conversation, reason=plan.hand_off)


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
        messages.queue_outbound(
            session, conversation, author="bot", text=reply.text, options=reply.options or None, as_list=reply.as_list
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
            return self._more(focus)
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
        picked = self._picked()
        if picked is not None:
            return self._about(picked)
        focus = self.view.get(self.state.get("focus"))
        query = _follow_up(said.query, focus)
        if _is_product_query(query):
            hits = self.view.search(query, limit=replies.MAX_OPTIONS)
            narrowed = None if hits.best is not None else self._known_words(query)
            if narrowed:
                hits = self.view.search(narrowed, limit=replies.MAX_OPTIONS)
            top = hits.best
            switching = top is not None and (not said.topics or top.score >= _SWITCH_SCORE or focus is None)
            if switching and top is not None:
                if said.size is not None:
                    return self._with_size(narrowed or query, said.size)
                asked_about_it = said.topics & (PRODUCT_TOPICS | {"buy"}) or query != said.query
                if asked_about_it and _one_clear_match(hits):
                    return self._about(top)
                intro = say("results_partial", query=narrowed) if narrowed else None
                return self._results(narrowed or query, hits, intro)
            if top is None and (focus is None or not said.topics) and not said.topics & _GENERIC_TOPICS:
                return _no_results(query)
        if said.topics:
            return self._topics(focus)
        if said.greeting:
            return replies.plain_text("greeting")
        if said.thanks:
            return replies.plain_text("thanks")
        if said.bye:
            return replies.plain_text("bye")
        return replies.plain_text("fallback", "human")

    def _topics(self, focus: SearchHit | None) -> Reply:
        topics = self.said.topics
        if focus is not None and topics & (PRODUCT_TOPICS | {"buy"}):
            return self._about(focus)
        for topic in ("pickup", "shipping", "payment"):  # same order as _GENERIC_TOPICS' phrases
            if topic in topics:
                return replies.plain_text(topic)
        if "buy" in topics:
            return replies.plain_text("buy_which")
        return replies.plain_text("which_product")

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

    def _results(self, query: str, hits: SearchHits, intro: str | None = None) -> Reply:
        in_stock = [h for h in hits if h.in_stock]
        best = hits.best
        if best is not None and not best.in_stock and (not in_stock or best.score > in_stock[0].score):
            # The closest product has none: say so, then offer what can really be sold.
            self.state.update(focus=best.sku, query=query)
            return self._offer_instead(best)
        if not in_stock:
            return _no_results(query)
        self.state.update(query=query, shown=[h.sku for h in in_stock])
        if len(in_stock) == 1:
            self.state["offered"] = [in_stock[0].sku]
            return self._about(in_stock[0])
        self.state.update(offered=[h.sku for h in in_stock], focus=None)
        return replies.results(in_stock, intro or say("results"))

    def _with_size(self, query: str, size: str) -> Reply:
        """ "buzo talle M": the in-stock matches that come in that size."""
        hits = self.view.search(query, limit=_SIZE_SCAN, in_stock_only=True)
        fitting = [h for h in hits if replies.has_size(h, size)][: replies.MAX_OPTIONS]
        if len(fitting) == 1:
            return self._about(fitting[0])
        if not fitting:
            hits = self.view.search(query, limit=replies.MAX_OPTIONS)
            return self._results(query, hits, say("results_no_size", size=size))
        self.state.update(query=query, offered=[h.sku for h in fitting], shown=[h.sku for h in fitting], focus=None)
        return replies.results(fitting, say("results_size", size=size))

    def _offer_instead(self, hit: SearchHit) -> Reply:
        alternatives = self._alternatives(hit)
        self.state.update(offered=[h.sku for h in alternatives], shown=[h.sku for h in alternatives])
        return replies.out_of_stock(hit, alternatives)

    def _alternatives(self, hit: SearchHit) -> list[SearchHit]:
        """In-stock products like this one: same words first, then same brand and category."""
        found: dict[str, SearchHit] = {}
        for query in (hit.name, f"{hit.brand or ''} {hit.category or ''}", hit.category or ""):
            if len(found) >= replies.MAX_OPTIONS or not query.strip():
                continue
            for other in self.view.search(query, limit=replies.MAX_OPTIONS + 1, in_stock_only=True):
                if other.sku != hit.sku:
                    found.setdefault(other.sku, other)
        return list(found.values())[: replies.MAX_OPTIONS]

    def _more(self, focus: SearchHit | None) -> Reply:
        query, shown = self.state.get("query"), list(self.state.get("shown") or [])
        if not query:
            if focus is None:
                return replies.plain_text("which_product")
            query = focus.name
            shown = [focus.sku]
        hits = self.view.search(query, limit=len(shown) + replies.MAX_OPTIONS, in_stock_only=True)
        fresh = [h for h in hits if h.sku not in shown][: replies.MAX_OPTIONS]
        if not fresh:
            return replies.plain_text("no_more_results", "human")
        self.state.update(query=query, offered=[h.sku for h in fresh], shown=shown + [h.sku for h in fresh])
        return replies.results(fresh, say("results_more"))

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

    def _known_words(self, query: str) -> str | None:
        """The words of a query that find something on their own ("notebook" of "notebook para
        la facu"), when some do not: better to offer those than nothing."""
        stopwords = load_settings().stopwords
        candidates = [w for w in query.split() if w not in stopwords and len(w) > 1]
        known = [w for w in candidates if self.view.search(w, limit=1)]
        if known and len(known) < len(candidates):
            return " ".join(known)
        return None


def _follow_up(query: str, focus: SearchHit | None) -> str:
    """ "¿y el 13?" right after the iPhone 15: the product being discussed, with the new number."""
    words = query.split()
    if focus is None or not any(w.isdigit() for w in words) or _is_product_query(query):
        return query
    numbers = [w for w in words if w.isdigit()]
    return " ".join([w for w in plain(focus.name).split() if not w.isdigit()] + numbers)


def _no_results(query: str) -> Reply:
    words = [w for w in query.split() if w not in load_settings().stopwords]
    if len(words) > 3:  # quoting a whole sentence back reads robotic
        return replies.plain_text("no_results_generic", "human")
    return replies.plain_text("no_results", "human", query=" ".join(words) or query.strip())


def _one_clear_match(hits: SearchHits) -> bool:
    """One product stands out (a question then is about it), rather than a family of equals."""
    if len(hits) == 1:
        return True
    return len(hits) > 1 and hits[0].score == 100 and hits[1].score < 100


def _is_product_query(query: str) -> bool:
    """Some word that could name a product: not filler, not only numbers."""
    stopwords = load_settings().stopwords
    return any(w not in stopwords and not w.isdigit() and len(w) > 1 for w in query.split())
