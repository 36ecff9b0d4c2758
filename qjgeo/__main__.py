"""Allow ``python -m qjgeo``."""

from qjgeo.cli import main

if __name__ == "__main__":
    main()
