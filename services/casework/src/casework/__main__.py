"""python -m casework api|relay|consumer|all"""

from casework.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("casework", build)
