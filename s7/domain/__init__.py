"""The business: conversations, bot, intent, catalog. Free of web and WhatsApp wire formats."""
