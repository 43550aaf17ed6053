// Client-side glue of the calls area (no inline script: the CSP forbids it).
