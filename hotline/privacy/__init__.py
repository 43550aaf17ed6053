"""Data protection: the right-of-access export of everything stored about one caller number."""
