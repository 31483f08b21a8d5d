"""python -m disclosure api|relay|consumer|all"""

from disclosure.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("disclosure", build)
