"""Data protection: retention of personal data, and the right-of-access export of a caller."""
