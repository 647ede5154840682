"""simpeg_zo (bootstrap)."""
from ._profile import Profile, build_profile
