"""Background work: the Dramatiq broker, actors (thin adapters over domain code), periodic ticks."""
