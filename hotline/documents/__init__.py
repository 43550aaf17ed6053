"""PDF documents on a letterhead: shared templates, stylesheets and fonts, and their rendering.

Below the domains: letters, bill bases, insight reports and access summaries pass their own
templates and letterhead in; nothing here imports a domain.
"""
