"""python -m inspection api|relay|consumer|all"""

from servicekit.runtime import main

from inspection.bootstrap import build

if __name__ == "__main__":
    main("inspection", build)
