"""The demo's fictitious after-hours numbers, shared by the demo data and the synthetic calls."""


def demo_dialled_number(code: str) -> str:
    """The fictitious after-hours number of a demo municipality: +45 88 00 <code>."""
    return f"+458800{code}"
