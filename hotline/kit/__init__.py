"""Small generic helpers: errors, dates, security middleware; nothing domain-specific."""
