"""Hotline: the agent desktop of a shared after-hours municipal hotline."""
