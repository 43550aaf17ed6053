// Hotline's small client-side glue; no inline script anywhere (the CSP forbids it).
