"""Letterheads, replies, PDF and e-mail rendering, the outbox and the archive."""
