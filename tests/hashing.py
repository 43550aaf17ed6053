"""Argon2 at minimal cost, for the suite's own process and the live servers it starts.

At full cost each new user and each login takes a quarter of a second or more.
"""

from argon2 import PasswordHasher

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
