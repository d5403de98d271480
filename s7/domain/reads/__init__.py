"""Read models for the panel and the API: inbox lists, chat pages, stats."""
