"""What WhatsApp costs: the admin's rate table and one charge per billed outbound message."""
