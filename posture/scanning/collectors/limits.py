"""What reading one document may cost, whichever parser reads it."""

# How many values aliases may add to a document once expanded (as JSON, storage and the
# checks see it). A few reused templates add hundreds; "billion laughs" adds billions.
MAX_ALIAS_EXPANSION = 1_000_000
