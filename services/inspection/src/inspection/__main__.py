"""python -m inspection api|relay|consumer|all"""

from inspection.bootstrap import build
from servicekit.runtime import main

if __name__ == "__main__":
    main("inspection", build)
