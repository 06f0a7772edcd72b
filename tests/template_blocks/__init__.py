"""The block model: MJML <-> blocks, lossless both ways, and the starters as blocks."""
