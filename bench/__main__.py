"""Run every benchmark module in bench/ (each has a main() that prints its table)."""

import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    for module in sorted((m for m in modules if not m.name.startswith("_")), key=lambda m: m.name):
        print(f"== bench/{module.name}.py")
        importlib.import_module(f"bench.{module.name}").main()
        print()


if __name__ == "__main__":
    main()
