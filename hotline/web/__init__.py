"""HTML views (htmx), templates and vendored static assets."""
