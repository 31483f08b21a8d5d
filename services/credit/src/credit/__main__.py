"""python -m credit api|relay|consumer|all"""

from servicekit.runtime import main

from credit.bootstrap import build

if __name__ == "__main__":
    main("credit", build)
