// Client-side glue of the rules area (no inline script: the CSP forbids it).
