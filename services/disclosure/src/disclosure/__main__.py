"""python -m disclosure api|relay|consumer|all"""

from servicekit.runtime import main

from disclosure.bootstrap import build

if __name__ == "__main__":
    main("disclosure", build)
