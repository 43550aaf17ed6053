"""The `hotline` command as live test servers run it: Argon2 at minimal cost, as in the tests.

At full cost every login through a live server's form takes a quarter of a second or more.
"""

from hotline.auth import service
from hotline.cli import main
from tests.hashing import CHEAP_HASHER

service._hasher = CHEAP_HASHER

if __name__ == "__main__":
    main()
