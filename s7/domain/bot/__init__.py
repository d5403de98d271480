"""What the bot says: understanding (`understand`), the turn (`turn`), the words (`replies`)."""

from s7.domain.bot.turn import CatalogView, decide, respond

__all__ = ["CatalogView", "decide", "respond"]
