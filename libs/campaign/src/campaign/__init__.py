"""The campaign's shared kernel (共享内核): the rules every service must apply the same way.

Deadlines and working days (the State Council's holiday calendar), the spot-check pace, the
violation code list with its texts, contact numbers, and the sources they come from. Pure
standard library plus servicekit's errors: domain layers import it. Every value that decides
what leaves the platform names its source here; a value that no source gives is marked as
local configuration (`sources.LOCAL`).
"""
