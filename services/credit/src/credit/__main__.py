"""python -m credit api|relay|consumer|all"""

from credit.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("credit", build)
