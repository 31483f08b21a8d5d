"""python -m casework api|relay|consumer|all"""

from servicekit.runtime import main

from casework.bootstrap import build

if __name__ == "__main__":
    main("casework", build)
