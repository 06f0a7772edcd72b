"""Background work: the Dramatiq broker, actors (thin adapters over domain code), periodic ticks."""

# Actors declare themselves on Dramatiq's global broker when their module is
# imported. Importing the broker module first puts an in-process stand-in there,
# whichever actor module is imported first; otherwise Dramatiq would build its
# default network broker for the first actor, and `broker.install` (which moves
# the actors of the current global broker) would never see that actor.
from workers import broker as _broker  # noqa: F401
