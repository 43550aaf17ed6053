"""The `hotline` command as live test servers run it: Argon2 at minimal cost, as in the tests.

At full cost every login through a live server's form takes a quarter of a second or more.
"""

from argon2 import PasswordHasher

from hotline.auth import service
from hotline.cli import main

service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

if __name__ == "__main__":
    main()
