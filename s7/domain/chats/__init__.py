"""The chat: BOT_ON ⇄ HUMAN_TAKEOVER, the one send path and its gate, assignment, notes,
intent and leads; one entry per inbound kind."""
