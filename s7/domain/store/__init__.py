"""What is true about the store: opening hours (and, later, its profile)."""
