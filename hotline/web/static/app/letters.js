// Client-side glue of the letters area (no inline script: the CSP forbids it).
