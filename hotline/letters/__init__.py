"""Replies to callers: letterheads, the letter and its e-mail, the outbox, the archive."""
