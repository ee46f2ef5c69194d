"""Team Ops Assistant's core: everything that is not HTTP."""

import zoneinfo

# Zone data comes from the pinned tzdata package only, never from the host's /usr/share/zoneinfo:
# conversions must not change with the machine, and host-only names (localtime, posix/..., right/...)
# must not be accepted as zones.
zoneinfo.reset_tzpath(to=[])
